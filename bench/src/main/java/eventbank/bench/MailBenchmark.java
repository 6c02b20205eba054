package eventbank.bench;

import com.icegreen.greenmail.util.GreenMail;
import com.icegreen.greenmail.util.ServerSetup;
import eventbank.core.Command;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import eventbank.server.mail.SmtpSecurity;
import eventbank.server.mail.SmtpSettings;
import eventbank.server.mail.Outbox;
import eventbank.server.mail.OutboxSettings;
import eventbank.server.mail.SmtpMailTransport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The outbox against a real SMTP server (GreenMail, in this JVM, on loopback), two figures:
 *
 * <ul>
 *   <li>{@code drain MAILS RUNS}: a journal of MAILS AccountOpened (and as many AccountVerified)
 *       written straight to disk, then an engine started on it and the outbox subscribed with the
 *       SMTP transport; timed from the subscription until GreenMail has received all MAILS
 *       verification mails and the outbox has checkpointed the last. The time includes the outbox reading the log and writing its
 *       checkpoint (one fsync per commit batch of 4,000 events).</li>
 *   <li>{@code drain-notices MAILS RUNS}: the same with withdrawal notices to 100 accounts,
 *       so that GreenMail keeps few mailboxes (see {@link #drain}).</li>
 *   <li>{@code stalled SECONDS ROUNDS}: durable commands through the engine for SECONDS, with
 *       the outbox subscribed, once in front of GreenMail ("normal") and once in front of a
 *       server that accepts the connection and never answers ("stalled"), alternating, ROUNDS
 *       times. 2,000 verified accounts; one command in 50 is a withdrawal of one cent (a mail),
 *       the rest transfers; at most 4,096 in flight. In the normal case the outbox first drains
 *       the 2,000 verification mails of the log, so both start with no backlog but what the
 *       commands make; in the stalled case it is stuck in its first attempt (the SMTP
 *       transport's 30 s timeout is longer than a phase).</li>
 * </ul>
 *
 * Disk: the journal of a drain of 20,000 mails is about 4 MB; a stalled phase of 10 s about
 * 40 bytes per command. Everything is under /tmp and deleted at the end of each run.
 */
public final class MailBenchmark {
    private static final String FROM = "eventbank <noreply@bank.example>";
    private static final int ACCOUNTS = 2_000;
    private static final int NOTICE_ACCOUNTS = 100;
    private static final int IN_FLIGHT = 4_096;
    private static final int WITHDRAWAL_EVERY = 50;

    private MailBenchmark() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 3 || !List.of("drain", "drain-notices", "stalled").contains(args[0])) {
            System.err.println("usage: MailBenchmark drain MAILS RUNS | drain-notices MAILS RUNS"
                    + " | stalled SECONDS ROUNDS");
            System.exit(2);
        }
        int size = Integer.parseInt(args[1]);
        int runs = Integer.parseInt(args[2]);
        if (args[0].startsWith("drain")) {
            boolean notices = args[0].equals("drain-notices");
            double[] rates = new double[runs];
            for (int run = 0; run < runs; run++) {
                rates[run] = drain(size, notices);
                int mails = notices ? size + NOTICE_ACCOUNTS : size;
                System.out.printf(Locale.ROOT, "[%s] run %d: %,d mails in %.2f s = %,.0f mails/s%n", args[0], run + 1,
                        mails, mails / rates[run], rates[run]);
            }
            System.out.printf(Locale.ROOT, "[%s] median of %d runs: %,.0f mails/s%n", args[0], runs,
                    Fixtures.median(rates));
        } else {
            double[] normal = new double[runs];
            double[] stalled = new double[runs];
            for (int round = 0; round < runs; round++) {
                normal[round] = commands(size, false);
                stalled[round] = commands(size, true);
                System.out.printf(Locale.ROOT, "[commands] round %d: normal %,.0f/s, stalled %,.0f/s%n", round + 1,
                        normal[round], stalled[round]);
            }
            System.out.printf(Locale.ROOT, "[commands] median of %d rounds: normal %,.0f/s, stalled %,.0f/s%n", runs,
                    Fixtures.median(normal), Fixtures.median(stalled));
        }
    }

    /**
     * Mails per second from the outbox's start until GreenMail holds every mail and the outbox
     * has checkpointed the last. {@code count} verification mails to as many accounts; or, with
     * {@code notices}, {@code count} withdrawal notices to {@link #NOTICE_ACCOUNTS} accounts (plus
     * their verification mails): GreenMail looks a mailbox up by a linear search over all of them
     * and creates one per new recipient, so N distinct recipients cost it O(N) each, where
     * notices keep it at 100 mailboxes. The withdrawals are committed through the engine before
     * the outbox is subscribed.
     */
    private static double drain(int count, boolean notices) throws Exception {
        Path directory = Fixtures.tempDirectory("eventbank-mail-drain-");
        int port = freePort();
        GreenMail smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
        smtp.start();
        try {
            JournalBuilder.build(directory, notices ? NOTICE_ACCOUNTS : count, 0, 4_000, 1);
            EngineConfig config = EngineConfig.builder(directory).serverKey(Fixtures.SERVER_KEY).build();
            try (Engine engine = Engine.start(config);
                 SmtpMailTransport transport = transport(port);
                 // No state checkpoint (null): the figure is the outbox's mail, from a fresh journal.
                 Outbox outbox = Outbox.of(engine, null, transport, OutboxSettings.of("http://localhost:8080", FROM),
                         Clock.systemUTC())) {
                if (notices) {
                    withdrawOneCentEach(engine, count);
                }
                // AccountOpened are seqs 1 to count; withdrawals come last.
                long lastMailSeq = notices ? engine.committedSeq() : count;
                int mails = notices ? NOTICE_ACCOUNTS + count : count;
                long start = System.nanoTime();
                engine.subscribe(outbox);
                if (!smtp.waitForIncomingEmail(600_000, mails)) {
                    throw new IllegalStateException("GreenMail received " + smtp.getReceivedMessages().length
                            + " of " + mails + " mails in 10 minutes");
                }
                // The last mail is in GreenMail before the transport returns; the run ends when the
                // outbox has checkpointed it.
                while (outbox.checkpointSeq() < lastMailSeq) {
                    Thread.onSpinWait();
                }
                double seconds = (System.nanoTime() - start) / 1e9;
                if (outbox.mailsSent() != mails || outbox.sendFailures() != 0) {
                    throw new IllegalStateException("sent " + outbox.mailsSent() + ", failed " + outbox.sendFailures());
                }
                return mails / seconds;
            }
        } finally {
            smtp.stop();
            Fixtures.deleteRecursively(directory);
        }
    }

    /** Commits {@code count} withdrawals of one cent, round robin over the notice accounts. */
    private static void withdrawOneCentEach(Engine engine, int count) throws InterruptedException {
        Semaphore permits = new Semaphore(IN_FLIGHT);
        for (int i = 0; i < count; i++) {
            permits.acquire();
            engine.submit(new Command.Withdraw(Fixtures.accountNumber(i % NOTICE_ACCOUNTS), 1, null))
                    .whenComplete((outcome, failure) -> {
                        if (!(outcome instanceof Outcome.Committed)) {
                            throw new IllegalStateException("a withdrawal was not committed: " + outcome);
                        }
                        permits.release();
                    });
        }
        permits.acquire(IN_FLIGHT);
    }

    /** Committed commands per second for {@code seconds}, the outbox in front of a working or a stalled server. */
    private static double commands(int seconds, boolean stalledServer) throws Exception {
        Path directory = Fixtures.tempDirectory("eventbank-mail-commands-");
        int port = freePort();
        GreenMail smtp = null;
        StalledSmtpServer stalled = null;
        if (stalledServer) {
            stalled = new StalledSmtpServer(port);
        } else {
            smtp = new GreenMail(new ServerSetup(port, "127.0.0.1", ServerSetup.PROTOCOL_SMTP));
            smtp.start();
        }
        try {
            JournalBuilder.build(directory, ACCOUNTS, 0, 4_000, 1);
            EngineConfig config = EngineConfig.builder(directory).serverKey(Fixtures.SERVER_KEY).build();
            Engine engine = Engine.start(config);
            SmtpMailTransport transport = transport(port);
            Outbox outbox = Outbox.of(engine, null, transport, OutboxSettings.of("http://localhost:8080", FROM),
                    Clock.systemUTC());
            try {
                engine.subscribe(outbox);
                if (stalledServer) {
                    stalled.awaitConnection();
                } else if (!smtp.waitForIncomingEmail(300_000, ACCOUNTS)) {
                    throw new IllegalStateException("the outbox did not drain the log's verification mails");
                }
                long mailsBefore = outbox.mailsSent();
                double rate = run(engine, seconds);
                System.out.printf(Locale.ROOT, "[commands] %s: %,.0f commands/s; the outbox sent %,d mails meanwhile,"
                        + " its checkpoint at seq %,d of %,d%n", stalledServer ? "stalled" : "normal", rate,
                        outbox.mailsSent() - mailsBefore, outbox.checkpointSeq(), engine.committedSeq());
                return rate;
            } finally {
                if (stalled != null) {
                    stalled.close(); // ends the outbox's hanging attempt
                }
                outbox.close();
                engine.close();
                transport.close();
            }
        } finally {
            if (smtp != null) {
                smtp.stop();
            }
            Fixtures.deleteRecursively(directory);
        }
    }

    /** Submits transfers and, one in {@link #WITHDRAWAL_EVERY}, withdrawals; answers commits per second. */
    private static double run(Engine engine, int seconds) throws InterruptedException {
        Command.TransferMoney[] transfers = Fixtures.transfers(1 << 16, ACCOUNTS, 100, 7);
        Semaphore permits = new Semaphore(IN_FLIGHT);
        LongAdder committed = new LongAdder();
        LongAdder other = new LongAdder();
        long start = System.nanoTime();
        long end = start + TimeUnit.SECONDS.toNanos(seconds);
        long submitted = 0;
        while (System.nanoTime() < end) {
            permits.acquire();
            Command command = submitted % WITHDRAWAL_EVERY == 0
                    ? new Command.Withdraw(Fixtures.accountNumber((int) (submitted / WITHDRAWAL_EVERY % ACCOUNTS)), 1,
                    null)
                    : transfers[(int) (submitted & 0xFFFF)];
            submitted++;
            engine.submit(command).whenComplete((outcome, failure) -> {
                if (outcome instanceof Outcome.Committed) {
                    committed.increment();
                } else {
                    other.increment();
                }
                permits.release();
            });
        }
        permits.acquire(IN_FLIGHT);
        double elapsed = (System.nanoTime() - start) / 1e9;
        if (other.sum() > 0) {
            System.out.printf(Locale.ROOT, "[commands] %,d replies were not commits%n", other.sum());
        }
        return committed.sum() / elapsed;
    }

    private static SmtpMailTransport transport(int port) {
        return new SmtpMailTransport(new SmtpSettings("127.0.0.1", port, SmtpSecurity.NONE, null, null),
                "noreply@bank.example");
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Accepts connections and never says a word: an SMTP server that hangs. */
    private static final class StalledSmtpServer implements AutoCloseable {
        private final ServerSocket socket;
        private final List<Socket> clients = new ArrayList<>();
        private final Thread thread;

        StalledSmtpServer(int port) throws IOException {
            socket = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
            thread = Thread.ofPlatform().daemon().start(() -> {
                while (!socket.isClosed()) {
                    try {
                        Socket client = socket.accept();
                        synchronized (clients) {
                            clients.add(client);
                            clients.notifyAll();
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        void awaitConnection() throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            synchronized (clients) {
                while (clients.isEmpty()) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) {
                        throw new IllegalStateException("the outbox never connected");
                    }
                    clients.wait(left);
                }
            }
        }

        @Override
        public void close() throws IOException, InterruptedException {
            socket.close();
            synchronized (clients) {
                for (Socket client : clients) {
                    client.close();
                }
            }
            thread.join(5_000);
        }
    }
}
