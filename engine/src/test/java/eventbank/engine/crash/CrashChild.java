package eventbank.engine.crash;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.core.Recorded;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.FileStorage;
import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The process that {@link ChildProcessCrashTest} kills. It runs an engine on real files in the
 * data directory it is given, finds or opens its accounts, and then submits transfers and
 * withdrawals with many in flight, printing one line per answer as soon as it has it:
 *
 * <pre>
 * START head-seq accounts next-key             recovery and account set-up are done
 * REPLAY key seq                               a keyed command resubmitted after the restart
 *                                              was answered with its first seq
 * BADREPLAY key outcome                        ... and was not (a lost idempotency key)
 * ACK key seq type from to amount              committed, so durable; to is - for a withdrawal
 * REJ key reason                               refused by the bank's rules; nothing recorded
 * UNAVAILABLE key failure                      the engine could not answer (shutting down)
 * </pre>
 *
 * Every command carries an idempotency key: a decimal counter that goes on across restarts
 * (one more than the largest found in the journal), with a fingerprint derived from the
 * command. The child never stops by itself before its time limit (two minutes by default), and
 * it halts at once when its standard input closes, so a parent that dies cannot leave it behind.
 *
 * <p>Usage: {@code CrashChild <data dir> [seed] [seconds max]}.
 */
public final class CrashChild {
    /** The accounts the child works with; their emails are fixed, so a restart finds them. */
    static final int ACCOUNTS = 64;
    static final int IN_FLIGHT_MAX = 256;
    static final long SEGMENT_BYTES_MAX = 64 * 1024;
    static final long SNAPSHOT_EVERY_EVENTS = 1_000;
    static final int SNAPSHOTS_NEWEST_KEPT = 3;
    static final long SNAPSHOT_HISTORY_SPAN_EVENTS = 25_000;
    /**
     * Idempotency keys are kept two minutes here, not 24 hours: every snapshot holds the keys of
     * its window, and with the default a long run would write snapshots of hundreds of thousands
     * of keys. A short window also makes keys expire during replays, which is worth checking.
     * The parent's Verifier must use the same window, or the snapshots would not match replay.
     */
    static final long IDEMPOTENCY_WINDOW_MICROS = 2 * 60 * 1_000_000L;
    /** How many keyed commands from the end of the journal are resubmitted after a restart. */
    static final int REPLAYS_MAX = 16;
    /** How many events from the end of the journal a restart reads for the largest key. */
    static final long TAIL_READ_EVENTS = 4_096;
    static final long SECONDS_MAX_DEFAULT = 120;

    static final String TRANSFER = "MoneyTransferred";
    static final String WITHDRAWAL = "MoneyWithdrawn";

    private CrashChild() {}

    /** The fixed server key, so that verification codes are the same after every restart. */
    static byte[] serverKey() {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (0xC0 + i);
        }
        return key;
    }

    static EngineConfig config(Path dataDirectory) {
        return EngineConfig.builder(dataDirectory).serverKey(serverKey())
                .segmentBytesMax(SEGMENT_BYTES_MAX)
                .snapshots(SNAPSHOT_EVERY_EVENTS, SNAPSHOTS_NEWEST_KEPT, SNAPSHOT_HISTORY_SPAN_EVENTS)
                .idempotencyWindowMicros(IDEMPOTENCY_WINDOW_MICROS).build();
    }

    static String email(int index) {
        return "crash-" + index + "@example.com";
    }

    /** The fingerprint of a transfer: what the server would hash from the request body. */
    static String transferFingerprint(long from, long to, long amount) {
        return "transfer/" + from + "/" + to + "/" + amount;
    }

    static String withdrawalFingerprint(long account, long amount) {
        return "withdraw/" + account + "/" + amount;
    }

    public static void main(String[] arguments) throws Exception {
        if (arguments.length < 1) {
            System.err.println("usage: CrashChild <data dir> [seed] [seconds max]");
            System.exit(2);
        }
        Path dataDirectory = Path.of(arguments[0]);
        long seed = arguments.length > 1 ? Long.parseLong(arguments[1]) : System.nanoTime();
        long secondsMax = arguments.length > 2 ? Long.parseLong(arguments[2]) : SECONDS_MAX_DEFAULT;
        haltWhenParentGoes();
        PrintStream out = new PrintStream(new BufferedOutputStream(new FileOutputStream(FileDescriptor.out), 1 << 16),
                false, StandardCharsets.US_ASCII);
        try {
            Engine engine = Engine.start(config(dataDirectory));
            new CrashChild.Run(engine, out, new SplittableRandom(seed)).run(secondsMax);
        } catch (Throwable t) {
            // The engine's threads would keep a broken child alive: say why and stop at once.
            t.printStackTrace();
            System.err.flush();
            Runtime.getRuntime().halt(1);
        }
    }

    /** A parent that dies closes our standard input: then nobody is watching, so stop at once. */
    private static void haltWhenParentGoes() {
        Thread watcher = new Thread(() -> {
            try {
                while (System.in.read() >= 0) {
                    // The parent writes nothing; anything it does write is ignored.
                }
            } catch (IOException e) {
                System.err.println("CrashChild: standard input failed: " + e);
            }
            System.err.println("CrashChild: standard input closed, so the parent is gone: halting");
            Runtime.getRuntime().halt(4);
        }, "parent-watcher");
        watcher.setDaemon(true);
        watcher.start();
    }

    /** What the child found in the journal at start. */
    private record Found(Map<String, long[]> openedByEmail, java.util.Set<Long> verified, long keyMax,
                         List<Recorded> keyedTail) {}

    private static final class Run {
        private final Engine engine;
        private final PrintStream out;
        private final SplittableRandom random;
        private final Semaphore inFlight = new Semaphore(IN_FLIGHT_MAX);
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private volatile boolean stopping;

        Run(Engine engine, PrintStream out, SplittableRandom random) {
            this.engine = engine;
            this.out = out;
            this.random = random;
        }

        void run(long secondsMax) throws Exception {
            Thread printer = new Thread(this::print, "printer");
            printer.setDaemon(true);
            printer.start();
            // SIGTERM: stop submitting and close the engine, which finishes the commands queued.
            Thread main = Thread.currentThread();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stopping = true;
                try {
                    main.join(10_000);
                    engine.close();
                    drainPrinter();
                } catch (Exception e) {
                    e.printStackTrace();
                }
            }, "shutdown"));

            Found found = readJournal();
            long[] accounts = setUpAccounts(found);
            long key = found.keyMax() + 1;
            out.println("START " + engine.committedSeq() + " " + accounts.length + " " + key);
            out.flush();
            resubmit(found.keyedTail());

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(secondsMax);
            while (!stopping && System.nanoTime() < deadline) {
                if (!inFlight.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                    continue;
                }
                submit(key++, accounts);
            }
            // Time is up (or SIGTERM): wait for the answers in flight, then close cleanly.
            inFlight.acquire(IN_FLIGHT_MAX);
            if (!stopping) {
                engine.close();
                drainPrinter();
                out.println("DONE");
                out.flush();
                // halt, not exit: the shutdown hook would wait for this very thread.
                Runtime.getRuntime().halt(0);
            }
        }

        private void submit(long key, long[] accounts) {
            long from = accounts[random.nextInt(accounts.length)];
            String id = Long.toString(key);
            Command command;
            String describe;
            if (random.nextInt(5) == 0) {
                long amount = 1 + random.nextInt(10);
                command = new Command.Withdraw(from, amount, new Idempotency(id, withdrawalFingerprint(from, amount)));
                describe = WITHDRAWAL + " " + from + " - " + amount;
            } else {
                long to = accounts[random.nextInt(accounts.length)];
                if (to == from) {
                    // A same-account transfer is refused; a few of them keep REJ lines in the mix.
                    to = random.nextInt(50) == 0 ? from : accounts[(indexOf(accounts, from) + 1) % accounts.length];
                }
                long amount = 1 + random.nextInt(2_000);
                command = new Command.TransferMoney(from, to, amount,
                        new Idempotency(id, transferFingerprint(from, to, amount)));
                describe = TRANSFER + " " + from + " " + to + " " + amount;
            }
            engine.submit(command).whenComplete((outcome, error) -> {
                String line = switch (outcome) {
                    case Outcome.Committed c -> "ACK " + id + " " + c.seq() + " " + describe;
                    case Outcome.Rejected r -> "REJ " + id + " " + r.reason().code();
                    case Outcome.Replayed r -> "BADREPLAY " + id + " fresh-key-replayed-as-" + r.seq();
                    case Outcome.Unavailable u -> "UNAVAILABLE " + id + " " + u.failure().code();
                    case Outcome.CommittedOneByOne c -> "BADBATCH " + id + " no batch was sent";
                    case null -> "UNAVAILABLE " + id + " " + error;
                };
                lines.add(line);
            });
        }

        private static int indexOf(long[] accounts, long account) {
            for (int i = 0; i < accounts.length; i++) {
                if (accounts[i] == account) {
                    return i;
                }
            }
            throw new IllegalArgumentException("no account " + account);
        }

        /** Writes answers as they come, flushing after each group, and frees their places. */
        private void print() {
            List<String> group = new ArrayList<>();
            try {
                while (true) {
                    group.add(lines.take());
                    lines.drainTo(group);
                    for (String line : group) {
                        out.println(line);
                    }
                    out.flush();
                    inFlight.release(group.size());
                    group.clear();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void drainPrinter() {
            List<String> rest = new ArrayList<>();
            lines.drainTo(rest);
            rest.forEach(out::println);
            out.flush();
        }

        /**
         * Reads the durable journal: the accounts, the largest key and the last keyed commands.
         * Only its head and its tail are read, so a restart costs the same however long the log:
         * the accounts are all opened and verified before the first transfer (each child sets
         * them up before it moves money), and keys grow with seq (one thread submits them in
         * order, and the sequencer decides in queue order), so the largest is near the end.
         */
        private Found readJournal() throws IOException {
            Map<String, long[]> opened = new HashMap<>();
            java.util.Set<Long> verified = new java.util.HashSet<>();
            long[] keyMax = {0};
            LinkedHashMap<String, Recorded> tail = new LinkedHashMap<>(16, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, Recorded> eldest) {
                    return size() > REPLAYS_MAX;
                }
            };
            Consumer<Recorded> collect = recorded -> {
                switch (recorded.event()) {
                    case Event.AccountOpened e -> opened.put(e.email(), new long[] {e.accountNumber(), recorded.seq()});
                    case Event.AccountVerified e -> verified.add(e.accountNumber());
                    case Event.MoneyTransferred e -> {
                        keyMax[0] = Math.max(keyMax[0], Long.parseLong(e.idempotency().key()));
                        tail.put(e.idempotency().key(), recorded);
                    }
                    case Event.MoneyWithdrawn e -> {
                        keyMax[0] = Math.max(keyMax[0], Long.parseLong(e.idempotency().key()));
                        tail.put(e.idempotency().key(), recorded);
                    }
                    case Event.AccountClosed e -> throw new IllegalStateException("this child closes nothing");
                    case Event.AccountForgotten e -> throw new IllegalStateException("this child forgets nothing");
                }
            };
            long head = engine.committedSeq();
            try (JournalReader reader = new JournalReader(new FileStorage(), engine.config().journalDirectory(),
                    false)) {
                reader.seek(0);
                JournalReader.Batch batch;
                while (keyMax[0] == 0 && (batch = reader.next(head)) != null) {
                    batch.forEach(engine.personalKeys(), collect);
                }
                reader.seek(Math.max(reader.nextSeq() - 1, head - TAIL_READ_EVENTS));
                while ((batch = reader.next(head)) != null) {
                    batch.forEach(engine.personalKeys(), collect);
                }
            }
            return new Found(opened, verified, keyMax[0], List.copyOf(tail.values()));
        }

        /** Opens the accounts the journal does not hold yet and verifies those not verified. */
        private long[] setUpAccounts(Found found) {
            long[] accounts = new long[ACCOUNTS];
            for (int i = 0; i < ACCOUNTS; i++) {
                long[] known = found.openedByEmail().get(email(i));
                if (known == null) {
                    Outcome outcome = engine.submit(new Command.OpenAccount(0, email(i), "not-a-real-hash",
                            Limits.OPENING_BALANCE_DEFAULT, new Idempotency("open-" + i, "open/" + email(i)))).join();
                    Recorded recorded = ((Outcome.Committed) outcome).events().get(0);
                    known = new long[] {((Event.AccountOpened) recorded.event()).accountNumber(), recorded.seq()};
                }
                accounts[i] = known[0];
                if (!found.verified().contains(known[0])) {
                    String code = engine.verificationCodes().codeFor(known[0], known[1]);
                    Outcome outcome = engine.submit(new Command.VerifyAccount(known[0], code)).join();
                    if (!(outcome instanceof Outcome.Committed)) {
                        throw new IllegalStateException("verifying " + known[0] + " answered " + outcome);
                    }
                }
            }
            return accounts;
        }

        /**
         * Resubmits the last keyed commands of the journal with their keys and bodies: each must
         * be answered with the first outcome, so idempotency keys survive the crash.
         */
        private void resubmit(List<Recorded> keyedTail) {
            for (Recorded recorded : keyedTail) {
                Command command = switch (recorded.event()) {
                    case Event.MoneyTransferred e -> new Command.TransferMoney(e.fromAccountNumber(),
                            e.toAccountNumber(), e.amount(), new Idempotency(e.idempotency().key(),
                            transferFingerprint(e.fromAccountNumber(), e.toAccountNumber(), e.amount())));
                    case Event.MoneyWithdrawn e -> new Command.Withdraw(e.accountNumber(), e.amount(),
                            new Idempotency(e.idempotency().key(),
                                    withdrawalFingerprint(e.accountNumber(), e.amount())));
                    default -> throw new IllegalStateException("only keyed money events are resubmitted");
                };
                String key = Event.idempotencyOf(recorded.event()).key();
                Outcome outcome = engine.submit(command).join();
                out.println(outcome instanceof Outcome.Replayed replayed
                        ? "REPLAY " + key + " " + replayed.seq()
                        : "BADREPLAY " + key + " " + outcome);
            }
            out.flush();
        }
    }
}
