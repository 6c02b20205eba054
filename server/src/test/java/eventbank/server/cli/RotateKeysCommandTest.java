package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.DataDirectoryLock;
import eventbank.engine.keys.PersonalKeys;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code eventbank rotate-keys} on a data directory with a key store, and what it refuses. */
class RotateKeysCommandTest {
    private static final long ALICE = 4_111_222_233_334_444L;
    private static final long BOB = 5_222_333_344_445_555L;

    @TempDir
    Path data;

    @TempDir
    Path vault;

    private byte[] alice;

    @BeforeEach
    void aDataDirectory() throws Exception {
        Files.createDirectories(data.resolve("journal"));
    }

    /** Alice live in slot 0, Bob erased in slot 1; answers the KEK's id. */
    private String keys(Path kekFile) throws Exception {
        try (PersonalKeys keys = PersonalKeys.open(data, kekFile, true)) {
            alice = keys.sealNew(0, ALICE, "alice@example.com", "alice-hash");
            keys.sealNew(1, BOB, "bob@example.com", "bob-hash");
            keys.erase(1, BOB);
            return keys.kekId();
        }
    }

    private String kekIdIn(Path kekFile) throws Exception {
        return Files.readString(kekFile).split(" ")[2];
    }

    @Test
    void rotatesAndSaysWhatItDid() throws Exception {
        String old = keys(null);
        Path kek = PersonalKeys.defaultKekFile(data);
        String oldText = Files.readString(kek);

        Cli.Run run = Cli.run("rotate-keys", "--data-dir", data.toString());

        assertThat(run.exitCode()).as(run.toString()).isZero();
        String now = kekIdIn(kek);
        assertThat(now).isNotEqualTo(old);
        Path directory = data.toAbsolutePath().normalize();
        assertThat(run.out()).isEqualTo("""
                data directory: %s
                key store: %s
                re-wrapped: 1 live data key (1 erased, nothing to re-wrap)
                old key-encryption key: %s destroyed (overwritten, then removed)
                new key-encryption key: %s in %s
                rotate-keys: OK
                """.formatted(directory, PersonalKeys.storeFile(directory), old, now,
                PersonalKeys.defaultKekFile(directory)));
        assertThat(run.err()).isEmpty();
        assertThat(filesContaining(data, oldText.strip().split(" ")[3])).as("the old KEK, in hex").isEmpty();
        try (PersonalKeys keys = PersonalKeys.open(data, null, false)) {
            assertThat(keys.open(0, ALICE, alice).email()).isEqualTo("alice@example.com");
            assertThat(keys.isErased(1, BOB)).isTrue();
        }
    }

    @Test
    void theKekFileComesFromTheOptionOrTheEnvironment() throws Exception {
        Path kek = vault.resolve("bank.kek");
        String old = keys(kek);
        Cli.Run byOption = Cli.run("rotate-keys", "--data-dir", data.toString(), "--kek-file", kek.toString());
        assertThat(byOption.exitCode()).as(byOption.toString()).isZero();
        String second = kekIdIn(kek);
        assertThat(second).isNotEqualTo(old);

        Cli.Run byEnvironment = Cli.run(Map.of("EVENTBANK_KEYS_KEK_FILE", kek.toString()),
                "rotate-keys", "--data-dir", data.toString());
        assertThat(byEnvironment.exitCode()).as(byEnvironment.toString()).isZero();
        assertThat(byEnvironment.out()).contains("old key-encryption key: " + second + " destroyed")
                .contains(" in " + kek + "\n");
        assertThat(PersonalKeys.defaultKekFile(data)).doesNotExist();
    }

    @Test
    void refusesWhileAServerHoldsTheDataDirectory() throws Exception {
        String old = keys(null);
        byte[] store = Files.readAllBytes(PersonalKeys.storeFile(data));
        try (DataDirectoryLock server = DataDirectoryLock.acquire(data)) {
            Cli.Run run = Cli.run("rotate-keys", "--data-dir", data.toString());
            assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.DATA_DIRECTORY);
            assertThat(run.err()).isEqualTo("eventbank rotate-keys: the data directory "
                    + data.toAbsolutePath().normalize() + " is locked by another eventbank process\n");
            assertThat(run.out()).isEmpty();
        }
        assertThat(kekIdIn(PersonalKeys.defaultKekFile(data))).isEqualTo(old);
        assertThat(Files.readAllBytes(PersonalKeys.storeFile(data))).isEqualTo(store);
    }

    @Test
    void refusesWithoutTheKekNamingTheFile() throws Exception {
        keys(null);
        Path kek = PersonalKeys.defaultKekFile(data.toAbsolutePath().normalize());
        Files.delete(kek);
        Cli.Run run = Cli.run("rotate-keys", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(run.err()).startsWith("eventbank rotate-keys: the key-encryption key file " + kek
                + " does not exist");
        assertThat(run.err().lines()).hasSize(1);
        assertThat(kek).doesNotExist();
    }

    @Test
    void refusesADataDirectoryWithoutAKeyStore() {
        Cli.Run run = Cli.run("rotate-keys", "--data-dir", data.toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.CHECK_FAILED);
        assertThat(run.err()).contains("has no key store (keys/data-keys)");
    }

    @Test
    void refusesADirectoryThatIsNotADataDirectory() {
        Cli.Run run = Cli.run("rotate-keys", "--data-dir", vault.resolve("nothing").toString());
        assertThat(run.exitCode()).as(run.toString()).isEqualTo(ExitCodes.DATA_DIRECTORY);
        assertThat(run.err()).contains("does not exist");
    }

    private static List<Path> filesContaining(Path directory, String text) throws Exception {
        byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
        byte[] raw = HexFormat.of().parseHex(text);
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).filter(file -> {
                try {
                    String bytes = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
                    return bytes.contains(new String(needle, StandardCharsets.ISO_8859_1))
                            || bytes.contains(new String(raw, StandardCharsets.ISO_8859_1));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        }
    }
}
