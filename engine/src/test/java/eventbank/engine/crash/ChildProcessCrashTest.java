package eventbank.engine.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Recorded;
import eventbank.engine.history.Verifier;
import eventbank.engine.journal.FileJournal;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.FileStorage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a real engine process ({@link CrashChild}) with SIGKILL at random moments, restarts it
 * on the same data directory each time, and checks after every kill that nothing it
 * acknowledged was lost or changed: every ACKed idempotency key is in the journal exactly once,
 * with the seq, type, accounts and amount the child was told; no key is in the journal twice;
 * {@link Verifier} finds the checksums, the hash chain, the snapshots and the money invariant in
 * order. See docs/CRASH-TESTING.md.
 *
 * <p>System properties for longer runs by hand: {@code crash.kills} (default 22),
 * {@code crash.acksMax} (a kill comes after a random 1 to this many ACK lines; default 3000),
 * {@code crash.seed} (to repeat a run; printed at the start), {@code crash.keepDataDir} (a
 * directory to copy the data directory into at the end).
 */
class ChildProcessCrashTest {
    private static final int KILLS_DEFAULT = 22;
    private static final int ACKS_MAX_DEFAULT = 3_000;
    /** One kill in this many comes at a random time after the start, wherever the child is then. */
    private static final int EARLY_KILL_ONE_IN = 5;
    private static final long EARLY_KILL_MILLIS_MAX = 1_500;
    private static final long ACKS_WAIT_SECONDS_MAX = 60;
    private static final long CHILD_SECONDS_MAX = 120;
    /** The exit status a shell reports for a process killed by a signal: 128 + its number. */
    private static final int EXIT_SIGKILL = 128 + 9;
    private static final int EXIT_SIGTERM = 128 + 15;

    @TempDir
    Path temporary;

    /** One acknowledgement as the child printed it. */
    record Ack(long key, long seq, String type, long from, long to, long amount) {}

    @Test
    void nothingAcknowledgedIsLostWhenTheProcessIsKilled() throws Exception {
        long seed = Long.getLong("crash.seed", System.nanoTime());
        int kills = Integer.getInteger("crash.kills", KILLS_DEFAULT);
        int acksMax = Integer.getInteger("crash.acksMax", ACKS_MAX_DEFAULT);
        System.out.printf("ChildProcessCrashTest: seed %d, %d kills (repeat with -Dcrash.seed=%d)%n",
                seed, kills, seed);
        SplittableRandom random = new SplittableRandom(seed);
        Path data = temporary.resolve("data");
        Map<Long, Ack> acks = new HashMap<>();
        long started = System.nanoTime();
        long replays = 0;
        Verifier.Report report = null;
        for (int round = 1; round <= kills; round++) {
            Child child = Child.start(data, temporary.resolve("child.stderr"), random.nextLong());
            String when;
            if (random.nextInt(EARLY_KILL_ONE_IN) == 0) {
                long millis = random.nextLong(EARLY_KILL_MILLIS_MAX + 1);
                Thread.sleep(millis);
                when = millis + " ms after the start";
            } else {
                int target = 1 + random.nextInt(acksMax);
                child.awaitAcks(target);
                when = "after " + target + " ACKs";
            }
            child.kill();
            replays += child.count("REPLAY ");
            record(child, acks);
            long checkStarted = System.nanoTime();
            report = check(data, acks, child);
            System.out.printf("round %d: killed %s; %d ACKs seen (%d in all), journal at seq %d, %d warnings, "
                            + "checked in %d ms%n", round, when, child.acks.size(), acks.size(), report.lastSeq(),
                    report.warnings().size(), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - checkStarted));
            report.warnings().forEach(warning -> System.out.println("  warning: " + warning));
        }
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        System.out.printf("ChildProcessCrashTest: %d kills, %d ACKs checked, %d replays checked, %d events, "
                        + "%d segments, %d torn tails quarantined, %d s, seed %d%n",
                kills, acks.size(), replays, report.events(), segments(data), quarantined(data), seconds, seed);
        assertThat(acks).as("the child acknowledged something before its kills").isNotEmpty();
        String keep = System.getProperty("crash.keepDataDir");
        if (keep != null) {
            copyTree(data, Path.of(keep));
        }
    }

    /** Keeps what the kills left behind, for looking at with ./eventbank events and verify. */
    private static void copyTree(Path from, Path to) throws java.io.IOException {
        try (var paths = java.nio.file.Files.walk(from)) {
            for (Path path : (Iterable<Path>) paths::iterator) {
                Path target = to.resolve(from.relativize(path).toString());
                if (java.nio.file.Files.isDirectory(path)) {
                    java.nio.file.Files.createDirectories(target);
                } else if (!path.getFileName().toString().equals("LOCK")) {
                    java.nio.file.Files.copy(path, target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
    }

    @Test
    void sigtermClosesTheEngineCleanly() throws Exception {
        Path data = temporary.resolve("data");
        Map<Long, Ack> acks = new HashMap<>();
        Child child = Child.start(data, temporary.resolve("child.stderr"), 42);
        child.awaitAcks(2_000);
        // Through the process handle, as in kill(): Process.destroy() would close our end of the pipes.
        assertThat(child.process.toHandle().destroy()).isTrue();
        assertThat(child.process.waitFor(30, TimeUnit.SECONDS)).as("the child exits on SIGTERM").isTrue();
        child.reader.join();
        assertThat(child.process.exitValue()).as("exit status after SIGTERM; stderr:%n%s", child.stderr())
                .isEqualTo(EXIT_SIGTERM);
        record(child, acks);
        Verifier.Report report = check(data, acks, child);
        assertThat(report.warnings()).as("a clean shutdown leaves no torn write").isEmpty();
        // The next start finds it all and goes on.
        Child again = Child.start(data, temporary.resolve("child.stderr"), 43);
        again.awaitAcks(100);
        again.kill();
        record(again, acks);
        check(data, acks, again);
    }

    /** Adds a child's ACKs to those of earlier rounds; a key acknowledged twice is lost history. */
    private static void record(Child child, Map<Long, Ack> acks) {
        for (Ack ack : child.acks) {
            Ack earlier = acks.putIfAbsent(ack.key(), ack);
            if (earlier != null) {
                fail("key %d was acknowledged twice: %s and %s", ack.key(), earlier, ack);
            }
        }
    }

    /** Checks the data directory against everything acknowledged so far. */
    private static Verifier.Report check(Path data, Map<Long, Ack> acks, Child child) throws IOException {
        Verifier.Report report = Verifier.verify(new FileStorage(), data, CrashChild.IDEMPOTENCY_WINDOW_MICROS);
        assertThat(report.problems()).as("Verifier problems; child stderr:%n%s", child.stderr()).isEmpty();
        assertThat(child.lines("BADREPLAY ")).as("resubmitted keys not replayed").isEmpty();
        Map<String, Recorded> byKey = journalByKey(data);
        for (Ack ack : acks.values()) {
            Recorded recorded = byKey.get(Long.toString(ack.key()));
            if (recorded == null) {
                fail("key %d was acknowledged as seq %d but is not in the journal (at seq %d); stderr:%n%s",
                        ack.key(), ack.seq(), report.lastSeq(), child.stderr());
            }
            assertThat(asAck(ack.key(), recorded)).as("the journal's event for key %d", ack.key()).isEqualTo(ack);
        }
        for (String line : child.lines("REPLAY ")) {
            String[] fields = line.split(" ");
            assertThat(byKey.get(fields[1])).as("the replayed key %s", fields[1]).isNotNull();
            assertThat(byKey.get(fields[1]).seq()).as("the seq replayed for key %s", fields[1])
                    .isEqualTo(Long.parseLong(fields[2]));
        }
        return report;
    }

    /**
     * Every keyed event of the journal by its key; a key found twice fails the test. The hash
     * chain is not checked again here: the Verifier has just done it.
     */
    private static Map<String, Recorded> journalByKey(Path data) throws IOException {
        Map<String, Recorded> byKey = new HashMap<>();
        try (JournalReader reader = new JournalReader(new FileStorage(), data.resolve("journal"), false)) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                batch.forEach(recorded -> {
                    Idempotency idempotency = Event.idempotencyOf(recorded.event());
                    if (idempotency != null) {
                        Recorded earlier = byKey.putIfAbsent(idempotency.key(), recorded);
                        if (earlier != null) {
                            fail("key %s is in the journal twice: %s and %s", idempotency.key(), earlier, recorded);
                        }
                    }
                });
            }
        }
        return byKey;
    }

    private static Ack asAck(long key, Recorded recorded) {
        return switch (recorded.event()) {
            case Event.MoneyTransferred e -> new Ack(key, recorded.seq(), CrashChild.TRANSFER,
                    e.fromAccountNumber(), e.toAccountNumber(), e.amount());
            case Event.MoneyWithdrawn e -> new Ack(key, recorded.seq(), CrashChild.WITHDRAWAL,
                    e.accountNumber(), 0, e.amount());
            default -> throw new AssertionError("key " + key + " belongs to " + recorded);
        };
    }

    private static long quarantined(Path data) throws IOException {
        Path quarantine = data.resolve("journal").resolve(FileJournal.QUARANTINE_DIRECTORY);
        if (!Files.isDirectory(quarantine)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(quarantine)) {
            return files.count();
        }
    }

    private static long segments(Path data) throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("journal"))) {
            return files.filter(file -> file.toString().endsWith(".seg")).count();
        }
    }

    /** A running CrashChild and the thread that reads its standard output. */
    private static final class Child {
        final Process process;
        final Path stderrFile;
        final Thread reader;
        final List<Ack> acks = new ArrayList<>();
        final List<String> lines = new ArrayList<>();
        final AtomicLong ackCount = new AtomicLong();
        volatile IOException readFailure;

        private Child(Process process, Path stderrFile) {
            this.process = process;
            this.stderrFile = stderrFile;
            this.reader = new Thread(this::read, "crash-child-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        static Child start(Path data, Path stderrFile, long seed) throws IOException {
            ProcessBuilder builder = new ProcessBuilder(javaBinary(), "-ea", "-Xmx512m", "-XX:+UseSerialGC",
                    "-cp", classPath(), CrashChild.class.getName(),
                    data.toString(), Long.toString(seed), Long.toString(CHILD_SECONDS_MAX));
            builder.redirectError(stderrFile.toFile());
            // Standard input stays an open pipe: the child halts when it closes (we died).
            return new Child(builder.start(), stderrFile);
        }

        /**
         * The class path of this JVM. Surefire starts its test JVM from a manifest-only booter jar
         * (recorded as {@code surefire.real.class.path}) and sets {@code java.class.path} and
         * {@code surefire.test.class.path} to the real entries (checked with surefire 3.5.4), so
         * the child gets the directories and jars themselves. The booter jar would do too, as the
         * JVM follows a jar's Class-Path, but it is deleted when the test JVM ends.
         */
        static String classPath() {
            String surefire = System.getProperty("surefire.test.class.path");
            return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
        }

        static String javaBinary() {
            return ProcessHandle.current().info().command()
                    .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        }

        private void read() {
            try (BufferedReader lines = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("ACK ")) {
                        String[] f = line.split(" ");
                        Ack ack = new Ack(Long.parseLong(f[1]), Long.parseLong(f[2]), f[3], Long.parseLong(f[4]),
                                f[5].equals("-") ? 0 : Long.parseLong(f[5]), Long.parseLong(f[6]));
                        synchronized (this) {
                            acks.add(ack);
                        }
                        ackCount.incrementAndGet();
                    } else if (!line.startsWith("REJ ")) {
                        synchronized (this) {
                            this.lines.add(line);
                        }
                    }
                }
            } catch (IOException e) {
                readFailure = e;
            }
        }

        void awaitAcks(long target) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(ACKS_WAIT_SECONDS_MAX);
            while (ackCount.get() < target) {
                if (!process.isAlive()) {
                    reader.join();
                    fail("the child exited with %d after %d ACKs; stderr:%n%s", process.exitValue(), ackCount.get(),
                            stderr());
                }
                if (System.nanoTime() > deadline) {
                    process.destroyForcibly();
                    fail("only %d of %d ACKs in %d s; stderr:%n%s", ackCount.get(), target, ACKS_WAIT_SECONDS_MAX,
                            stderr());
                }
                Thread.sleep(1);
            }
        }

        /**
         * SIGKILL, then reads what the child wrote before it died. On Linux the process handle's
         * {@link ProcessHandle#destroyForcibly()} sends signal 9, which the exit status 137 (128 + 9)
         * confirms. Not {@link Process#destroyForcibly()}: that also closes our end of the child's
         * standard output, and the ACK lines still in the pipe would be lost to the check.
         */
        void kill() throws InterruptedException {
            assertThat(process.toHandle().destroyForcibly()).as("SIGKILL sent").isTrue();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the child died").isTrue();
            reader.join();
            assertThat(process.exitValue()).as("exit status after SIGKILL; stderr:%n%s", stderr())
                    .isEqualTo(EXIT_SIGKILL);
            assertThat(readFailure).as("reading the child's output").isNull();
            assertThat(lines("UNAVAILABLE ")).as("unavailable answers before a kill").isEmpty();
        }

        synchronized List<String> lines(String prefix) {
            return lines.stream().filter(line -> line.startsWith(prefix)).toList();
        }

        long count(String prefix) {
            return lines(prefix).size();
        }

        String stderr() {
            try {
                String text = Files.readString(stderrFile);
                return text.length() > 4_000 ? text.substring(text.length() - 4_000) : text;
            } catch (IOException e) {
                return "(stderr unreadable: " + e + ")";
            }
        }
    }
}
