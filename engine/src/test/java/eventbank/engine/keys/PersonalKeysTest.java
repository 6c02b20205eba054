package eventbank.engine.keys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The key store on real files: sealing, opening, erasing, and what it refuses. */
class PersonalKeysTest {
    private static final long ALICE = 4_111_222_233_334_444L;
    private static final long BOB = 5_222_333_344_445_555L;
    private static final String ALICE_HASH = "$2a$04$abcdefghijklmnopqrstuuMTNmGbbu8y4L8pD1JyQ1ZRi0XvOb7lC";

    @TempDir
    Path data;

    @Test
    void whatIsSealedOpensToTheSameFields() throws Exception {
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            byte[] sealed = keys.sealNew(0, ALICE, "Alice@Example.com", ALICE_HASH);
            assertThat(new String(sealed, java.nio.charset.StandardCharsets.ISO_8859_1))
                    .doesNotContain("Alice").doesNotContain("abcdefgh");
            assertThat(keys.open(0, ALICE, sealed)).isEqualTo(new PersonalKeys.Opened("Alice@Example.com", ALICE_HASH));
            assertThat(keys.isErased(0, ALICE)).isFalse();
        }
    }

    @Test
    void sealingTheSameFieldsTwiceGivesDifferentBytes() throws Exception {
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            byte[] first = keys.sealNew(0, ALICE, "alice@example.com", ALICE_HASH);
            byte[] second = keys.sealNew(1, BOB, "alice@example.com", ALICE_HASH);
            assertThat(first).isNotEqualTo(second);
        }
    }

    @Test
    void aReopenedStoreOpensWhatWasSealedAndKeepsTheDigests() throws Exception {
        byte[] sealed;
        long[] digest;
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            sealed = keys.sealNew(0, ALICE, "alice@example.com", ALICE_HASH);
            digest = keys.emailDigest("ALICE@example.COM");
            keys.force();
        }
        try (PersonalKeys keys = PersonalKeys.open(data, null, false)) {
            assertThat(keys.open(0, ALICE, sealed).email()).isEqualTo("alice@example.com");
            assertThat(keys.storedEmailDigest(0, ALICE)).containsExactly(digest);
            assertThat(keys.emailDigest("alice@example.com")).as("the digest key survives a restart")
                    .containsExactly(digest);
            assertThat(keys.emailDigest("bob@example.com")).isNotEqualTo(digest);
        }
    }

    @Test
    void theDigestIsKeyedPerStore() throws Exception {
        long[] here;
        try (PersonalKeys keys = PersonalKeys.open(data.resolve("one"), null, true)) {
            here = keys.emailDigest("alice@example.com");
        }
        try (PersonalKeys keys = PersonalKeys.open(data.resolve("two"), null, true)) {
            assertThat(keys.emailDigest("alice@example.com")).isNotEqualTo(here);
        }
    }

    @Test
    void slotsBeyondTheFirstRegionWorkAndSurviveAReopen() throws Exception {
        int far = FileSlotStore.REGION_SLOTS * 2 + 17;
        byte[] sealed;
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            sealed = keys.sealNew(far, ALICE, "alice@example.com", ALICE_HASH);
            keys.force();
        }
        try (PersonalKeys keys = PersonalKeys.open(data, null, false)) {
            assertThat(keys.open(far, ALICE, sealed).passwordHash()).isEqualTo(ALICE_HASH);
            assertThatThrownBy(() -> keys.open(far - 1, ALICE, sealed)).hasMessageContaining("holds no key");
        }
        assertThat(Files.size(PersonalKeys.storeFile(data)))
                .isEqualTo(StoreHeader.BYTES + 3 * FileSlotStore.REGION_BYTES);
    }

    @Test
    void erasingMakesOpenAnswerNullAndLeavesNeitherTheWrappedKeyNorTheDigestInTheFile() throws Exception {
        Path store = PersonalKeys.storeFile(data);
        byte[] sealed;
        byte[] bob;
        byte[] before;
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            bob = keys.sealNew(0, BOB, "bob@example.com", "bob-hash");
            sealed = keys.sealNew(1, ALICE, "alice@example.com", ALICE_HASH);
            keys.force();
            before = KeyFiles.rawSlot(store, 1);
            keys.erase(1, ALICE);
            assertThat(keys.open(1, ALICE, sealed)).isNull();
            assertThat(keys.storedEmailDigest(1, ALICE)).isNull();
            assertThat(keys.isErased(1, ALICE)).isTrue();
            keys.erase(1, ALICE); // again: nothing changes, no failure
        }
        byte[] wrappedKey = KeyFiles.slice(before, KeySlot.WRAPPED_KEY_OFFSET, KeySlot.WRAPPED_KEY_BYTES);
        byte[] digest = KeyFiles.slice(before, KeySlot.DIGEST_OFFSET, 16);
        byte[] file = Files.readAllBytes(store);
        assertThat(KeyFiles.contains(file, wrappedKey)).as("the old wrapped key").isFalse();
        assertThat(KeyFiles.contains(file, digest)).as("the old digest").isFalse();
        // Not even a part of them: the slot's key and digest bytes are zeros now.
        byte[] after = KeyFiles.rawSlot(store, 1);
        assertThat(KeyFiles.slice(after, KeySlot.WRAPPED_KEY_OFFSET, KeySlot.WRAPPED_KEY_BYTES + 16))
                .containsOnly(0);
        try (PersonalKeys keys = PersonalKeys.open(data, null, false)) {
            assertThat(keys.open(1, ALICE, sealed)).as("erased for good").isNull();
            assertThat(keys.open(0, BOB, bob).email()).as("the neighbour is untouched").isEqualTo("bob@example.com");
        }
    }

    @Test
    void aSlotOfAnotherAccountOrSealedBytesOfAnotherSlotAreRefused() throws Exception {
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            byte[] alice = keys.sealNew(0, ALICE, "alice@example.com", ALICE_HASH);
            byte[] bob = keys.sealNew(1, BOB, "bob@example.com", "bob-hash");
            assertThatThrownBy(() -> keys.open(0, BOB, alice)).isInstanceOf(PersonalKeysException.class)
                    .hasMessageContaining("slot 0").hasMessageContaining("holds the key of account " + ALICE)
                    .hasMessageContaining("not of account " + BOB);
            assertThatThrownBy(() -> keys.open(1, BOB, alice)).isInstanceOf(PersonalKeysException.class)
                    .hasMessageContaining("do not authenticate under its key in slot 1");
            assertThatThrownBy(() -> keys.storedEmailDigest(0, BOB)).hasMessageContaining("not of account " + BOB);
            assertThatThrownBy(() -> keys.erase(1, ALICE)).hasMessageContaining("nothing erased");
            assertThat(keys.open(1, BOB, bob).email()).as("the refused erase left Bob's key").isEqualTo("bob@example.com");
            byte[] damaged = bob.clone();
            damaged[damaged.length / 2] ^= 1;
            assertThatThrownBy(() -> keys.open(1, BOB, damaged)).hasMessageContaining("do not authenticate");
            assertThatThrownBy(() -> keys.open(7, BOB, bob)).hasMessageContaining("slot 7")
                    .hasMessageContaining("holds no key");
        }
    }

    @Test
    void sealingOverAnotherAccountsLiveKeyReplacesItButAnErasedKeyIsNeverReplaced() throws Exception {
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            keys.sealNew(0, ALICE, "alice@example.com", ALICE_HASH); // an opening that never committed
            byte[] bob = keys.sealNew(0, BOB, "bob@example.com", "bob-hash");
            assertThat(keys.open(0, BOB, bob).email()).isEqualTo("bob@example.com");
            keys.erase(0, BOB);
            assertThatThrownBy(() -> keys.sealNew(0, ALICE, "alice@example.com", ALICE_HASH))
                    .hasMessageContaining("holds the erased key of account " + BOB);
            assertThat(keys.isErased(0, BOB)).isTrue();
        }
    }

    @Test
    void aMissingKekIsRefusedNamingTheFileAndNoneIsMade() throws Exception {
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            keys.sealNew(0, ALICE, "alice@example.com", ALICE_HASH);
            keys.force();
        }
        Path kek = PersonalKeys.defaultKekFile(data);
        Files.delete(kek);
        assertThatThrownBy(() -> PersonalKeys.open(data, null, true)).isInstanceOf(PersonalKeysException.class)
                .hasMessageContaining("the key-encryption key file " + kek + " does not exist")
                .hasMessageContaining("No new key is made");
        assertThat(kek).doesNotExist();
    }

    @Test
    void anotherKekIsRefusedNamingBothIds() throws Exception {
        String id;
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            id = keys.kekId();
        }
        Path other = data.resolve("other-kek");
        KeyEncryptionKey stranger = KeyEncryptionKey.generate();
        stranger.writeNew(other);
        assertThatThrownBy(() -> PersonalKeys.open(data, other, false)).isInstanceOf(PersonalKeysException.class)
                .hasMessageContaining(other + " holds key " + stranger.idText())
                .hasMessageContaining("wrapped by key-encryption key " + id);
    }

    @Test
    void aDamagedKekFileIsRefused() throws Exception {
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            keys.force();
        }
        Path kek = PersonalKeys.defaultKekFile(data);
        KeyFiles.flipByte(kek, Files.size(kek) - 5); // a digit of the key
        assertThatThrownBy(() -> PersonalKeys.open(data, null, false)).isInstanceOf(PersonalKeysException.class)
                .hasMessageContaining(kek.toString());
    }

    @Test
    void aFlippedByteInASlotIsCaughtByItsChecksum() throws Exception {
        Path store = PersonalKeys.storeFile(data);
        byte[] sealed;
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            keys.sealNew(0, BOB, "bob@example.com", "bob-hash");
            sealed = keys.sealNew(1, ALICE, "alice@example.com", ALICE_HASH);
            keys.force();
        }
        KeyFiles.flipByte(store, StoreHeader.BYTES + KeySlot.BYTES + KeySlot.DIGEST_OFFSET + 3);
        try (PersonalKeys keys = PersonalKeys.open(data, null, false)) {
            assertThatThrownBy(() -> keys.storedEmailDigest(1, ALICE)).isInstanceOf(PersonalKeysException.class)
                    .hasMessage("slot 1 of the key store " + store + " fails its checksum (a torn or damaged write)");
            assertThatThrownBy(() -> keys.open(1, ALICE, sealed)).hasMessageContaining("fails its checksum");
            assertThat(keys.storedEmailDigest(0, BOB)).as("the other slots are fine").isNotNull();
            keys.erase(1, ALICE); // erasing a damaged slot is still possible
            assertThat(keys.isErased(1, ALICE)).isTrue();
        }
    }

    @Test
    void aFlippedByteInTheHeaderIsCaught() throws Exception {
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            keys.force();
        }
        Path store = PersonalKeys.storeFile(data);
        KeyFiles.flipByte(store, 40);
        assertThatThrownBy(() -> PersonalKeys.open(data, null, false)).isInstanceOf(PersonalKeysException.class)
                .hasMessage("the key store " + store + "'s header fails its checksum");
    }

    @Test
    void noStoreAndNoCreateIsRefused() {
        assertThatThrownBy(() -> PersonalKeys.open(data, null, false)).isInstanceOf(PersonalKeysException.class)
                .hasMessageContaining("there is no key store at " + PersonalKeys.storeFile(data));
    }

    @Test
    void filesAreTheOwnersOnlyAndTheKekMayLiveElsewhere() throws Exception {
        Path elsewhere = data.resolve("secrets").resolve("bank.kek");
        Path directory = data.resolve("bank");
        try (PersonalKeys keys = PersonalKeys.open(directory, elsewhere, true)) {
            assertThat(keys.kekFile()).isEqualTo(elsewhere);
            assertThat(Files.readString(elsewhere)).startsWith("eventbank-kek 1 " + keys.kekId() + " ");
        }
        assertThat(PersonalKeys.defaultKekFile(directory)).doesNotExist();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(elsewhere))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(elsewhere.getParent())))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(PersonalKeys.storeFile(directory))))
                .isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(directory.resolve("keys"))))
                .isEqualTo("rwx------");
    }

    @Test
    void readersOnOtherThreadsSeeEveryKeyWhileTheWriterSeals() throws Exception {
        int accounts = 2_000;
        try (PersonalKeys keys = PersonalKeys.open(data, null, true)) {
            java.util.concurrent.atomic.AtomicInteger published = new java.util.concurrent.atomic.AtomicInteger();
            java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
            Thread reader = new Thread(() -> {
                try {
                    for (int seen = 0; seen < accounts; ) {
                        int upTo = published.get();
                        for (; seen < upTo; seen++) {
                            assertThat(keys.storedEmailDigest(seen, 1_000_000L + seen))
                                    .containsExactly(keys.emailDigest("user" + seen + "@example.com"));
                        }
                        Thread.onSpinWait();
                    }
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            reader.start();
            for (int slot = 0; slot < accounts; slot++) {
                keys.sealNew(slot, 1_000_000L + slot, "user" + slot + "@example.com", "hash" + slot);
                published.set(slot + 1);
            }
            reader.join();
            assertThat(failure.get()).isNull();
        }
    }
}
