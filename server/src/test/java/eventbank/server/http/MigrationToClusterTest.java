package eventbank.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import eventbank.postgres.PostgresExtension;
import eventbank.server.Main;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bank that ran on its file journal (accounts, transfers, snapshots, mails sent), copied into
 * PostgreSQL with {@code eventbank migrate}, then run as a cluster: the nodes hold the same head,
 * the tokens and verification links issued before still work on them, and the first leader
 * sends no mail the file outbox had sent.
 */
class MigrationToClusterTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static final String OPERATOR_KEY = "operator-key-of-the-migration-test";

    @TempDir
    Path temp;

    @Test
    void aFileBankMigratedToPostgresqlKeepsItsHeadItsTokensItsLinksAndItsSentMail() throws Exception {
        Path data = temp.resolve("file");
        TestServer.Holder alice;
        String carol;
        String carolLink;
        JsonNode head;
        try (TestServer file = TestServer.start(data, Map.of("operator.key", OPERATOR_KEY,
                "snapshot.every_events", "3"))) {
            alice = file.openVerifiedHolder("alice@example.com");
            TestServer.Holder bob = file.openVerifiedHolder("bob@example.com");
            assertThat(file.http.post("/api/money_transfer", Map.of("to_account_number", bob.number(), "amount",
                    2_500), alice.token(), "t1").status()).isEqualTo(200);
            assertThat(file.http.post("/api/withdraw", Map.of("amount", 100), alice.token(), "w1").status())
                    .isEqualTo(200);
            carol = file.open("carol@example.com");
            carolLink = file.verificationQuery(carol);
            awaitFiles(data.resolve("snapshots"), ".snap", 1);
            awaitFiles(data.resolve("outbox"), "-withdrawal.eml", 1);
            head = file.http.operatorGet("/api/admin/audit/head", OPERATOR_KEY).json();
        }

        int migrated = Main.commandLine(Map.of()).execute("migrate", "--data-dir", data.toString(),
                "--journal-url", postgres.url());
        assertThat(migrated).isZero();

        // The openings were sealed on files: migrate copied the key store into the database; each
        // node gets a copy of the KEK, and nothing else of the data directory (docs/OPERATIONS.md).
        for (String node : List.of("n1", "n2")) {
            Files.createDirectories(temp.resolve(node).resolve("keys"));
            Files.copy(data.resolve("keys").resolve("kek"), temp.resolve(node).resolve("keys").resolve("kek"));
        }
        TestServer leader = TestServer.start(temp.resolve("n1"), node("n1", "writer"));
        try (TestServer reader = TestServer.start(temp.resolve("n2"), node("n2", "reader"))) {
            awaitStatus(leader, "/health/leader", 200);
            assertThat(leader.http.operatorGet("/api/admin/audit/head", OPERATOR_KEY).json())
                    .as("the same head: seq and chain hash").isEqualTo(head);
            long seq = head.get("seq").asLong();

            // A token issued by the file server, on both nodes.
            HttpApi.Response onLeader = leader.http.get("/api/account", alice.token());
            assertThat(onLeader.status()).as(onLeader.toString()).isEqualTo(200);
            assertThat(onLeader.json().get("balance").asLong()).isEqualTo(97_400);
            HttpApi.Response onReader = reader.http.get("/api/account?min_seq=" + seq, alice.token());
            assertThat(onReader.status()).as(onReader.toString()).isEqualTo(200);
            assertThat(onReader.json().get("balance").asLong()).isEqualTo(97_400);

            // A verification link mailed by the file server: on to the leader, and valid there.
            HttpApi.Response redirected = reader.http.get("/api/verify?" + carolLink, null);
            assertThat(redirected.status()).isEqualTo(307);
            assertThat(redirected.header("Location")).isEqualTo("http://n1.test/api/verify?" + carolLink);
            HttpApi.Response verified = leader.http.get("/api/verify?" + carolLink, null);
            assertThat(verified.status()).as(verified.toString()).isEqualTo(200);
            assertThat(verified.json().get("seq").asLong()).isEqualTo(seq + 1);

            // The first leader sends the new withdrawal's notice, and nothing the file outbox had sent.
            assertThat(leader.http.post("/api/withdraw", Map.of("amount", 200), alice.token(), "w2").status())
                    .isEqualTo(200);
            awaitFiles(temp.resolve("n1").resolve("outbox"), "-withdrawal.eml", 1);
            assertThat(emlFiles(temp.resolve("n1").resolve("outbox")))
                    .as("only the mail of the event after the migration").hasSize(1)
                    .allMatch(name -> name.startsWith(String.format("%020d", seq + 2)));
        } finally {
            leader.close();
        }
    }

    private static Map<String, String> node(String name, String mode) {
        return TestNodes.node(postgres.url(), OPERATOR_KEY, name, mode);
    }

    private static List<String> emlFiles(Path directory) throws Exception {
        if (!Files.isDirectory(directory)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.map(file -> file.getFileName().toString()).filter(name -> name.endsWith(".eml")).toList();
        }
    }

    /** Waits up to ten seconds until {@code directory} holds {@code count} files ending in {@code suffix}. */
    private static void awaitFiles(Path directory, String suffix, int count) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (countOf(directory, suffix) < count) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError(directory + " never held " + count + " *" + suffix);
            }
            Thread.sleep(20);
        }
    }

    private static long countOf(Path directory, String suffix) throws Exception {
        if (!Files.isDirectory(directory)) {
            return 0;
        }
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(file -> file.getFileName().toString().endsWith(suffix)).count();
        }
    }

    private static void awaitStatus(TestServer server, String path, int status) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        HttpApi.Response response = server.http.get(path, null);
        while (response.status() != status) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError(path + " never answered " + status + ": " + response);
            }
            Thread.sleep(20);
            response = server.http.get(path, null);
        }
    }
}
