package eventbank.bench;

import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.ServerKey;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.FileStorage;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Start-up time of the engine on a large journal: writes {@code --events} events (accounts
 * opened and verified, then random transfers among them; straight through Journal.append in
 * batches of {@code --batch-events}), a snapshot of the state at the end, then times
 * {@link Engine#start}:
 *
 * <ul>
 *   <li>with the snapshot (the normal case: read the snapshot, check the chain hash at its
 *       seq, nothing to replay), and
 *   <li>without it (snapshot directory moved aside, snapshotter off: full replay with the
 *       hash chain checked),
 * </ul>
 *
 * each {@code --runs} times in this JVM (JIT warm after the first) and {@code --cold-runs} times
 * in a fresh JVM (as a server starts; the time inside the JVM and the process wall time). The
 * journal stays in the page cache: this is the CPU side of start-up.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.StartupTime [--events 10000000]
 *      [--accounts 100000] [--batch-events 4000] [--runs 5] [--cold-runs 3] [--keep false]
 * </pre>
 *
 * Disk: about 40 bytes per transfer event, so about 420 MB for 10M events plus a 4 MB
 * snapshot; deleted at the end.
 */
public final class StartupTime {

    private StartupTime() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--start-once")) {
            startOnce(Path.of(args[1]), args[2].equals("snapshot"));
            return;
        }
        long events = 10_000_000;
        int accounts = 100_000;
        int batchEvents = 4_000;
        int runs = 5;
        int coldRuns = 3;
        boolean keep = false;
        for (int i = 0; i < args.length; i += 2) {
            String value = args[i + 1];
            switch (args[i]) {
                case "--events" -> events = Long.parseLong(value);
                case "--accounts" -> accounts = Integer.parseInt(value);
                case "--batch-events" -> batchEvents = Integer.parseInt(value);
                case "--runs" -> runs = Integer.parseInt(value);
                case "--cold-runs" -> coldRuns = Integer.parseInt(value);
                case "--keep" -> keep = Boolean.parseBoolean(value);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path directory = Fixtures.tempDirectory("eventbank-startup-");
        try {
            long started = System.nanoTime();
            JournalBuilder.Built built = JournalBuilder.build(directory, accounts, events - 2L * accounts,
                    batchEvents, 5);
            double buildSeconds = (System.nanoTime() - started) / 1e9;
            SnapshotStore snapshots = ServerKey.snapshotsIn(new FileStorage(), directory);
            started = System.nanoTime();
            snapshots.write(built.bank(), built.headHash());
            double snapshotSeconds = (System.nanoTime() - started) / 1e9;
            long snapshotBytes = Fixtures.bytesUnder(directory.resolve("snapshots"));
            System.out.printf(Locale.ROOT, "journal: %,d events (%,d accounts) in %,d batches, %,.1f MB, written in %.1f s; "
                            + "snapshot at seq %,d: %,.1f MB, written in %.2f s%n",
                    built.lastSeq(), accounts, built.batches(), built.bytes() / 1e6, buildSeconds,
                    built.lastSeq(), snapshotBytes / 1e6, snapshotSeconds);

            double[] withSnapshot = timeStarts(directory, true, runs, built.lastSeq());
            String[] coldWithSnapshot = coldStarts(directory, true, coldRuns);

            Path aside = directory.resolve("snapshots.aside");
            Files.move(directory.resolve("snapshots"), aside);
            double[] fullReplay = timeStarts(directory, false, runs, built.lastSeq());
            String[] coldFullReplay = coldStarts(directory, false, coldRuns);
            Files.move(aside, directory.resolve("snapshots"));

            System.out.printf(Locale.ROOT, "%nwith snapshot, in this JVM: median %.0f ms, runs %s%n",
                    Fixtures.median(withSnapshot), format(withSnapshot));
            System.out.printf(Locale.ROOT, "with snapshot, fresh JVM (Engine.start ms / process wall ms): %s%n",
                    String.join(", ", coldWithSnapshot));
            System.out.printf(Locale.ROOT, "full replay, in this JVM: median %.0f ms (%,.0f events/s), runs %s%n",
                    Fixtures.median(fullReplay), built.lastSeq() / (Fixtures.median(fullReplay) / 1e3), format(fullReplay));
            System.out.printf(Locale.ROOT, "full replay, fresh JVM (Engine.start ms / process wall ms): %s%n",
                    String.join(", ", coldFullReplay));
            System.out.printf(Locale.ROOT, "disk used: %,.1f MB (%s)%n", Fixtures.bytesUnder(directory) / 1e6,
                    keep ? "kept in " + directory + " for profiling; delete it by hand" : "deleted now");
        } finally {
            if (!keep) {
                Fixtures.deleteRecursively(directory);
            }
        }
    }

    private static EngineConfig config(Path directory, boolean snapshot) {
        EngineConfig config = EngineConfig.defaults(directory);
        // Without the snapshot the snapshotter is off too, or it would write a new one.
        return snapshot ? config : config.toBuilder().snapshots(0, 1, 1).build();
    }

    private static double[] timeStarts(Path directory, boolean snapshot, int runs, long lastSeq) throws Exception {
        double[] millis = new double[runs];
        for (int run = 0; run < runs; run++) {
            System.gc();
            long cpuBefore = CpuMeter.processNanos();
            long started = System.nanoTime();
            Engine engine = Engine.start(config(directory, snapshot));
            millis[run] = (System.nanoTime() - started) / 1e6;
            long cpu = CpuMeter.processNanos() - cpuBefore;
            try (engine) {
                if (engine.committedSeq() != lastSeq || engine.startSnapshotSeq() != (snapshot ? lastSeq : 0)) {
                    throw new IllegalStateException("started at seq " + engine.committedSeq() + " from snapshot "
                            + engine.startSnapshotSeq());
                }
            }
            System.out.printf(Locale.ROOT, "start %s #%d: %.0f ms (process CPU %.0f ms)%n",
                    snapshot ? "with snapshot" : "full replay", run + 1, millis[run], cpu / 1e6);
        }
        return millis;
    }

    /** Starts the engine in fresh JVMs; answers "inside/wall" in ms for each. */
    private static String[] coldStarts(Path directory, boolean snapshot, int runs) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String classPath = System.getProperty("java.class.path");
        List<String> results = new ArrayList<>();
        for (int run = 0; run < runs; run++) {
            long started = System.nanoTime();
            Process process = new ProcessBuilder(java, "-cp", classPath, StartupTime.class.getName(), "--start-once",
                    directory.toString(), snapshot ? "snapshot" : "replay").redirectErrorStream(true).start();
            String inside = null;
            try (BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = output.readLine()) != null; ) {
                    if (line.startsWith("engine-start-ms ")) {
                        inside = line.substring("engine-start-ms ".length());
                    } else {
                        System.out.println("  child: " + line);
                    }
                }
            }
            int exit = process.waitFor();
            long wall = (System.nanoTime() - started) / 1_000_000;
            if (exit != 0 || inside == null) {
                throw new IllegalStateException("the child JVM failed with exit code " + exit);
            }
            results.add(inside + "/" + wall);
            System.out.printf(Locale.ROOT, "cold start %s #%d: Engine.start %s ms, process %d ms%n",
                    snapshot ? "with snapshot" : "full replay", run + 1, inside, wall);
        }
        return results.toArray(String[]::new);
    }

    /** The child: one start, timed from just before Engine.start to its return. */
    private static void startOnce(Path directory, boolean snapshot) throws Exception {
        long started = System.nanoTime();
        try (Engine engine = Engine.start(config(directory, snapshot))) {
            long millis = (System.nanoTime() - started) / 1_000_000;
            System.out.println("process CPU since the JVM started: " + CpuMeter.processNanos() / 1_000_000 + " ms, JVM uptime "
                    + java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() + " ms");
            System.out.println("engine-start-ms " + millis);
        }
    }

    private static String format(double[] millis) {
        StringBuilder text = new StringBuilder();
        for (double value : millis) {
            text.append(text.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", value));
        }
        return text.toString();
    }
}
