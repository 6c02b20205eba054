package eventbank.bench;

import eventbank.core.Bank;
import eventbank.core.Event;
import eventbank.core.Idempotency;
import eventbank.core.Limits;
import eventbank.engine.EngineConfig;
import eventbank.engine.ServerKey;
import eventbank.engine.journal.EventCodec;
import eventbank.engine.journal.FileJournal;
import eventbank.engine.journal.Journal;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.keys.PersonalKeys;
import eventbank.engine.keys.SealedPersonal;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.FileStorage;
import eventbank.server.mail.SentMail;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * Writes a journal quickly, straight through {@link Journal#append} in batches of a fixed size
 * (no sequencer, one fsync at the end): {@code accounts} AccountOpened, as many AccountVerified,
 * then random transfers among them (each under an idempotency key of its own, shaped like a
 * UUID, when asked for). The events are also evolved into a bank, which checks them
 * and is the state a snapshot of the journal's end would hold.
 */
final class JournalBuilder {

    /** The journal written: its state, head hash, last seq, batches and bytes on disk. */
    record Built(Bank bank, byte[] headHash, long lastSeq, long batches, long bytes) {}

    private JournalBuilder() {}

    static Built build(Path dataDirectory, int accounts, long transfers, int batchEvents, long seed) throws IOException {
        return build(dataDirectory, accounts, transfers, batchEvents, seed, false, true);
    }

    /**
     * With {@code keyed}, every transfer under an idempotency key of its own (36 characters, a
     * random UUID); with {@code sealed}, the openings' personal fields sealed as a server seals
     * them (a key store in {@code data/keys}), else in plain text as before issue 16.
     */
    static Built build(Path dataDirectory, int accounts, long transfers, int batchEvents, long seed, boolean keyed,
                       boolean sealed) throws IOException {
        Path journalDirectory = dataDirectory.resolve("journal");
        Files.createDirectories(dataDirectory);
        try (PersonalKeys keys = sealed ? PersonalKeys.open(dataDirectory, null, true) : null;
             Journal journal = FileJournal.recover(new FileStorage(), journalDirectory,
                     EngineConfig.SEGMENT_BYTES_MAX_DEFAULT, 0, null, batch -> { })) {
            // Under the digest key a server on this directory uses, so that it takes up the snapshots made of it.
            Bank bank = new Bank(Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT, keys != null ? keys.emailDigests()
                    : ServerKey.emailDigests(ServerKey.loadOrCreate(dataDirectory)));
            Built built = build(journal, bank, keys, accounts, transfers, batchEvents, seed, keyed);
            return new Built(built.bank(), built.headHash(), built.lastSeq(), built.batches(),
                    Fixtures.bytesUnder(journalDirectory));
        }
    }

    /**
     * A data directory a server can start on, as it would have left it: {@code accounts}
     * accounts opened and verified, then transfers up to {@code events} events, the snapshots
     * the server would have kept ({@link #writeHistorySnapshots}), and every mail recorded as
     * sent (so that a start mails nobody). Prints what it built and how long it took.
     */
    static Built buildServerData(Path dataDirectory, int accounts, long events) throws IOException {
        long start = System.nanoTime();
        Built built = build(dataDirectory, accounts, events - 2L * accounts, 4_000, 7);
        List<Long> snapshots = writeHistorySnapshots(dataDirectory, EngineConfig.SNAPSHOT_HISTORY_SPAN_EVENTS_DEFAULT);
        SentMail.upTo(dataDirectory, built.lastSeq());
        System.out.printf(Locale.ROOT, "journal: %,d events, %,d accounts, %,.0f MB, snapshots at %s; built in %.1f s%n",
                built.lastSeq(), accounts, built.bytes() / 1e6, snapshots, (System.nanoTime() - start) / 1e9);
        return built;
    }

    /**
     * Replays the journal of {@code dataDirectory} once and writes the snapshots a server that
     * wrote it would have kept: one at every {@link EngineConfig#SNAPSHOT_EVERY_EVENTS_DEFAULT}
     * events, each followed by pruning with the engine's default number of newest snapshots kept
     * and the first of every {@code historySpanEvents} (the engine's default:
     * {@link EngineConfig#SNAPSHOT_HISTORY_SPAN_EVENTS_DEFAULT}). Answers the seqs kept.
     */
    static List<Long> writeHistorySnapshots(Path dataDirectory, long historySpanEvents) throws IOException {
        FileStorage storage = new FileStorage();
        boolean sealed = Files.exists(PersonalKeys.storeFile(dataDirectory));
        try (PersonalKeys keys = sealed ? PersonalKeys.open(dataDirectory, null, false) : null;
             JournalReader reader = new JournalReader(storage, dataDirectory.resolve("journal"), false)) {
            // Under the digest key the server uses: the key store's when there is one.
            SnapshotStore store = keys == null ? ServerKey.snapshotsIn(storage, dataDirectory)
                    : new SnapshotStore(storage, dataDirectory.resolve("snapshots"), keys.emailDigests());
            Bank bank = store.newBank(Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                batch.forEach(keys, bank::evolve);
                if (bank.lastSeq() % EngineConfig.SNAPSHOT_EVERY_EVENTS_DEFAULT == 0) {
                    store.write(bank, reader.chainHash());
                    store.prune(EngineConfig.SNAPSHOTS_NEWEST_KEPT_DEFAULT, historySpanEvents);
                }
            }
            return store.seqs();
        }
    }

    /**
     * The same events through a journal the caller opened, empty, and closes (one in a
     * database, say); the bytes of the result are 0, since where it keeps them is its own.
     */
    static Built build(Journal journal, int accounts, long transfers, int batchEvents, long seed) throws IOException {
        return build(journal, new Bank(), null, accounts, transfers, batchEvents, seed, false);
    }

    private static Built build(Journal journal, Bank bank, PersonalKeys keys, int accounts, long transfers,
                               int batchEvents, long seed, boolean keyed) throws IOException {
        Writer writer = new Writer(journal, bank, batchEvents);
        for (int i = 0; i < accounts; i++) {
            Event.AccountOpened opening = Fixtures.opened(i);
            writer.add(keys == null ? opening : SealedPersonal.seal(keys, bank.accountCount(), opening));
        }
        if (keys != null) {
            keys.force();
        }
        for (int i = 0; i < accounts; i++) {
            writer.add(new Event.AccountVerified(Fixtures.accountNumber(i)));
        }
        SplittableRandom random = new SplittableRandom(seed);
        for (long t = 0; t < transfers; ) {
            int from = random.nextInt(accounts);
            int to = random.nextInt(accounts - 1);
            if (to >= from) {
                to++;
            }
            long amount = 1 + random.nextInt(100);
            long fromNumber = Fixtures.accountNumber(from);
            if (bank.balanceOf(fromNumber) < amount) {
                continue;
            }
            Idempotency key = keyed ? new Idempotency(new UUID(random.nextLong(), random.nextLong()).toString(), "f")
                    : null;
            writer.add(new Event.MoneyTransferred(fromNumber, Fixtures.accountNumber(to), amount, key));
            t++;
        }
        writer.flush();
        journal.force();
        return new Built(bank, journal.headHash(), journal.lastSeq(), writer.batches, 0);
    }

    private static final class Writer {
        private final Journal journal;
        private final Bank bank;
        private final int batchEvents;
        private final ByteBuffer buffer;
        private int count;
        private long firstSeq;
        long batches;

        Writer(Journal journal, Bank bank, int batchEvents) {
            this.journal = journal;
            this.bank = bank;
            this.batchEvents = batchEvents;
            this.buffer = ByteBuffer.allocateDirect(JournalFormat.BATCH_HEADER_BYTES + batchEvents * 256
                    + EventCodec.RECORD_BYTES_MAX);
            buffer.position(JournalFormat.BATCH_HEADER_BYTES);
        }

        void add(Event event) throws IOException {
            long seq = bank.lastSeq() + 1;
            long time = Fixtures.EPOCH_MICROS + seq;
            bank.evolve(seq, time, event);
            if (count == 0) {
                firstSeq = seq;
            }
            EventCodec.encode(buffer, time, event);
            if (++count == batchEvents) {
                flush();
            }
        }

        void flush() throws IOException {
            if (count == 0) {
                return;
            }
            buffer.flip();
            journal.append(buffer, firstSeq, count);
            batches++;
            count = 0;
            buffer.clear().position(JournalFormat.BATCH_HEADER_BYTES);
        }
    }
}
