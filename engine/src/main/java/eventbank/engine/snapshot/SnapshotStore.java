package eventbank.engine.snapshot;

import eventbank.core.Bank;
import eventbank.core.EmailDigests;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/** Writes, reads, lists and prunes snapshot files (see {@link SnapshotFormat}). */
public final class SnapshotStore {
    private static final int WRITE_BUFFER_BYTES = 1 << 20;

    /**
     * A snapshot read back: the bank as of {@code seq} and the journal's chain hash there, and
     * whether its email digests are under this store's digest key (else they are the snapshot's
     * own, which a bank that goes on deciding must not take: see {@link #read}).
     */
    public record Loaded(Bank bank, long seq, byte[] chainHash, boolean sameDigestKey) {}

    private final Storage storage;
    private final Path directory;
    /** The key of the banks' email digests; null when unknown. */
    private final EmailDigests emailDigests;

    /**
     * @param emailDigests the bank's digest key, which the snapshots' email digests are under;
     *                     null when it is not known here (a tool without the server key: the
     *                     snapshots still read back, as states to compare, not to go on from)
     */
    public SnapshotStore(Storage storage, Path directory, EmailDigests emailDigests) {
        this.storage = storage;
        this.directory = directory;
        this.emailDigests = emailDigests;
    }

    /**
     * A new, empty bank whose snapshots this store can write and read: under the same digest
     * key (or, without one, a key of its own).
     */
    public Bank newBank(long idempotencyWindowMicros) {
        return emailDigests == null ? new Bank(idempotencyWindowMicros)
                : new Bank(idempotencyWindowMicros, emailDigests.copy());
    }

    public Path directory() {
        return directory;
    }

    /** The seqs of the snapshots present, oldest first. */
    public List<Long> seqs() throws IOException {
        List<Long> seqs = new ArrayList<>();
        for (String name : storage.list(directory)) {
            long seq = SnapshotFormat.seqOf(name);
            if (seq > 0) {
                seqs.add(seq);
            }
        }
        return seqs;
    }

    public Path pathOf(long seq) {
        return directory.resolve(SnapshotFormat.fileName(seq));
    }

    /** Writes the bank as a snapshot at its last seq, atomically. */
    public void write(Bank bank, byte[] chainHash) throws IOException {
        storage.createDirectories(directory);
        long seq = bank.lastSeq();
        Path temporary = directory.resolve(String.format("%020d%s", seq, SnapshotFormat.TEMPORARY_SUFFIX));
        try (StorageFile file = storage.open(temporary, true)) {
            file.truncate(0);
            SnapshotWriter writer = new SnapshotWriter(file, chainHash, bank.emailDigests().keyId());
            bank.exportTo(writer);
            writer.finish();
            file.force();
        }
        storage.rename(temporary, pathOf(seq));
        storage.syncDirectory(directory);
    }

    /**
     * Reads one snapshot into a new bank with the given idempotency window. Its accounts' email
     * digests are taken as they are; {@link Loaded#sameDigestKey} says whether they are under
     * this store's key, as a bank that decides openings from it needs (the engine passes over one
     * that is not). The state digest does not depend on them, so any snapshot compares with a replay.
     *
     * @throws SnapshotCorruptException when its checksum or structure is wrong
     */
    public Loaded read(long seq, long idempotencyWindowMicros) throws IOException {
        Path path = pathOf(seq);
        ByteBuffer bytes;
        try (StorageFile file = storage.openReadOnly(path)) {
            long size = file.size();
            if (size < SnapshotFormat.HEADER_BYTES + 4 || size > Integer.MAX_VALUE - 8) {
                throw new SnapshotCorruptException(path, "its size " + size + " is impossible");
            }
            bytes = ByteBuffer.allocate((int) size);
            file.read(bytes, 0);
            bytes.flip();
        }
        int crcAt = bytes.limit() - 4;
        if (JournalFormat.crc(bytes, 0, crcAt) != bytes.getInt(crcAt)) {
            throw new SnapshotCorruptException(path, "its CRC32C does not match");
        }
        try {
            return parse(bytes.limit(crcAt), seq, newBank(idempotencyWindowMicros),
                    emailDigests == null ? null : emailDigests.keyId(), path);
        } catch (BufferUnderflowException | IllegalArgumentException | IllegalStateException e) {
            throw new SnapshotCorruptException(path, "it does not parse: " + e.getMessage());
        }
    }

    /**
     * The newest snapshot that reads back whole and satisfies {@code usable}, trying older ones
     * when one is corrupt; null when none is (start from an empty bank and replay everything).
     * Every snapshot passed over is reported to {@code warnings}.
     */
    public Loaded newestValid(long idempotencyWindowMicros, SnapshotCheck usable, Consumer<String> warnings)
            throws IOException {
        List<Long> seqs = seqs();
        for (int i = seqs.size() - 1; i >= 0; i--) {
            try {
                Loaded loaded = read(seqs.get(i), idempotencyWindowMicros);
                String problem = usable.problemWith(loaded);
                if (problem == null) {
                    return loaded;
                }
                warnings.accept("snapshot " + pathOf(seqs.get(i)) + " passed over: " + problem);
            } catch (SnapshotCorruptException e) {
                warnings.accept(e.getMessage() + "; falling back to an older snapshot");
            }
        }
        return null;
    }

    /** Decides whether a snapshot that reads back whole may be used; answers the problem or null. */
    @FunctionalInterface
    public interface SnapshotCheck {
        String problemWith(Loaded loaded) throws IOException;
    }

    /**
     * Keeps the newest {@code newestKept} snapshots and, of the older ones, the first in every
     * span of {@code historySpanEvents} seqs, so the state as of any seq is at most about one
     * span of replay away from a snapshot. Deletes the rest, leftover temporary files, and every
     * snapshot older than the newest that is not of this format and digest key: it cannot be
     * used, and one of format 1 holds unkeyed digests of emails, which must not be kept.
     */
    public void prune(int newestKept, long historySpanEvents) throws IOException {
        List<Long> seqs = seqs();
        boolean deletedForeign = false;
        for (int i = 0; i < seqs.size() - 1; i++) {
            if (!isCurrent(seqs.get(i))) {
                storage.delete(pathOf(seqs.get(i)));
                deletedForeign = true;
            }
        }
        if (deletedForeign) {
            seqs = seqs();
        }
        TreeMap<Long, Long> firstInSpan = new TreeMap<>();
        for (int i = 0; i < seqs.size() - newestKept; i++) {
            firstInSpan.putIfAbsent(seqs.get(i) / historySpanEvents, seqs.get(i));
        }
        boolean deleted = false;
        for (int i = 0; i < seqs.size() - newestKept; i++) {
            if (!firstInSpan.containsValue(seqs.get(i))) {
                storage.delete(pathOf(seqs.get(i)));
                deleted = true;
            }
        }
        for (String name : storage.list(directory)) {
            if (name.endsWith(SnapshotFormat.TEMPORARY_SUFFIX)) {
                storage.delete(directory.resolve(name));
                deleted = true;
            }
        }
        if (deleted || deletedForeign) {
            storage.syncDirectory(directory);
        }
    }

    /**
     * Deletes every snapshot before {@code seq} (and leftover temporary files): after a holder was
     * forgotten, the snapshot at {@code seq} is the first without the email's digest.
     */
    public void deleteBefore(long seq) throws IOException {
        boolean deleted = false;
        for (long older : seqs()) {
            if (older < seq) {
                storage.delete(pathOf(older));
                deleted = true;
            }
        }
        for (String name : storage.list(directory)) {
            if (name.endsWith(SnapshotFormat.TEMPORARY_SUFFIX)) {
                storage.delete(directory.resolve(name));
                deleted = true;
            }
        }
        if (deleted) {
            storage.syncDirectory(directory);
        }
    }

    /** Whether the snapshot's header names this format and this store's digest key (no CRC check). */
    private boolean isCurrent(long seq) throws IOException {
        if (emailDigests == null) {
            return true; // nothing to judge by: kept
        }
        ByteBuffer header = ByteBuffer.allocate(SnapshotFormat.HEADER_BYTES);
        try (StorageFile file = storage.openReadOnly(pathOf(seq))) {
            file.read(header, 0);
        }
        return header.position() == SnapshotFormat.HEADER_BYTES && header.getLong(0) == SnapshotFormat.MAGIC
                && header.getInt(8) == SnapshotFormat.FORMAT_VERSION && header.getLong(96) == emailDigests.keyId();
    }

    private static Loaded parse(ByteBuffer bytes, long seqFromName, Bank bank, Long keyId, Path path) {
        if (bytes.getLong(0) != SnapshotFormat.MAGIC) {
            throw new SnapshotCorruptException(path, "its magic is unknown");
        }
        int format = bytes.getInt(8);
        if (format != SnapshotFormat.FORMAT_VERSION && format != SnapshotFormat.FORMAT_UNKEYED) {
            throw new SnapshotCorruptException(path, "its format " + format + " is unknown");
        }
        boolean current = format == SnapshotFormat.FORMAT_VERSION;
        long seq = bytes.getLong(16);
        if (seq != seqFromName) {
            throw new SnapshotCorruptException(path, "it holds seq " + seq);
        }
        byte[] chainHash = new byte[JournalFormat.HASH_BYTES];
        bytes.get(32, chainHash);
        int accounts = bytes.getInt(80);
        int keys = bytes.getInt(84);
        if (accounts < 0 || (long) accounts * SnapshotFormat.ACCOUNT_BYTES > bytes.limit() - SnapshotFormat.HEADER_BYTES) {
            throw new SnapshotCorruptException(path, "it cannot hold the " + accounts + " accounts its header gives");
        }
        bank.reserveAccounts(accounts);
        // Format 1 had no forfeits, its flags were the verification alone, its digests unkeyed.
        bank.restoreCounters(seq, bytes.getLong(24), bytes.getLong(64), bytes.getLong(72),
                current ? bytes.getLong(88) : 0);
        bytes.position(SnapshotFormat.HEADER_BYTES);
        for (int i = 0; i < accounts; i++) {
            bank.restoreAccount(bytes.getLong(), bytes.getLong(), Byte.toUnsignedInt(bytes.get()), bytes.getLong(),
                    bytes.getLong(), bytes.getLong());
        }
        bank.indexRestoredAccounts();
        for (int i = 0; i < keys; i++) {
            long scope = bytes.getLong();
            long keySeq = bytes.getLong();
            long time = bytes.getLong();
            bank.restoreIdempotency(scope, getString(bytes), getString(bytes), keySeq, time);
        }
        if (bytes.hasRemaining()) {
            throw new SnapshotCorruptException(path, "it has bytes after its entries");
        }
        String broken = bank.checkInvariant();
        if (broken != null) {
            throw new SnapshotCorruptException(path, broken);
        }
        return new Loaded(bank, seq, chainHash, current && keyId != null && bytes.getLong(96) == keyId);
    }

    private static String getString(ByteBuffer bytes) {
        byte[] value = new byte[Short.toUnsignedInt(bytes.getShort())];
        bytes.get(value);
        return new String(value, StandardCharsets.UTF_8);
    }

    /** Streams the bank's export into the file through a buffer, computing the CRC as it goes. */
    private static final class SnapshotWriter implements Bank.Exporter {
        private final StorageFile file;
        private final byte[] chainHash;
        private final long keyId;
        private final ByteBuffer buffer = ByteBuffer.allocate(WRITE_BUFFER_BYTES);
        private final CRC32C crc = new CRC32C();
        private long position;
        private IOException failure;

        SnapshotWriter(StorageFile file, byte[] chainHash, long keyId) {
            this.file = file;
            this.chainHash = chainHash;
            this.keyId = keyId;
        }

        @Override
        public void counters(long lastSeq, long lastTimeMicros, long openedTotal, long withdrawnTotal,
                             long forfeitedTotal, int accountCount, int idempotencyCount) {
            buffer.putLong(SnapshotFormat.MAGIC).putInt(SnapshotFormat.FORMAT_VERSION).putInt(0)
                    .putLong(lastSeq).putLong(lastTimeMicros).put(chainHash)
                    .putLong(openedTotal).putLong(withdrawnTotal).putInt(accountCount).putInt(idempotencyCount)
                    .putLong(forfeitedTotal).putLong(keyId).put(new byte[8]);
        }

        @Override
        public void account(long number, long balance, int flags, long openedSeq, long high, long low) {
            room(SnapshotFormat.ACCOUNT_BYTES);
            buffer.putLong(number).putLong(balance).put((byte) flags).putLong(openedSeq).putLong(high).putLong(low);
        }

        @Override
        public void idempotency(long scope, String key, String fingerprint, long seq, long timeMicros) {
            byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
            byte[] fingerprintBytes = fingerprint.getBytes(StandardCharsets.UTF_8);
            room(28 + keyBytes.length + fingerprintBytes.length);
            buffer.putLong(scope).putLong(seq).putLong(timeMicros)
                    .putShort((short) keyBytes.length).put(keyBytes)
                    .putShort((short) fingerprintBytes.length).put(fingerprintBytes);
        }

        void finish() throws IOException {
            room(4);
            if (failure != null) {
                throw failure;
            }
            ByteBuffer pending = buffer.duplicate().flip();
            crc.update(pending);
            buffer.putInt((int) crc.getValue());
            flush();
            if (failure != null) {
                throw failure;
            }
        }

        private void room(int bytes) {
            if (buffer.remaining() < bytes) {
                crc.update(buffer.duplicate().flip());
                flush();
            }
        }

        private void flush() {
            buffer.flip();
            int length = buffer.remaining();
            try {
                if (failure == null) {
                    file.write(buffer, position);
                }
            } catch (IOException e) {
                failure = e;
            }
            position += length;
            buffer.clear();
        }
    }
}
