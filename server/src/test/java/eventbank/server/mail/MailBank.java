package eventbank.server.mail;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import eventbank.engine.subscription.Subscription;
import eventbank.server.http.MovableClock;
import eventbank.server.readmodel.Checkpoints;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A data directory on real files, started and stopped as often as a test likes: a real engine
 * with a fixed server key, one clock for the engine and the outbox and account numbers the test
 * controls (they go on counting across restarts), and an outbox subscribed to it.
 */
final class MailBank {
    static final byte[] SERVER_KEY = "outbox-test-server-key-0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    static final Instant START = Instant.parse("2026-11-26T10:00:00.123456Z");
    /** Short pauses so retries take milliseconds. */
    static final OutboxSettings SETTINGS = OutboxSettings.of("http://localhost:8080/", "eventbank <noreply@bank.example>")
            .withBackoff(1, 4);

    final Path data;
    final Path outboxDirectory;
    private final AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
    final MovableClock clock = new MovableClock(START);

    MailBank(Path data) {
        this.data = data;
        this.outboxDirectory = Outbox.directoryOf(data);
    }

    /** The file transport of this data directory, printing to {@code console}. */
    FileMailTransport fileTransport(PrintStream console) {
        return new FileMailTransport(outboxDirectory, new eventbank.engine.storage.FileStorage(), console);
    }

    Running start(MailTransport transport) throws IOException {
        return start(transport, SETTINGS);
    }

    /**
     * Starts the engine on the data directory and subscribes a new outbox to it, with a state
     * checkpoint as the server's (in a test, written only when the outbox stops).
     */
    Running start(MailTransport transport, OutboxSettings settings) throws IOException {
        return start(transport, settings, Checkpoints.EVERY_EVENTS_DEFAULT);
    }

    /**
     * The same with a state checkpoint every {@code stateEveryEvents} events (and when the outbox
     * stops); none at all for 0.
     */
    Running start(MailTransport transport, OutboxSettings settings, long stateEveryEvents) throws IOException {
        Engine engine = Engine.start(engineConfig().build());
        Checkpoints checkpoints = stateEveryEvents == 0 ? null : new Checkpoints(engine.config().storage(), data,
                engine::newReader, engine::committedSeq, stateEveryEvents);
        Outbox outbox = Outbox.of(engine, checkpoints, transport, settings, clock);
        return new Running(engine, outbox, engine.subscribe(outbox));
    }

    /** The engine's configuration: a fixed server key, the test's clock and account numbers. */
    EngineConfig.Builder engineConfig() {
        return EngineConfig.builder(data).serverKey(SERVER_KEY).accountNumbers(numbers::incrementAndGet).clock(clock)
                .snapshots(0, 1, 1);
    }

    /** A console to hand to a transport, and what was printed on it. */
    static final class Console {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

        String text() {
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    /** An engine and its outbox; closing stops the outbox first, then the engine. */
    final class Running implements AutoCloseable {
        final Engine engine;
        final Outbox outbox;
        final Subscription subscription;

        Running(Engine engine, Outbox outbox, Subscription subscription) {
            this.engine = engine;
            this.outbox = outbox;
            this.subscription = subscription;
        }

        /** Opens an account; answers its number and the seq of its AccountOpened. */
        Opened open(String email) {
            Outcome.Committed outcome = committed(new Command.OpenAccount(0, email, "$2a$04$hash",
                    Limits.OPENING_BALANCE_DEFAULT, null));
            long number = ((Event.AccountOpened) outcome.events().get(0).event()).accountNumber();
            return new Opened(number, outcome.seq());
        }

        void verify(Opened account) {
            committed(new Command.VerifyAccount(account.number(),
                    engine.verificationCodes().codeFor(account.number(), account.seq())));
        }

        Outcome.Committed transfer(Opened from, Opened to, long cents) {
            return committed(new Command.TransferMoney(from.number(), to.number(), cents, null));
        }

        Outcome.Committed withdraw(Opened account, long cents) {
            return committed(new Command.Withdraw(account.number(), cents, null));
        }

        /** Submits a command stamped one second after the one before and waits until it is durable. */
        Outcome.Committed committed(Command command) {
            Outcome outcome = engine.submit(command).join();
            assertThat(outcome).isInstanceOf(Outcome.Committed.class);
            clock.advance(Duration.ofSeconds(1));
            return (Outcome.Committed) outcome;
        }

        /** Waits until the outbox has handled (sent, or found nothing to send for) the whole log. */
        void awaitOutbox() throws InterruptedException {
            long head = engine.committedSeq();
            assertThat(subscription.awaitDelivered(head, 20_000))
                    .as("the outbox handles up to seq %d; it stopped with %s", head, subscription.failure()).isTrue();
        }

        /** Waits until the outbox's subscription has stopped, and answers why. */
        Throwable awaitStopped() throws InterruptedException {
            long deadline = System.nanoTime() + 20_000_000_000L;
            while (subscription.failure() == null && System.nanoTime() < deadline) {
                subscription.awaitDelivered(Long.MAX_VALUE, 50);
            }
            assertThat(subscription.failure()).as("the outbox's subscription stopped").isNotNull();
            return subscription.failure();
        }

        @Override
        public void close() throws IOException {
            outbox.close();
            try {
                engine.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while stopping the engine", e);
            }
        }
    }

    record Opened(long number, long seq) {}
}
