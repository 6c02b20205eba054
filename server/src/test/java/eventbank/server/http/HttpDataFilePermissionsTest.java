package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.journal.JournalFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finding 10 of docs/RELIABILITY.md: a data directory holds balances, email addresses, mails
 * with verification links and the server key, so none of it may be readable by other users of
 * the machine. After the whole story on a real server (open, verify, log in, transfer,
 * withdraw, a snapshot, the mails) and a restart that quarantines a torn tail, every file is
 * 0600 and every directory 0700, whatever the umask (the usual 022 would give 0644 and 0755).
 */
class HttpDataFilePermissionsTest {
    @TempDir
    Path temp;

    @Test
    void everyFileOfTheDataDirectoryIsTheOwnersOnly() throws Exception {
        Path data = temp.resolve("data");
        try (TestServer server = TestServer.start(data, Map.of("snapshot.every_events", "4"))) {
            TestServer.Holder alice = server.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = server.openVerifiedHolder("bob@example.com");
            assertThat(server.http.post("/api/money_transfer",
                    Map.of("to_account_number", bob.number(), "amount", 2500), alice.token(), null).status())
                    .isEqualTo(200);
            assertThat(server.http.post("/api/withdraw", Map.of("amount", 700), bob.token(), null).status())
                    .isEqualTo(200);
            awaitFile(data.resolve("snapshots"), ".snap");
            awaitFile(data.resolve("outbox"), "-withdrawal.eml");
        }
        appendTornBatch(data.resolve("journal"));
        try (TestServer server = TestServer.start(data)) {
            assertThat(server.service.engine().recovery().tornTail()).as("the torn tail is quarantined").isNotNull();
        }

        List<String> wrong = new ArrayList<>();
        List<String> seen = new ArrayList<>();
        try (Stream<Path> paths = Files.walk(data)) {
            for (Path path : paths.toList()) {
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(path));
                String expected = Files.isDirectory(path) ? "rwx------" : "rw-------";
                String name = path.equals(data) ? "." : data.relativize(path).toString();
                seen.add(name);
                if (!mode.equals(expected)) {
                    wrong.add(name + " is " + mode);
                }
            }
        }
        assertThat(seen).as("the story left every kind of file").contains("journal", "journal/quarantine",
                "snapshots", "outbox", "server.key", "LOCK");
        assertThat(seen).anyMatch(name -> name.endsWith(".seg")).anyMatch(name -> name.endsWith(".snap"))
                .anyMatch(name -> name.endsWith(".eml")).anyMatch(name -> name.endsWith(".torn"));
        assertThat(wrong).as("files readable by others").isEmpty();
    }

    /** Polls for a file whose name ends with {@code suffix}: the snapshotter and outbox work on threads of their own. */
    private static void awaitFile(Path directory, String suffix) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            if (Files.isDirectory(directory)) {
                try (Stream<Path> files = Files.list(directory)) {
                    if (files.anyMatch(file -> file.getFileName().toString().endsWith(suffix))) {
                        return;
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no " + suffix + " file in " + directory);
    }

    /** Bytes after the last batch that are no whole batch: what a crash in the middle of a write leaves. */
    private static void appendTornBatch(Path journal) throws IOException {
        Path last;
        try (Stream<Path> files = Files.list(journal)) {
            last = files.filter(p -> JournalFormat.firstSeqOf(p.getFileName().toString()) >= 0)
                    .sorted().reduce((a, b) -> b).orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(last, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
            channel.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}));
        }
    }
}
