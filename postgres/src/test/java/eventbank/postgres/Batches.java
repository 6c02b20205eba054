package eventbank.postgres;

import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Random;

/** Made-up batches of records of every kind and size, appended alike to several journals. */
final class Batches {
    private final Random random;

    Batches(long seed) {
        this.random = new Random(seed);
    }

    /** Appends one batch of {@code count} records to each journal (the same bytes), then forces each. */
    void append(int count, Journal... journals) throws IOException {
        appendUnforced(count, journals);
        for (Journal journal : journals) {
            journal.force();
        }
    }

    /** Appends {@code batches} batches of 1 to 12 records each, forcing each journal after each batch. */
    void appendRandom(int batches, Journal... journals) throws IOException {
        for (int index = 0; index < batches; index++) {
            append(1 + random.nextInt(12), journals);
        }
    }

    /** As {@link #append}, without forcing. */
    void appendUnforced(int count, Journal... journals) throws IOException {
        ByteBuffer records = ByteBuffer.allocate(count * EventCodec.RECORD_BYTES_MAX);
        long firstSeq = journals[0].lastSeq() + 1;
        for (int index = 0; index < count; index++) {
            EventCodec.encode(records, 1_700_000_000_000_000L + firstSeq + index, event());
        }
        records.flip();
        for (Journal journal : journals) {
            ByteBuffer batch = ByteBuffer.allocateDirect(JournalFormat.BATCH_HEADER_BYTES + records.remaining());
            batch.position(JournalFormat.BATCH_HEADER_BYTES).put(records.duplicate()).flip();
            journal.append(batch, firstSeq, count);
        }
    }

    private Event event() {
        long account = 1_000_000_000_000_000L + random.nextInt(1_000);
        return switch (random.nextInt(4)) {
            case 0 -> new Event.AccountOpened(account, "user" + random.nextInt(1_000_000) + "@example.com",
                    "$2a$04$" + "x".repeat(53), 1_000_00, random.nextBoolean() ? null
                            : new Idempotency("open-" + random.nextInt(), Idempotency.NO_FINGERPRINT));
            case 1 -> new Event.AccountVerified(account);
            case 2 -> new Event.MoneyTransferred(account, account + 1, 1 + random.nextInt(100), random.nextBoolean()
                    ? null : new Idempotency("transfer-" + random.nextInt(), "f".repeat(1 + random.nextInt(64))));
            default -> new Event.MoneyWithdrawn(account, 1 + random.nextInt(100), null);
        };
    }
}
