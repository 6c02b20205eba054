package eventbank.engine.keys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import javax.crypto.AEADBadTagException;

/**
 * Replacing the KEK ({@code eventbank rotate-keys}), in steps that a crash may cut anywhere:
 *
 * <ol>
 *   <li>the new KEK is written to {@code KEK.new} (beside the KEK file) and forced;
 *   <li>the store is copied to {@code data-keys.new}, every live data key and the digest key
 *       re-wrapped under the new KEK, erased slots as they are, and forced;
 *   <li>{@code data-keys.new} is renamed over {@code data-keys}: from here the store needs the new KEK;
 *   <li>the old KEK file is overwritten with zeros in place and forced;
 *   <li>{@code KEK.new} is renamed over the KEK file.
 * </ol>
 *
 * <p>{@link #recover} reads what a cut left: a {@code data-keys.new} means the store was not
 * replaced yet, so both temporary files go (rolled back); a {@code KEK.new} alone is finished
 * when the store's header names it (steps 4 and 5 again), else removed. Either way the store opens
 * with the KEK in the KEK file and no key is lost.
 */
final class KeyRotation {
    private static final System.Logger LOG = System.getLogger(KeyRotation.class.getName());

    /** The steps, for tests that stop a rotation after one as a crash would. */
    enum Step { NEW_KEK_WRITTEN, STORE_COPIED, STORE_REPLACED, OLD_KEK_OVERWRITTEN, DONE }

    /** What {@link #recover} found and did. */
    enum Recovery { NOTHING, ROLLED_BACK, FINISHED }

    private KeyRotation() {}

    static Path temporary(Path file) {
        return file.resolveSibling(file.getFileName() + PersonalKeys.TEMPORARY_SUFFIX);
    }

    /**
     * Rotates, stopping after {@code stopAfter} (tests simulate a crash with it; {@link Step#DONE}
     * does all). The report's counts are those of the copy.
     */
    static PersonalKeys.RotationReport rotate(Path storeFile, Path kekFile, Step stopAfter) throws IOException {
        recover(storeFile, kekFile);
        if (!Files.exists(storeFile)) {
            throw new PersonalKeysException("there is no key store at " + storeFile + ", so no key to rotate");
        }
        Path storeTemporary = temporary(storeFile);
        Path kekTemporary = temporary(kekFile);
        KeyEncryptionKey newKek = KeyEncryptionKey.generate();
        int[] counts;
        String oldKekId;
        try (FileSlotStore old = FileSlotStore.open(storeFile)) {
            KeyEncryptionKey oldKek = PersonalKeys.readKekOf(old, kekFile);
            oldKekId = oldKek.idText();
            newKek.writeNew(kekTemporary);
            if (stopAfter == Step.NEW_KEK_WRITTEN) {
                return null;
            }
            counts = copy(old, oldKek, storeTemporary, newKek);
        }
        if (stopAfter == Step.STORE_COPIED) {
            return null;
        }
        Files.move(storeTemporary, storeFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Durable.syncDirectory(storeFile.toAbsolutePath().getParent());
        if (stopAfter == Step.STORE_REPLACED) {
            return null;
        }
        replaceKek(kekFile, kekTemporary, stopAfter);
        return new PersonalKeys.RotationReport(counts[0], counts[1], oldKekId, newKek.idText(), kekFile);
    }

    /**
     * The same in a cluster's table: the new KEK written to {@code KEK.new} and forced; then one
     * transaction ({@link KeyTable#rewrite}) locks the journal's head, reads every row and
     * replaces it re-wrapped, and fences any leader; then the old KEK is overwritten and the new
     * one renamed over it. A crash before the commit leaves the table as it was; after it, the
     * next open or rotation on this machine finishes the KEK's files ({@link #recover(KeyTable, Path)}).
     */
    static PersonalKeys.RotationReport rotate(KeyTable table, Path kekFile, Step stopAfter) throws IOException {
        recover(table, kekFile);
        byte[] headerBytes = table.header();
        if (headerBytes == null) {
            throw new PersonalKeysException("the key store " + table.describe() + " holds no header, so no key to rotate");
        }
        TableSlotStore old = new TableSlotStore(table, StoreHeader.decode(headerBytes, table.describe()));
        KeyEncryptionKey oldKek = PersonalKeys.readKekOf(old, kekFile);
        KeyEncryptionKey newKek = KeyEncryptionKey.generate();
        Path kekTemporary = temporary(kekFile);
        newKek.writeNew(kekTemporary);
        if (stopAfter == Step.NEW_KEK_WRITTEN) {
            return null;
        }
        byte[] digestKey = PersonalKeys.unwrapDigestKey(old, oldKek);
        int[] counts = new int[2];
        try {
            // A failure here may leave the table replaced or not (a commit whose outcome is unknown):
            // KEK.new stays, and the next open or rotation settles by the committed header which KEK
            // is kept (recover).
            table.rewrite(new KeyTable.Rewrap() {
                @Override
                public byte[] header(byte[] held) throws IOException {
                    if (StoreHeader.decode(held, table.describe()).kekId() != oldKek.id()) {
                        throw new PersonalKeysException("the key store " + table.describe() + " changed its"
                                + " key-encryption key while it was being rotated; nothing rotated");
                    }
                    return PersonalKeys.headerFor(newKek, digestKey).encode();
                }

                @Override
                public byte[] slot(int slot, byte[] held) throws IOException {
                    KeySlot content = KeySlot.decode(held);
                    if (content == null) {
                        throw new PersonalKeysException(KeySlot.damaged(table.describe(), slot) + "; nothing rotated");
                    }
                    return switch (content.state()) {
                        case EMPTY -> held;
                        case ERASED -> {
                            counts[1]++;
                            yield held;
                        }
                        case LIVE -> {
                            counts[0]++;
                            yield rewrap(old, slot, content, oldKek, newKek).encode();
                        }
                    };
                }
            });
        } finally {
            Arrays.fill(digestKey, (byte) 0);
        }
        if (stopAfter == Step.STORE_REPLACED) {
            return null;
        }
        replaceKek(kekFile, kekTemporary, stopAfter);
        return new PersonalKeys.RotationReport(counts[0], counts[1], oldKek.idText(), newKek.idText(), kekFile);
    }

    /** Finishes or rolls back what a cut rotation of {@code table} left in the KEK's files. */
    static Recovery recover(KeyTable table, Path kekFile) throws IOException {
        Path kekTemporary = temporary(kekFile);
        if (!Files.exists(kekTemporary)) {
            return Recovery.NOTHING;
        }
        KeyEncryptionKey newKek = readUnlessTorn(kekTemporary);
        // On the primary, once a rotation's transaction still under way has ended: committed or not.
        byte[] header = table.committedHeader();
        if (newKek != null && header != null && StoreHeader.decode(header, table.describe()).kekId() == newKek.id()) {
            replaceKek(kekFile, kekTemporary, Step.DONE);
            LOG.log(System.Logger.Level.WARNING, "finished a key rotation that was cut after the key store "
                    + table.describe() + " was replaced: the old key-encryption key is destroyed, " + kekFile
                    + " holds key " + newKek.idText());
            return Recovery.FINISHED;
        }
        KeyEncryptionKey.destroy(kekTemporary);
        LOG.log(System.Logger.Level.WARNING, "rolled back a key rotation that was cut before it replaced the key store "
                + table.describe() + "; it still uses the key-encryption key in " + kekFile);
        return Recovery.ROLLED_BACK;
    }

    /** Copies the store to {@code target} under {@code newKek}; answers {live keys, erased slots}. */
    private static int[] copy(FileSlotStore old, KeyEncryptionKey oldKek, Path target, KeyEncryptionKey newKek)
            throws IOException {
        Files.deleteIfExists(target);
        byte[] digestKey = PersonalKeys.unwrapDigestKey(old, oldKek);
        int live = 0;
        int erased = 0;
        try (FileSlotStore copy = FileSlotStore.createNew(target, PersonalKeys.headerFor(newKek, digestKey))) {
            int bound = old.slotsBound();
            for (int slot = 0; slot < bound; slot++) {
                // A slot that fails its checksum stops the rotation (read throws): copying it
                // would carry damage over, and dropping it might lose a committed account's key.
                KeySlot held = old.read(slot);
                switch (held.state()) {
                    case EMPTY -> { }
                    case ERASED -> {
                        copy.write(slot, held);
                        erased++;
                    }
                    case LIVE -> {
                        copy.write(slot, rewrap(old, slot, held, oldKek, newKek));
                        live++;
                    }
                }
            }
            // The copy keeps the old file's length, so that the slots beyond the last written stay holes.
            copy.growTo(bound);
            copy.force();
        } finally {
            Arrays.fill(digestKey, (byte) 0);
        }
        return new int[] {live, erased};
    }

    private static KeySlot rewrap(SlotStore old, int slot, KeySlot held, KeyEncryptionKey oldKek,
                                  KeyEncryptionKey newKek) throws PersonalKeysException {
        byte[] associatedData = Aead.associatedData(PersonalKeys.DATA_KEY_PURPOSE, slot, held.accountNumber());
        byte[] dataKey;
        try {
            dataKey = Aead.open(oldKek.secretKey(), associatedData, held.wrappedKey(), 0, KeySlot.WRAPPED_KEY_BYTES);
        } catch (AEADBadTagException e) {
            throw new PersonalKeysException("the key of account " + held.accountNumber() + " in slot " + slot
                    + " of the key store " + old.describe() + " does not authenticate under key-encryption key "
                    + oldKek.idText() + "; nothing rotated", e);
        }
        try {
            byte[] wrapped = new byte[KeySlot.WRAPPED_KEY_BYTES];
            Aead.seal(newKek.secretKey(), associatedData, dataKey, wrapped, 0);
            return KeySlot.live(held.accountNumber(), wrapped, held.digestHigh(), held.digestLow());
        } finally {
            Arrays.fill(dataKey, (byte) 0);
        }
    }

    /** Steps 4 and 5: the old KEK's bytes overwritten, then the new KEK renamed over its file. */
    private static void replaceKek(Path kekFile, Path kekTemporary, Step stopAfter) throws IOException {
        KeyEncryptionKey.overwriteWithZeros(kekFile);
        if (stopAfter == Step.OLD_KEK_OVERWRITTEN) {
            return;
        }
        Files.move(kekTemporary, kekFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        Durable.syncDirectory(kekFile.toAbsolutePath().getParent());
    }

    /**
     * Finishes or rolls back a rotation that a crash cut (see the class comment); does nothing
     * when none was under way.
     */
    static Recovery recover(Path storeFile, Path kekFile) throws IOException {
        Path storeTemporary = temporary(storeFile);
        Path kekTemporary = temporary(kekFile);
        if (Files.exists(storeTemporary)) {
            // The store was not replaced: it still needs the old KEK, which is still whole.
            Files.delete(storeTemporary);
            Durable.syncDirectory(storeTemporary.toAbsolutePath().getParent());
            if (!Files.exists(storeFile)) {
                return Recovery.ROLLED_BACK; // a store cut while it was first created: made again
            }
            KeyEncryptionKey.destroy(kekTemporary);
            LOG.log(System.Logger.Level.WARNING, "rolled back a key rotation that was cut before the key store "
                    + storeFile + " was replaced; it still uses the key-encryption key in " + kekFile);
            return Recovery.ROLLED_BACK;
        }
        if (!Files.exists(kekTemporary)) {
            return Recovery.NOTHING;
        }
        KeyEncryptionKey newKek = readUnlessTorn(kekTemporary);
        if (newKek != null && Files.exists(storeFile)
                && FileSlotStore.readHeader(storeFile).kekId() == newKek.id()) {
            replaceKek(kekFile, kekTemporary, Step.DONE);
            LOG.log(System.Logger.Level.WARNING, "finished a key rotation that was cut after the key store "
                    + storeFile + " was replaced: the old key-encryption key is destroyed, " + kekFile
                    + " holds key " + newKek.idText());
            return Recovery.FINISHED;
        }
        KeyEncryptionKey.destroy(kekTemporary);
        LOG.log(System.Logger.Level.WARNING, "rolled back a key rotation that was cut before it copied the key store "
                + storeFile + "; it still uses the key-encryption key in " + kekFile);
        return Recovery.ROLLED_BACK;
    }

    /**
     * The new KEK a rotation wrote, or null when its file is torn: cut while it was written, so
     * before anything was wrapped by it.
     */
    private static KeyEncryptionKey readUnlessTorn(Path kekTemporary) throws IOException {
        try {
            return KeyEncryptionKey.read(kekTemporary);
        } catch (PersonalKeysException torn) {
            return null;
        }
    }
}
