package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.HmacVerificationCodes;
import eventbank.core.Limits;
import eventbank.core.VerificationCodes;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.cluster.Leadership;
import eventbank.engine.journal.Journal;
import eventbank.engine.storage.FileStorage;
import eventbank.engine.subscription.Subscription;
import eventbank.engine.write.Outcome;
import eventbank.postgres.PostgresJournal;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.server.http.MovableClock;
import eventbank.server.readmodel.Checkpoints;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * Nodes of a cluster on one PostgreSQL database, for the outbox's tests. A node that takes the
 * journal over gets a real engine writing it at the next epoch, in a data directory of its own.
 * Each node's outbox follows the shared journal, as a standby follows the leader's commits, up to
 * the seq the test last {@linkplain #publish published}; all nodes share the server key, so all
 * make the same mails.
 */
final class MailCluster implements AutoCloseable {
    /** How often an outbox that does not lead reads the checkpoint: often, so that tests are quick. */
    static final Duration STANDBY_POLL = Duration.ofMillis(5);
    static final VerificationCodes CODES = new HmacVerificationCodes(MailBank.SERVER_KEY);

    private final String url;
    private final Path root;
    private final AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
    final MovableClock clock = new MovableClock(MailBank.START);
    /** The seq up to which the outboxes read: what a standby knows durable. */
    private final AtomicLong durableSeq = new AtomicLong();
    /** Closed last to first: stores, engines, then subscriptions and outboxes. */
    private final List<AutoCloseable> parts = new ArrayList<>();
    private final List<Subscription> followers = new ArrayList<>();

    MailCluster(String url, Path root) {
        this.url = url;
        this.root = root;
    }

    PostgresJournalConfig config(String node) {
        return PostgresJournalConfig.of(url, null, null, node);
    }

    /** The outbox tables in the database, as {@code node} reaches them. */
    PostgresOutboxStore store(String node) {
        PostgresOutboxStore store = new PostgresOutboxStore(config(node));
        parts.add(store);
        return store;
    }

    /** The data directory of {@code node}: its engine's, and its outbox's state checkpoint's. */
    Path dataDirectoryOf(String node) {
        return root.resolve(node);
    }

    /** {@code node} takes the journal over: an engine writing it at the next epoch. */
    Leader lead(String node) throws IOException {
        AtomicReference<PostgresJournal> opened = new AtomicReference<>();
        Journal.Opener opener = (afterSeq, hash, replay, endCheck) -> {
            PostgresJournal journal = PostgresJournal.open(config(node), afterSeq, hash, replay, endCheck);
            opened.set(journal);
            return journal;
        };
        Engine engine = Engine.start(EngineConfig.builder(dataDirectoryOf(node)).serverKey(MailBank.SERVER_KEY)
                .accountNumbers(numbers::incrementAndGet).clock(clock).snapshots(0, 1, 1).journal(opener).build());
        parts.add(engine);
        return new Leader(engine, opened.get());
    }

    /**
     * An outbox on {@code store}, following the journal through {@code reader} (any node's:
     * followers read the journal they do not write) from its start; it keeps no state checkpoint.
     */
    Follower follow(OutboxStore store, Leadership leadership, MailTransport transport, Journal.Reader reader) {
        Outbox outbox = new Outbox(store, leadership, null, CODES, transport, MailBank.SETTINGS, clock,
                STANDBY_POLL);
        return follow(outbox, new Subscription(outbox, reader, durableSeq::get));
    }

    /**
     * The outbox of {@code node} on {@code store}, following the journal {@code readers} read,
     * from its state checkpoint in the node's data directory, written every {@code
     * stateEveryEvents} events and when its subscription stops.
     */
    Follower follow(String node, OutboxStore store, Leadership leadership, MailTransport transport,
                    Supplier<Journal.Reader> readers, long stateEveryEvents) {
        Checkpoints checkpoints = new Checkpoints(new FileStorage(), dataDirectoryOf(node), readers, durableSeq::get,
                stateEveryEvents);
        Outbox outbox = new Outbox(store, leadership, checkpoints, CODES, transport, MailBank.SETTINGS, clock,
                STANDBY_POLL);
        return follow(outbox, new Subscription(outbox, readers, durableSeq::get));
    }

    private Follower follow(Outbox outbox, Subscription subscription) {
        parts.add(subscription);
        parts.add(outbox);
        synchronized (followers) {
            followers.add(subscription);
        }
        return new Follower(outbox, subscription.start());
    }

    /** Lets the outboxes read up to what {@code leader} has committed, and wakes them. */
    void publish(Leader leader) {
        durableSeq.set(leader.engine.committedSeq());
        synchronized (followers) {
            followers.forEach(Subscription::committed);
        }
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        for (AutoCloseable part : parts.reversed()) {
            try {
                part.close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** A node writing the journal. Its commands are published to the outboxes once committed. */
    final class Leader {
        final Engine engine;
        final PostgresJournal journal;

        Leader(Engine engine, PostgresJournal journal) {
            this.engine = engine;
            this.journal = journal;
        }

        long epoch() {
            return journal.epoch();
        }

        /** Opens and verifies an account; answers its number and the seq of its AccountOpened. */
        MailBank.Opened openVerified(String email) {
            Outcome.Committed opened = committed(new Command.OpenAccount(0, email, "$2a$04$hash",
                    Limits.OPENING_BALANCE_DEFAULT, null));
            long number = ((Event.AccountOpened) opened.events().get(0).event()).accountNumber();
            committed(new Command.VerifyAccount(number, CODES.codeFor(number, opened.seq())));
            return new MailBank.Opened(number, opened.seq());
        }

        long withdraw(MailBank.Opened account, long cents) {
            return committed(new Command.Withdraw(account.number(), cents, null)).seq();
        }

        /** Submits the command, waits until it is committed, and publishes it to the outboxes. */
        Outcome.Committed committed(Command command) {
            Outcome outcome = engine.submit(command).join();
            assertThat(outcome).isInstanceOf(Outcome.Committed.class);
            clock.advance(Duration.ofSeconds(1));
            publish(this);
            return (Outcome.Committed) outcome;
        }
    }

    /** A node's outbox and the subscription it follows the journal by. */
    record Follower(Outbox outbox, Subscription subscription) {
        /** Waits until the outbox has handled (sent, or left to the leader) every mail up to {@code seq}. */
        void awaitHandled(long seq) throws InterruptedException {
            assertThat(subscription.awaitDelivered(seq, 20_000))
                    .as("the outbox handles up to seq %d; it stopped with %s", seq, subscription.failure()).isTrue();
        }
    }

    /** A node's leadership as the test sets it. */
    static final class TestLeadership implements Leadership {
        private volatile boolean leading;
        private volatile long epoch;

        TestLeadership(boolean leading, long epoch) {
            set(leading, epoch);
        }

        void set(boolean leads, long atEpoch) {
            this.epoch = atEpoch;
            this.leading = leads;
        }

        @Override
        public boolean leading() {
            return leading;
        }

        @Override
        public long epoch() {
            return epoch;
        }
    }
}
