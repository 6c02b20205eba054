package eventbank.engine.keys;

import eventbank.core.EmailDigests;
import eventbank.engine.storage.OwnerOnly;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.Locale;
import java.util.TreeMap;
import javax.crypto.AEADBadTagException;
import javax.crypto.Mac;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Crypto-shredding of the personal fields (DESIGN.md, "Personal data"): every account has its
 * own 256-bit data key, kept wrapped by the key-encryption key (KEK) in a slot of the key store;
 * the account's email and password hash are recorded sealed under that data key. Erasing the slot
 * makes the recorded fields unreadable for ever, in the journal and in every copy of it, while the
 * journal itself, its hash chain and its amounts stay as they are.
 *
 * <p>The store also keeps each account's keyed email digest (HMAC-SHA-256 under the store's
 * digest key, itself wrapped by the KEK), so that replay can enforce unique emails without
 * decrypting anything, and erases it with the key.
 *
 * <p>Files: the store {@code data/keys/data-keys} ({@link FileSlotStore}) and the KEK,
 * {@code keys.kek_file}, by default {@code data/keys/kek} ({@link KeyEncryptionKey}). The caller
 * chooses the slots (the account's opening ordinal). Writes ({@link #sealNew}, {@link #erase})
 * are serialised; reads ({@link #open}, {@link #storedEmailDigest}, {@link #isErased}) may run on
 * any thread at the same time.
 */
public final class PersonalKeys implements Closeable {
    static final String DIRECTORY_NAME = "keys";
    static final String STORE_FILE_NAME = "data-keys";
    static final String KEK_FILE_NAME = "kek";
    /** The suffix of the files a rotation writes before it renames them into place. */
    static final String TEMPORARY_SUFFIX = ".new";
    static final String DATA_KEY_PURPOSE = "eventbank data key";
    static final String FIELDS_PURPOSE = "eventbank personal fields";
    /** The first byte of what {@link #sealNew} answers: the layout of the sealed fields. */
    static final byte SEALED_FORMAT = 1;
    private static final int EMAIL_DIGEST_BYTES = 16;

    private final SlotStore store;
    private final KeyEncryptionKey kek;
    private final Path kekFile;
    private final SecretKeySpec digestKey;
    private final ThreadLocal<Mac> macs;
    /** Serialises the writers; readers take no lock. */
    private final Object writeLock = new Object();

    private PersonalKeys(SlotStore store, KeyEncryptionKey kek, Path kekFile, byte[] digestKey) {
        this.store = store;
        this.kek = kek;
        this.kekFile = kekFile;
        this.digestKey = new SecretKeySpec(digestKey, "HmacSHA256");
        this.macs = ThreadLocal.withInitial(this::newMac);
    }

    /** The store's file under {@code dataDirectory}: {@code keys/data-keys}. */
    public static Path storeFile(Path dataDirectory) {
        return dataDirectory.resolve(DIRECTORY_NAME).resolve(STORE_FILE_NAME);
    }

    /** Where the KEK is when {@code keys.kek_file} is not set: {@code keys/kek} in the data directory. */
    public static Path defaultKekFile(Path dataDirectory) {
        return dataDirectory.resolve(DIRECTORY_NAME).resolve(KEK_FILE_NAME);
    }

    /**
     * Opens (creating when absent and {@code create} is true) the store under {@code dataDirectory}
     * with the KEK at {@code kekFile} (null: the default place). A rotation that a crash
     * interrupted is finished or rolled back first. A store whose KEK is missing, or is another
     * key, is refused with a message naming both files: a new KEK is only ever made with a new store.
     */
    public static PersonalKeys open(Path dataDirectory, Path kekFile, boolean create) throws IOException {
        Path kekPath = kekFile != null ? kekFile : defaultKekFile(dataDirectory);
        Path storePath = storeFile(dataDirectory);
        KeyRotation.recover(storePath, kekPath);
        if (!Files.exists(storePath)) {
            if (!create) {
                throw new PersonalKeysException("there is no key store at " + storePath);
            }
            createStore(storePath, kekPath);
        }
        FileSlotStore store = FileSlotStore.open(storePath);
        try {
            KeyEncryptionKey kek = readKekOf(store, kekPath);
            return new PersonalKeys(store, kek, kekPath, unwrapDigestKey(store, kek));
        } catch (IOException | RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * Opens the store kept in {@code table} (a cluster's database) with the KEK at {@code kekFile}.
     * A table without a header gets one when {@code create} is true (a writer node: the first to
     * start makes it, with the KEK in its file, made now when absent); a node that finds another
     * KEK's header is refused, as with a file, naming the KEK it needs: every node holds a copy of
     * the same KEK file.
     */
    public static PersonalKeys open(KeyTable table, Path kekFile, boolean create) throws IOException {
        try {
            KeyRotation.recover(table, kekFile);
            byte[] headerBytes = table.header();
            if (headerBytes == null) {
                if (!create) {
                    throw new PersonalKeysException("the key store " + table.describe() + " holds no header yet:"
                            + " start a writer first");
                }
                headerBytes = table.createHeader(newHeader(kekFile));
            }
            TableSlotStore store = new TableSlotStore(table, StoreHeader.decode(headerBytes, table.describe()));
            KeyEncryptionKey kek = readKekOf(store, kekFile);
            return new PersonalKeys(store, kek, kekFile, unwrapDigestKey(store, kek));
        } catch (IOException | RuntimeException e) {
            table.close();
            throw e;
        }
    }

    /** A new header under the KEK in {@code kekFile} (made now when absent), with a new digest key. */
    private static byte[] newHeader(Path kekFile) throws IOException {
        KeyEncryptionKey kek = KeyEncryptionKey.readOrCreate(kekFile);
        byte[] digestKey = Aead.randomBytes(Aead.KEY_BYTES);
        try {
            return headerFor(kek, digestKey).encode();
        } finally {
            Arrays.fill(digestKey, (byte) 0);
        }
    }

    /**
     * From now on, this node leads the cluster's journal at writer {@code epoch}: the keys it
     * writes are written only while the journal's head is still at that epoch. Nothing for a store
     * of this node's own.
     */
    public void leadAt(long epoch) {
        if (store instanceof TableSlotStore table) {
            table.leadAt(epoch);
        }
    }

    /**
     * A new store: the KEK (made now unless the file exists: a store lost before its first key
     * leaves one behind) and a header with a new digest key, written aside and renamed into place.
     */
    private static void createStore(Path storePath, Path kekPath) throws IOException {
        OwnerOnly.createDirectories(storePath.getParent());
        KeyEncryptionKey kek = KeyEncryptionKey.readOrCreate(kekPath);
        Path temporary = KeyRotation.temporary(storePath);
        Files.deleteIfExists(temporary);
        byte[] digestKey = Aead.randomBytes(Aead.KEY_BYTES);
        try (FileSlotStore created = FileSlotStore.createNew(temporary, headerFor(kek, digestKey))) {
            created.force();
        } finally {
            Arrays.fill(digestKey, (byte) 0);
        }
        Files.move(temporary, storePath, StandardCopyOption.ATOMIC_MOVE);
        Durable.syncDirectory(storePath.getParent());
    }

    static StoreHeader headerFor(KeyEncryptionKey kek, byte[] digestKey) {
        byte[] wrapped = new byte[KeySlot.WRAPPED_KEY_BYTES];
        Aead.seal(kek.secretKey(), digestKeyAssociatedData(), digestKey, wrapped, 0);
        return new StoreHeader(kek.id(), wrapped);
    }

    private static byte[] digestKeyAssociatedData() {
        return StoreHeader.DIGEST_KEY_PURPOSE.getBytes(StandardCharsets.US_ASCII);
    }

    /** The KEK the store's header names, from {@code kekPath}; refused loudly when absent or another. */
    static KeyEncryptionKey readKekOf(SlotStore store, Path kekPath) throws IOException {
        String wanted = KeyEncryptionKey.idText(store.header().kekId());
        if (!Files.exists(kekPath)) {
            throw new PersonalKeysException("the key-encryption key file " + kekPath + " does not exist, but the key"
                    + " store " + store.describe() + " holds keys wrapped by key-encryption key " + wanted
                    + "; restore that file (it is kept apart from backups) or set keys.kek_file to where it is."
                    + " No new key is made: it could not open any of the keys already stored");
        }
        KeyEncryptionKey kek = KeyEncryptionKey.read(kekPath);
        if (kek.id() != store.header().kekId()) {
            throw new PersonalKeysException("the key-encryption key file " + kekPath + " holds key " + kek.idText()
                    + ", but the key store " + store.describe() + " holds keys wrapped by key-encryption key "
                    + wanted + "; set keys.kek_file to the file that holds " + wanted);
        }
        return kek;
    }

    static byte[] unwrapDigestKey(SlotStore store, KeyEncryptionKey kek) throws PersonalKeysException {
        byte[] wrapped = store.header().wrappedDigestKey();
        try {
            return Aead.open(kek.secretKey(), digestKeyAssociatedData(), wrapped, 0, wrapped.length);
        } catch (AEADBadTagException e) {
            throw new PersonalKeysException("the digest key in the key store " + store.describe()
                    + " does not authenticate under key-encryption key " + kek.idText() + " (damaged header)", e);
        }
    }

    /**
     * A new random data key for {@code accountNumber} in {@code slot} (overwriting the slot), its
     * keyed email digest stored with it; answers {@code email} and {@code passwordHash} sealed
     * under the data key (AES-256-GCM, random 96-bit nonce, associated data binding the account
     * number and the slot). Written, durable at the next {@link #force()}. A slot that holds an
     * erased key is refused: its account was forgotten, and its slot is never reused.
     */
    public byte[] sealNew(int slot, long accountNumber, String email, String passwordHash) throws IOException {
        byte[] dataKey = Aead.randomBytes(Aead.KEY_BYTES);
        try {
            byte[] wrappedKey = new byte[KeySlot.WRAPPED_KEY_BYTES];
            Aead.seal(kek.secretKey(), Aead.associatedData(DATA_KEY_PURPOSE, slot, accountNumber), dataKey,
                    wrappedKey, 0);
            long[] digest = emailDigest(email);
            byte[] sealed = sealFields(new SecretKeySpec(dataKey, "AES"), slot, accountNumber, email, passwordHash);
            synchronized (writeLock) {
                KeySlot held = readForWrite(slot);
                if (held != null && held.state() == KeySlot.State.ERASED) {
                    throw new PersonalKeysException("slot " + slot + " of the key store " + store.describe()
                            + " holds the erased key of account " + held.accountNumber()
                            + "; a forgotten account's slot is never given to account " + accountNumber);
                }
                store.write(slot, KeySlot.live(accountNumber, wrappedKey, digest[0], digest[1]));
            }
            return sealed;
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    /** The slot as a writer sees it, or null when its bytes are damaged (a torn write: overwritten). */
    private KeySlot readForWrite(int slot) throws IOException {
        try {
            return store.read(slot);
        } catch (PersonalKeysException damaged) {
            return null;
        }
    }

    private static byte[] sealFields(SecretKey key, int slot, long accountNumber, String email, String passwordHash) {
        byte[] emailBytes = email.getBytes(StandardCharsets.UTF_8);
        byte[] hashBytes = passwordHash.getBytes(StandardCharsets.UTF_8);
        if (emailBytes.length > 0xFFFF) {
            throw new IllegalArgumentException("an email of " + emailBytes.length + " bytes is too long to seal");
        }
        byte[] plaintext = ByteBuffer.allocate(Short.BYTES + emailBytes.length + hashBytes.length)
                .putShort((short) emailBytes.length).put(emailBytes).put(hashBytes).array();
        byte[] sealed = new byte[1 + plaintext.length + Aead.OVERHEAD_BYTES];
        sealed[0] = SEALED_FORMAT;
        Aead.seal(key, Aead.associatedData(FIELDS_PURPOSE, slot, accountNumber), plaintext, sealed, 1);
        return sealed;
    }

    /**
     * The personal fields sealed by {@link #sealNew} for this slot and account, or null when the
     * slot's key was erased (the account is forgotten). A slot that holds another account or no
     * key, and sealed bytes that do not authenticate (another slot's, or damaged), throw a
     * {@link PersonalKeysException} saying so.
     */
    public Opened open(int slot, long accountNumber, byte[] sealed) throws IOException {
        KeySlot held = slotOf(slot, accountNumber);
        if (held.state() == KeySlot.State.ERASED) {
            return null;
        }
        byte[] dataKey = unwrapDataKey(slot, held);
        byte[] plaintext;
        try {
            if (sealed.length < 1 || sealed[0] != SEALED_FORMAT) {
                throw new PersonalKeysException("the sealed personal fields of account " + accountNumber
                        + " have format " + (sealed.length < 1 ? "(none)" : sealed[0]) + ", not " + SEALED_FORMAT);
            }
            plaintext = Aead.open(new SecretKeySpec(dataKey, "AES"),
                    Aead.associatedData(FIELDS_PURPOSE, slot, accountNumber), sealed, 1, sealed.length - 1);
        } catch (AEADBadTagException e) {
            throw new PersonalKeysException("the sealed personal fields of account " + accountNumber + " do not"
                    + " authenticate under its key in slot " + slot + " (sealed for another slot or account,"
                    + " or damaged)", e);
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
        ByteBuffer fields = ByteBuffer.wrap(plaintext);
        int emailLength = Short.toUnsignedInt(fields.getShort());
        String email = new String(plaintext, Short.BYTES, emailLength, StandardCharsets.UTF_8);
        int hashOffset = Short.BYTES + emailLength;
        String passwordHash = new String(plaintext, hashOffset, plaintext.length - hashOffset, StandardCharsets.UTF_8);
        Arrays.fill(plaintext, (byte) 0);
        return new Opened(email, passwordHash);
    }

    private byte[] unwrapDataKey(int slot, KeySlot held) throws PersonalKeysException {
        try {
            return Aead.open(kek.secretKey(), Aead.associatedData(DATA_KEY_PURPOSE, slot, held.accountNumber()),
                    held.wrappedKey(), 0, KeySlot.WRAPPED_KEY_BYTES);
        } catch (AEADBadTagException e) {
            throw new PersonalKeysException("the key of account " + held.accountNumber() + " in slot " + slot
                    + " of the key store " + store.describe() + " does not authenticate under key-encryption key "
                    + kek.idText() + " (moved or damaged)", e);
        }
    }

    /** An account's personal fields in clear; its {@code toString} shows neither. */
    public record Opened(String email, String passwordHash) {
        @Override
        public String toString() {
            return "Opened[email=***, passwordHash=***]";
        }
    }

    /**
     * The bank's email digests under this store's digest key, for the banks of the engine: a
     * digest stored with a key ({@link #storedEmailDigest}) is one of these.
     */
    public EmailDigests emailDigests() {
        return new EmailDigests(digestKey.getEncoded());
    }

    /**
     * The keyed digest (HMAC-SHA-256 under the store's digest key, its first 16 bytes as two longs,
     * big-endian) of {@code email} lower-cased with {@link Locale#ROOT}.
     */
    public long[] emailDigest(String email) {
        byte[] mac = macs.get().doFinal(email.toLowerCase(Locale.ROOT).getBytes(StandardCharsets.UTF_8));
        ByteBuffer digest = ByteBuffer.wrap(mac, 0, EMAIL_DIGEST_BYTES);
        return new long[] {digest.getLong(), digest.getLong()};
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(digestKey);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no HmacSHA256", e);
        }
    }

    /**
     * The keyed email digest stored in {@code slot} at its opening (nothing is decrypted), or null
     * when the slot was erased. Reads a mapped page: no system call.
     */
    public long[] storedEmailDigest(int slot, long accountNumber) throws IOException {
        KeySlot held = store.readAhead(slot);
        if (held.state() == KeySlot.State.EMPTY || held.accountNumber() != accountNumber) {
            // Read ahead before this opening's batch took the slot (another leader's opening that
            // never committed held it then): the slot as it is now.
            held = store.read(slot);
        }
        held = checked(held, slot, accountNumber);
        return held.state() == KeySlot.State.ERASED ? null : new long[] {held.digestHigh(), held.digestLow()};
    }

    public boolean isErased(int slot, long accountNumber) throws IOException {
        return slotOf(slot, accountNumber).state() == KeySlot.State.ERASED;
    }

    /** The slot, checked to belong to the account and to hold a key, live or erased. */
    private KeySlot slotOf(int slot, long accountNumber) throws IOException {
        return checked(store.read(slot), slot, accountNumber);
    }

    private KeySlot checked(KeySlot held, int slot, long accountNumber) throws PersonalKeysException {
        if (held.state() == KeySlot.State.EMPTY) {
            throw new PersonalKeysException("slot " + slot + " of the key store " + store.describe()
                    + " holds no key, so none for account " + accountNumber);
        }
        if (held.accountNumber() != accountNumber) {
            throw new PersonalKeysException("slot " + slot + " of the key store " + store.describe()
                    + " holds the key of account " + held.accountNumber() + ", not of account " + accountNumber);
        }
        return held;
    }

    /**
     * Overwrites the slot's key and digest in place with zeros (keeping the account number, marked
     * erased) and forces the store to disk before it returns; erasing again does nothing. A slot
     * that holds another account is refused; an empty or damaged one is written erased.
     */
    public void erase(int slot, long accountNumber) throws IOException {
        synchronized (writeLock) {
            KeySlot held = readForWrite(slot);
            if (held != null && held.state() != KeySlot.State.EMPTY && held.accountNumber() != accountNumber) {
                throw new PersonalKeysException("slot " + slot + " of the key store " + store.describe()
                        + " holds the key of account " + held.accountNumber() + ", not of account "
                        + accountNumber + "; nothing erased");
            }
            if (held == null || held.state() != KeySlot.State.ERASED) {
                store.write(slot, KeySlot.erased(accountNumber));
            }
        }
        store.force();
    }

    /** Forces the store to disk if anything was written since the last force. */
    public void force() throws IOException {
        store.force();
    }

    /** The id of the KEK that wraps this store's keys, as the files and messages show it. */
    public String kekId() {
        return kek.idText();
    }

    /** The KEK's file. */
    public Path kekFile() {
        return kekFile;
    }

    /**
     * Re-wraps every live data key (and the digest key) under a new KEK and destroys the old one
     * (overwritten, then removed). Offline: the caller holds the data directory's lock. A crash at
     * any point leaves a store that opens with one of the two KEKs, no key lost; the next
     * {@link #open} or rotation finishes or rolls back what it finds ({@link KeyRotation}).
     *
     * @param kekFile the KEK's file; null for the default place
     */
    public static RotationReport rotate(Path dataDirectory, Path kekFile) throws IOException {
        return KeyRotation.rotate(storeFile(dataDirectory),
                kekFile != null ? kekFile : defaultKekFile(dataDirectory), KeyRotation.Step.DONE);
    }

    /**
     * {@link #rotate(Path, Path)} for the key store in a cluster's {@code table}, with the KEK
     * at {@code kekFile}: offline, every node stopped (the table refuses while a lease holds).
     * Closes the table.
     */
    public static RotationReport rotate(KeyTable table, Path kekFile) throws IOException {
        try (table) {
            return KeyRotation.rotate(table, kekFile, KeyRotation.Step.DONE);
        }
    }

    /**
     * Copies the key store of {@code dataDirectory} (its file) into {@code table}, the same header
     * and the same slots, for {@code eventbank migrate}; answers how many slots, or -1 when the
     * data directory has no key store. A table that holds another store's header is refused.
     * Nothing is decrypted: the KEK stays a file, to be copied to every node.
     */
    public static int copyToTable(Path dataDirectory, KeyTable table) throws IOException {
        Path storePath = storeFile(dataDirectory);
        if (!Files.exists(storePath)) {
            return -1;
        }
        try (FileSlotStore store = FileSlotStore.open(storePath)) {
            byte[] header = store.header().encode();
            byte[] held = table.createHeader(header);
            if (!Arrays.equals(held, header)) {
                throw new PersonalKeysException("the key store " + table.describe() + " already holds the header of"
                        + " key-encryption key " + KeyEncryptionKey.idText(StoreHeader.decode(held, table.describe())
                        .kekId()) + ", not this data directory's; nothing was copied");
            }
            TreeMap<Integer, byte[]> slots = new TreeMap<>();
            int bound = store.slotsBound();
            for (int slot = 0; slot < bound; slot++) {
                KeySlot content = store.read(slot);
                if (content.state() != KeySlot.State.EMPTY) {
                    slots.put(slot, content.encode());
                }
            }
            table.write(slots, KeyTable.UNFENCED, null);
            return slots.size();
        }
    }

    /**
     * The other way, for {@code eventbank migrate --to-files}: the table's header and slots
     * written as the key store file of {@code dataDirectory} (which has none); answers how many
     * slots, or -1 when the table holds no store.
     */
    public static int copyFromTable(KeyTable table, Path dataDirectory) throws IOException {
        byte[] headerBytes = table.header();
        if (headerBytes == null) {
            return -1;
        }
        Path storePath = storeFile(dataDirectory);
        if (Files.exists(storePath)) {
            throw new PersonalKeysException("there is a key store at " + storePath + " already; nothing was copied");
        }
        OwnerOnly.createDirectories(storePath.getParent());
        Path temporary = KeyRotation.temporary(storePath);
        Files.deleteIfExists(temporary);
        int copied = 0;
        try (FileSlotStore store = FileSlotStore.createNew(temporary, StoreHeader.decode(headerBytes, table.describe()))) {
            int bound = table.slotsBound();
            for (int from = 0; from < bound; from += TableSlotStore.READ_AHEAD_SLOTS) {
                for (var row : table.readRange(from, from + TableSlotStore.READ_AHEAD_SLOTS).entrySet()) {
                    KeySlot content = KeySlot.decode(row.getValue());
                    if (content == null) {
                        throw new PersonalKeysException(KeySlot.damaged(table.describe(), row.getKey()));
                    }
                    store.write(row.getKey(), content);
                    copied++;
                }
            }
            store.force();
        }
        Files.move(temporary, storePath, StandardCopyOption.ATOMIC_MOVE);
        Durable.syncDirectory(storePath.getParent());
        return copied;
    }

    /**
     * What a rotation did.
     *
     * @param liveKeys    the live data keys re-wrapped
     * @param erasedSlots the erased slots carried over (their keys are zeros: nothing to re-wrap)
     * @param oldKekId    the id of the KEK destroyed
     * @param newKekId    the id of the KEK that wraps the store now
     * @param kekFile     where the new KEK is
     */
    public record RotationReport(int liveKeys, int erasedSlots, String oldKekId, String newKekId, Path kekFile) {}

    @Override
    public void close() throws IOException {
        store.close();
    }
}
