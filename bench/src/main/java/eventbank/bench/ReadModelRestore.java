package eventbank.bench;

import eventbank.core.Limits;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.server.readmodel.AccountsReadModel;
import eventbank.server.readmodel.Checkpoints;
import eventbank.server.readmodel.OperationsReadModel;
import eventbank.server.readmodel.ReadModel;
import eventbank.server.readmodel.ReadModelFeed;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * How long the accounts and operations read models take to start from their checkpoints
 * ({@link ReadModel#start}: the file's CRCs, its chain hash checked against the journal, and
 * the state loaded). A journal of {@code --accounts} accounts opened (emails of 22 to 24
 * characters, bcrypt-shaped hashes of 60) and verified, then {@code --keyed-transfers}
 * transfers, each under a key of its own (36 characters), all within the idempotency window so
 * that the operations model keeps every one; the two models are fed it through an engine and
 * write their checkpoints at its clean stop. Then each model is restored {@code --runs} times in
 * this JVM (the first with the JIT cold) and {@code --cold-runs} times in a fresh JVM each (with
 * this JVM's options), as a server starts. Most of a fresh JVM's time is the first touch of the
 * heap's memory the state fills (page faults); {@code -XX:+UseTransparentHugePages} halves it
 * where the kernel allows it ({@code madvise}).
 *
 * <pre>
 * java -Xmx4g -cp bench/target/benchmarks.jar eventbank.bench.ReadModelRestore \
 *     [--accounts 1000000] [--keyed-transfers 1000000] [--runs 5] [--cold-runs 3] [--directory DIR]
 * </pre>
 *
 * With {@code --directory}, the journal and the checkpoints are made there unless they already
 * are (delete {@code readmodels} there to have them written again), and kept, for profiling.
 *
 * Disk: about 45 bytes an event for the journal, 136 bytes an account for the accounts
 * checkpoint, 16 an account and 80 an operation for the operations one; deleted at the end.
 */
public final class ReadModelRestore {
    private static final long WINDOW_MICROS = Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT;
    private static final List<String> MODELS = List.of("accounts", "operations");
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private ReadModelRestore() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 3 && args[0].equals("--restore-once")) {
            restoreOnce(Path.of(args[1]), args[2]);
            return;
        }
        int accounts = 1_000_000;
        long keyedTransfers = 1_000_000;
        int runs = 5;
        int coldRuns = 3;
        Path kept = null;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--accounts" -> accounts = Integer.parseInt(args[i + 1]);
                case "--keyed-transfers" -> keyedTransfers = Long.parseLong(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--cold-runs" -> coldRuns = Integer.parseInt(args[i + 1]);
                case "--directory" -> kept = Path.of(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path directory = kept != null ? kept : Fixtures.tempDirectory("eventbank-restore-");
        try {
            if (!Files.exists(directory.resolve("journal"))) {
                long started = System.nanoTime();
                JournalBuilder.Built built = JournalBuilder.build(directory, accounts, keyedTransfers, 4_000, 11, true, true);
                System.out.printf(Locale.ROOT, "journal: %,d events, %,d accounts, %,.0f MB, built in %.1f s%n",
                        built.lastSeq(), accounts, built.bytes() / 1e6, (System.nanoTime() - started) / 1e9);
            }
            if (!Files.exists(directory.resolve("readmodels"))) {
                writeCheckpoints(directory);
            }
            for (String model : MODELS) {
                Path file = directory.resolve("readmodels").resolve(model + ".checkpoint");
                System.out.printf(Locale.ROOT, "%s checkpoint: %,.1f MB%n", model, Files.size(file) / 1e6);
            }
            try (Engine engine = Engine.start(EngineConfig.defaults(directory))) {
                for (String model : MODELS) {
                    double[] millis = new double[runs];
                    for (int run = 0; run < runs; run++) {
                        millis[run] = timeRestore(engine, directory, model);
                    }
                    System.out.printf(Locale.ROOT, "%s restore in this JVM: median %.0f ms, first %.0f ms%n", model,
                            Fixtures.median(millis), millis[0]);
                }
            }
            for (String model : MODELS) {
                System.out.printf(Locale.ROOT, "%s restore in a fresh JVM (ms): %s%n", model,
                        String.join(", ", coldRestores(directory, model, coldRuns)));
            }
        } finally {
            if (kept == null) {
                Fixtures.deleteRecursively(directory);
            }
        }
    }

    private static Checkpoints checkpoints(Engine engine, Path directory) {
        return new Checkpoints(engine.config().storage(), directory, engine::newReader, engine::committedSeq,
                Long.MAX_VALUE);
    }

    private static ReadModel model(String name, Checkpoints checkpoints) {
        return switch (name) {
            case "accounts" -> new AccountsReadModel(checkpoints);
            case "operations" -> new OperationsReadModel(checkpoints, WINDOW_MICROS);
            default -> throw new IllegalArgumentException("no model " + name);
        };
    }

    /** Feeds both models the whole journal through an engine, whose clean stop has them write their checkpoints. */
    private static void writeCheckpoints(Path directory) throws Exception {
        long started = System.nanoTime();
        try (Engine engine = Engine.start(EngineConfig.defaults(directory))) {
            long lastSeq = engine.committedSeq();
            Checkpoints checkpoints = checkpoints(engine, directory);
            List<ReadModel> models = MODELS.stream().map(name -> model(name, checkpoints)).toList();
            engine.subscribe(new ReadModelFeed(models));
            for (ReadModel model : models) {
                if (!model.awaitSeq(lastSeq, java.time.Duration.ofMinutes(10))) {
                    throw new IllegalStateException(model.name() + " did not catch up");
                }
            }
        }
        System.out.printf(Locale.ROOT, "models fed and checkpoints written in %.1f s%n",
                (System.nanoTime() - started) / 1e9);
    }

    /**
     * One restore, after a collection so that the runs before it are not charged to it; prints
     * the CPU time of the restoring thread and the collectors' time during it beside the wall time.
     */
    private static double timeRestore(Engine engine, Path directory, String name) {
        System.gc();
        ReadModel model = model(name, checkpoints(engine, directory));
        long gcBefore = collectionMillis();
        long cpuBefore = THREADS.getCurrentThreadCpuTime();
        long started = System.nanoTime();
        long seq = model.start();
        double millis = (System.nanoTime() - started) / 1e6;
        System.out.printf(Locale.ROOT, "  (%s: %.0f ms; its thread's CPU %.0f ms, collections %d ms)%n", name, millis,
                (THREADS.getCurrentThreadCpuTime() - cpuBefore) / 1e6, collectionMillis() - gcBefore);
        if (seq != engine.committedSeq() || model.restoreProblem() != null) {
            throw new IllegalStateException(name + " restored seq " + seq + " of " + engine.committedSeq() + ": "
                    + model.restoreProblem());
        }
        return millis;
    }

    private static long collectionMillis() {
        long millis = 0;
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            millis += Math.max(0, collector.getCollectionTime());
        }
        return millis;
    }

    private static List<String> coldRestores(Path directory, String model, int runs) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> results = new ArrayList<>();
        for (int run = 0; run < runs; run++) {
            List<String> command = new ArrayList<>(List.of(java));
            command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments()); // this JVM's options
            command.addAll(List.of("-cp", System.getProperty("java.class.path"), ReadModelRestore.class.getName(),
                    "--restore-once", directory.toString(), model));
            Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
            String millis = null;
            try (BufferedReader output = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = output.readLine()) != null; ) {
                    if (line.startsWith("restore-ms ")) {
                        millis = line.substring("restore-ms ".length());
                    } else if (line.startsWith("  (")) {
                        System.out.println("  child" + line.substring(1));
                    }
                }
            }
            if (process.waitFor() != 0 || millis == null) {
                throw new IllegalStateException("the child JVM failed with exit code " + process.exitValue());
            }
            results.add(millis);
        }
        return results;
    }

    /** The child: the engine started, then one restore of {@code model}, timed. */
    private static void restoreOnce(Path directory, String model) throws Exception {
        try (Engine engine = Engine.start(EngineConfig.defaults(directory))) {
            System.out.printf(Locale.ROOT, "restore-ms %.0f%n", timeRestore(engine, directory, model));
        }
    }
}
