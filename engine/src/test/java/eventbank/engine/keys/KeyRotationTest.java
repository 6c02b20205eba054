package eventbank.engine.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@code eventbank rotate-keys}'s work: a new KEK, every key re-wrapped, the old KEK destroyed, any crash survived. */
class KeyRotationTest {
    private static final int ACCOUNTS = 5;
    private static final int ERASED = 2;

    @TempDir
    Path data;

    /** Where a copy of the data directory goes, a backup as it were. */
    @TempDir
    Path backups;

    /** What was sealed for slot i, account accountOf(i). */
    private final List<byte[]> sealed = new ArrayList<>();

    private static long accountOf(int slot) {
        return 1_000_000_000_000_000L + slot;
    }

    /** Five accounts in slots 0..4, one in a second region too, slot 2 erased; answers the KEK. */
    private KeyEncryptionKey fill() throws IOException {
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            for (int slot = 0; slot < ACCOUNTS; slot++) {
                sealed.add(keys.sealNew(slot, accountOf(slot), "user" + slot + "@example.com", "hash" + slot));
            }
            keys.erase(ERASED, accountOf(ERASED));
            keys.force();
        }
        return KeyEncryptionKey.read(PersonalKeys.defaultKekFile(data));
    }

    /** Every account opens (the erased one as null) and keeps its digest. */
    private void assertEveryKeyOpens(Path directory, Path kekFile) throws IOException {
        try (PersonalKeys keys = PersonalKeys.open(directory, kekFile, false)) {
            for (int slot = 0; slot < ACCOUNTS; slot++) {
                PersonalKeys.Opened opened = keys.open(slot, accountOf(slot), sealed.get(slot));
                if (slot == ERASED) {
                    assertThat(opened).isNull();
                    assertThat(keys.storedEmailDigest(slot, accountOf(slot))).isNull();
                } else {
                    assertThat(opened).isEqualTo(new PersonalKeys.Opened("user" + slot + "@example.com", "hash" + slot));
                    assertThat(keys.storedEmailDigest(slot, accountOf(slot)))
                            .containsExactly(keys.emailDigest("USER" + slot + "@example.com"));
                }
            }
        }
    }

    private List<Path> leftovers() throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("keys"))) {
            return files.filter(file -> file.getFileName().toString().endsWith(PersonalKeys.TEMPORARY_SUFFIX)).toList();
        }
    }

    @Test
    void rotationRewrapsEveryKeyUnderANewKekAndDestroysTheOldOne() throws Exception {
        KeyEncryptionKey old = fill();
        Path copy = backups.resolve("data");
        copyTree(data, copy);

        PersonalKeys.RotationReport report = PersonalKeys.rotate(data, null);

        KeyEncryptionKey now = KeyEncryptionKey.read(PersonalKeys.defaultKekFile(data));
        assertThat(report).isEqualTo(new PersonalKeys.RotationReport(ACCOUNTS - 1, 1, old.idText(), now.idText(),
                PersonalKeys.defaultKekFile(data)));
        assertThat(now.id()).isNotEqualTo(old.id());
        assertThat(KeyFiles.filesHolding(data, old.keyBytes())).as("the old KEK's bytes, in any file").isEmpty();
        assertThat(leftovers()).isEmpty();
        assertEveryKeyOpens(data, null);

        // A copy taken before the rotation opens with the old KEK it was taken with...
        assertEveryKeyOpens(copy, null);
        // ...but without it (the KEK kept apart from backups), the only KEK left is the new one,
        // and it opens nothing of the copy.
        Path copyKek = PersonalKeys.defaultKekFile(copy);
        Files.copy(PersonalKeys.defaultKekFile(data), copyKek, StandardCopyOption.REPLACE_EXISTING);
        assertThatThrownBy(() -> PersonalKeys.open(copy, null, false)).isInstanceOf(PersonalKeysException.class)
                .hasMessageContaining("holds key " + now.idText())
                .hasMessageContaining("wrapped by key-encryption key " + old.idText());
        try (FileSlotStore copied = FileSlotStore.open(PersonalKeys.storeFile(copy))) {
            KeySlot slot = copied.read(0);
            assertThatThrownBy(() -> Aead.open(now.secretKey(),
                    Aead.associatedData(PersonalKeys.DATA_KEY_PURPOSE, 0, accountOf(0)), slot.wrappedKey(), 0,
                    KeySlot.WRAPPED_KEY_BYTES)).isInstanceOf(javax.crypto.AEADBadTagException.class);
        }
    }

    @Test
    void aSecondRotationWorksAndTheKekMayLiveElsewhere() throws Exception {
        Path kek = data.resolve("vault").resolve("kek");
        try (PersonalKeys keys = PersonalKeys.open(data, kek, true)) {
            sealed.add(keys.sealNew(0, accountOf(0), "user0@example.com", "hash0"));
            keys.force();
        }
        PersonalKeys.RotationReport first = PersonalKeys.rotate(data, kek);
        PersonalKeys.RotationReport second = PersonalKeys.rotate(data, kek);
        assertThat(second.oldKekId()).isEqualTo(first.newKekId());
        assertThat(second.liveKeys()).isEqualTo(1);
        try (PersonalKeys keys = PersonalKeys.open(data, kek, false)) {
            assertThat(keys.kekId()).isEqualTo(second.newKekId());
            assertThat(keys.open(0, accountOf(0), sealed.get(0)).email()).isEqualTo("user0@example.com");
        }
        assertThat(PersonalKeys.defaultKekFile(data)).doesNotExist();
    }

    @Test
    void rotationWithoutTheKekIsRefusedAndChangesNothing() throws Exception {
        fill();
        Path kek = PersonalKeys.defaultKekFile(data);
        Path aside = data.resolve("kek-aside");
        Files.move(kek, aside);
        byte[] store = Files.readAllBytes(PersonalKeys.storeFile(data));
        assertThatThrownBy(() -> PersonalKeys.rotate(data, null)).hasMessageContaining(kek + " does not exist");
        assertThat(Files.readAllBytes(PersonalKeys.storeFile(data))).isEqualTo(store);
        assertThat(kek).doesNotExist();
        assertEveryKeyOpens(data, aside);
    }

    /**
     * A crash after each step, as the files are then (the rotation stops there and leaves them):
     * the next open rolls back or finishes, and every key opens with the KEK in the KEK file.
     */
    @ParameterizedTest
    @EnumSource(value = KeyRotation.Step.class, names = "DONE", mode = EnumSource.Mode.EXCLUDE)
    void aCrashAfterAnyStepIsRecoveredByTheNextOpen(KeyRotation.Step step) throws Exception {
        KeyEncryptionKey old = fill();
        Path kekTemporary = KeyRotation.temporary(PersonalKeys.defaultKekFile(data));
        KeyRotation.rotate(PersonalKeys.storeFile(data), PersonalKeys.defaultKekFile(data), step);
        KeyEncryptionKey next = KeyEncryptionKey.read(kekTemporary);

        assertEveryKeyOpens(data, null);

        boolean finished = step.compareTo(KeyRotation.Step.STORE_REPLACED) >= 0;
        KeyEncryptionKey now = KeyEncryptionKey.read(PersonalKeys.defaultKekFile(data));
        assertThat(now).isEqualTo(finished ? next : old);
        assertThat(leftovers()).isEmpty();
        assertThat(KeyFiles.filesHolding(data, (finished ? old : next).keyBytes()))
                .as("the KEK not in use, anywhere").isEmpty();
    }

    @Test
    void aNewKekCutWhileItWasWrittenIsRolledBack() throws Exception {
        KeyEncryptionKey old = fill();
        Path kekTemporary = KeyRotation.temporary(PersonalKeys.defaultKekFile(data));
        Files.writeString(kekTemporary, "eventbank-kek 1 0123");
        assertThat(KeyRotation.recover(PersonalKeys.storeFile(data), PersonalKeys.defaultKekFile(data)))
                .isEqualTo(KeyRotation.Recovery.ROLLED_BACK);
        assertThat(kekTemporary).doesNotExist();
        assertThat(KeyEncryptionKey.read(PersonalKeys.defaultKekFile(data))).isEqualTo(old);
        assertEveryKeyOpens(data, null);
    }

    @Test
    void aStoreCopyCutWhileItWasWrittenIsRolledBack() throws Exception {
        KeyEncryptionKey old = fill();
        KeyRotation.rotate(PersonalKeys.storeFile(data), PersonalKeys.defaultKekFile(data),
                KeyRotation.Step.STORE_COPIED);
        Path storeTemporary = KeyRotation.temporary(PersonalKeys.storeFile(data));
        try (var channel = java.nio.channels.FileChannel.open(storeTemporary, java.nio.file.StandardOpenOption.WRITE)) {
            channel.truncate(StoreHeader.BYTES + 2 * KeySlot.BYTES + 50);
        }
        PersonalKeys.rotate(data, null); // recovers first, then rotates from the old KEK
        assertThat(KeyEncryptionKey.read(PersonalKeys.defaultKekFile(data))).isNotEqualTo(old);
        assertThat(KeyFiles.filesHolding(data, old.keyBytes())).isEmpty();
        assertEveryKeyOpens(data, null);
    }

    @Test
    void nothingToRecoverIsNothing() throws Exception {
        fill();
        assertThat(KeyRotation.recover(PersonalKeys.storeFile(data), PersonalKeys.defaultKekFile(data)))
                .isEqualTo(KeyRotation.Recovery.NOTHING);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }
}
