package eventbank.server.http;

import static eventbank.server.http.TestNodes.await;
import static org.assertj.core.api.Assertions.assertThat;

import eventbank.engine.keys.PersonalKeys;
import eventbank.postgres.PostgresExtension;
import eventbank.postgres.PostgresJournalConfig;
import eventbank.postgres.PostgresKeyTable;
import eventbank.postgres.PostgresSharedJournal;
import eventbank.server.Main;
import eventbank.server.mail.DeadLetter;
import eventbank.server.mail.OutgoingMail;
import eventbank.server.mail.PostgresOutboxStore;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Forgetting a holder in cluster mode (DESIGN.md, "Personal data"): the data keys live in the
 * journal's database, and after the forget no row of any eventbank table, nor any file of either
 * node's data directory, holds the holder's email, password hash or a digest of the email; the
 * journal verifies with its chain unchanged up to the forget. After {@code rotate-keys}, a copy
 * of the database taken before the forget no longer opens the holder's fields.
 */
class ClusterForgetTest {
    @RegisterExtension
    static final PostgresExtension postgres = new PostgresExtension();

    private static final String OPERATOR_KEY = "operator-key-of-the-cluster-forget-test";
    private static final String EMAIL = "Alice.Forgotten@Example.com";

    @TempDir
    Path temp;

    private Map<String, String> node(String name) {
        return TestNodes.node(postgres.url(), OPERATOR_KEY, name, "writer", temp.resolve("kek"));
    }

    @Test
    void aForgottenHoldersPersonalDataIsNowhereInTheDatabaseNorTheNodes() throws Exception {
        String alice;
        String aliceHash;
        String bobEmail = "bob@example.com";
        TestServer.Holder bob;
        long headSeq;
        byte[] headHash;
        TestServer a = TestServer.start(temp.resolve("a"), node("a"));
        TestServer b = TestServer.start(temp.resolve("b"), node("b"));
        try {
            long epoch = await(a, "/health/leader", response -> response.status() == 200).json().get("epoch").asLong();
            TestServer.Holder holder = a.openVerifiedHolder(EMAIL);
            alice = holder.number();
            bob = a.openVerifiedHolder(bobEmail);
            a.open("carol@example.com");
            assertThat(a.http.post("/api/money_transfer", Map.of("to_account_number", bob.number(), "amount", 40_000),
                    holder.token(), null).status()).isEqualTo(200);
            HttpApi.Response withdrawn = a.http.post("/api/withdraw", Map.of("amount", 60_000), holder.token(), null);
            assertThat(withdrawn.status()).isEqualTo(200);
            aliceHash = a.service.readModels().accounts().account(Long.parseLong(alice)).orElseThrow().passwordHash();
            // The withdrawal notice bounced for good: a dead letter in the database names her.
            try (PostgresOutboxStore store = new PostgresOutboxStore(postgres.config("a outbox"))) {
                assertThat(store.setAside(new DeadLetter(withdrawn.json().get("seq").asLong(),
                        OutgoingMail.Kind.WITHDRAWAL, "<" + withdrawn.json().get("seq").asLong() + ".withdrawal."
                        + alice + "@eventbank>", EMAIL, "Withdrawal", Instant.now(), Long.parseLong(alice), 60_000,
                        0, "550 mailbox unavailable", Instant.now()), epoch)).isTrue();
            }
            assertThat(a.http.post("/api/account/close", Map.of(), holder.token(), null).status()).isEqualTo(200);
            var head = a.http.operatorGet("/api/admin/audit/head", OPERATOR_KEY).json();
            headSeq = head.get("seq").asLong();
            headHash = HexFormat.of().parseHex(head.get("hash").asText());
            List<byte[]> secrets = secrets(aliceHash);
            assertThat(rowsHolding(postgres.url(), secrets)).as("before the forget").isNotEmpty();
        } finally {
            b.close();
            a.close();
        }

        // A copy of the database as it is before the forget (a backup), with the KEK of the day.
        String backup = databaseOf(postgres.url()) + "_backup";
        try (Connection connection = DriverManager.getConnection(PostgresExtension.urlOf("postgres"));
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + backup + " TEMPLATE " + databaseOf(postgres.url()));
        }
        String backupUrl = PostgresExtension.urlOf(backup);
        assertThat(eventsOf(backupUrl).out()).as("the backup opens with the KEK").contains(EMAIL);

        a = TestServer.start(temp.resolve("a"), node("a"));
        b = TestServer.start(temp.resolve("b"), node("b"));
        List<byte[]> secrets = secrets(aliceHash);
        try {
            TestServer leader = await(a, "/health", response -> !response.json().get("leader_url").isNull())
                    .json().get("leader_url").asText().equals("http://a.test") ? a : b;
            TestServer standby = leader == a ? b : a;
            await(leader, "/health/leader", response -> response.status() == 200);
            HttpApi.Response forgotten = leader.http.operatorPost("/api/admin/accounts/" + alice + "/forget", "",
                    OPERATOR_KEY);
            assertThat(forgotten.status()).as(forgotten.toString()).isEqualTo(200);
            long forgetSeq = forgotten.json().get("seq").asLong();
            for (var subscription : standby.service.engine().subscriptions()) {
                assertThat(subscription.awaitDelivered(forgetSeq, 10_000)).isTrue();
            }

            assertThat(rowsHolding(postgres.url(), secrets)).as("the database after the forget").isEmpty();
            assertThat(HttpForgetTest.filesHolding(temp.resolve("a"), secrets)).as("node a's files").isEmpty();
            assertThat(HttpForgetTest.filesHolding(temp.resolve("b"), secrets)).as("node b's files").isEmpty();
            HttpApi.Response login = leader.http.post("/api/login", Map.of("account_number", alice,
                    "password", "password-" + EMAIL), null, null);
            assertThat(login.status()).isEqualTo(401);
            assertThat(login.error()).isEqualTo("invalid_credentials");
            String events = standby.http.operatorGet("/api/admin/events?account=" + alice, OPERATOR_KEY).body();
            assertThat(events).contains("\"email\":null,\"forgotten\":true").contains("\"amount\":60000");
            assertThat(standby.http.get("/api/account?min_seq=" + forgetSeq, bob.token()).json().get("email").asText())
                    .isEqualTo(bobEmail);
        } finally {
            b.close();
            a.close();
        }

        // The journal verifies, and its chain up to the forget is the one before it.
        Run verify = run(Map.of(), "verify", "--journal-url", postgres.url());
        assertThat(verify.exitCode()).as(verify.toString()).isZero();
        try (PostgresSharedJournal journal = new PostgresSharedJournal(postgres.config("checker"), false)) {
            assertThat(journal.chainHashAt(headSeq)).isEqualTo(headHash);
        }
        assertThat(rowsHolding(postgres.url(), secrets)).as("after the nodes stopped").isEmpty();

        // rotate-keys: every node stopped, and the last leader's lease run out (a stop does not end it).
        // The KEK of the backup is destroyed: the backup no longer opens.
        awaitLeaseLapsed();
        Run rotated = run(Map.of(), "rotate-keys", "--journal-url", postgres.url(), "--data-dir",
                temp.resolve("a").toString(), "--kek-file", temp.resolve("kek").toString());
        assertThat(rotated.exitCode()).as(rotated.toString()).isZero();
        assertThat(rotated.out()).contains("re-wrapped: 2 live data keys (1 erased");
        Run fromBackup = eventsOf(backupUrl);
        assertThat(fromBackup.out()).doesNotContain(EMAIL).doesNotContain(bobEmail);
        assertThat(fromBackup.err()).contains("sealed emails are shown as null");
        // The bank itself goes on under the new KEK.
        try (TestServer restarted = TestServer.start(temp.resolve("b"), node("b"))) {
            await(restarted, "/health/leader", response -> response.status() == 200);
            assertThat(restarted.http.get("/api/account", bob.token()).json().get("email").asText()).isEqualTo(bobEmail);
            assertThat(restarted.http.post("/api/account", Map.of("email", EMAIL, "password", "a new one"), null, null)
                    .status()).as("the email is free again").isEqualTo(201);
        }
    }

    /** The forgotten email, her password hash, and the email's digests, in every encoding the code uses. */
    private List<byte[]> secrets(String passwordHash) throws Exception {
        long[] keyed;
        try (PersonalKeys keys = PersonalKeys.open(new PostgresKeyTable(postgres.config("checker")),
                temp.resolve("kek"), false)) {
            keyed = keys.emailDigest(EMAIL);
        }
        List<byte[]> secrets = new ArrayList<>(HttpForgetTest.secretsOf(EMAIL, passwordHash));
        byte[] digest = ByteBuffer.allocate(16).putLong(keyed[0]).putLong(keyed[1]).array();
        secrets.addAll(HttpForgetTest.encodings(digest));
        return secrets;
    }

    /**
     * The rows of every table of the database that hold any of {@code secrets}: each row as
     * PostgreSQL prints it in JSON (a bytea in hex), and each bytea column's bytes as they are.
     */
    private static List<String> rowsHolding(String url, List<byte[]> secrets) throws Exception {
        List<String> found = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(url);
             Statement statement = connection.createStatement()) {
            List<String> tables = new ArrayList<>();
            try (ResultSet rows = statement.executeQuery("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")) {
                while (rows.next()) {
                    tables.add(rows.getString(1));
                }
            }
            assertThat(tables).contains("eventbank_batches", "eventbank_data_keys", "eventbank_dead_letters");
            for (String table : tables) {
                try (ResultSet rows = statement.executeQuery("SELECT row_to_json(t)::text FROM " + table + " t")) {
                    while (rows.next()) {
                        byte[] text = rows.getString(1).getBytes(StandardCharsets.UTF_8);
                        found.addAll(HttpForgetTest.holding(table, text, secrets));
                    }
                }
                List<String> byteColumns = new ArrayList<>();
                try (ResultSet columns = connection.getMetaData().getColumns(null, "public", table, null)) {
                    while (columns.next()) {
                        if ("bytea".equals(columns.getString("TYPE_NAME"))) {
                            byteColumns.add(columns.getString("COLUMN_NAME"));
                        }
                    }
                }
                for (String column : byteColumns) {
                    try (ResultSet rows = statement.executeQuery("SELECT " + column + " FROM " + table)) {
                        while (rows.next()) {
                            found.addAll(HttpForgetTest.holding(table + "." + column, rows.getBytes(1), secrets));
                        }
                    }
                }
            }
        }
        return found;
    }

    /** Waits, up to ten seconds, for the head's lease to run out by the database's clock. */
    private static void awaitLeaseLapsed() throws Exception {
        Instant deadline = Instant.now().plusSeconds(10);
        try (Connection connection = postgres.connect(); Statement statement = connection.createStatement()) {
            while (true) {
                try (ResultSet head = statement.executeQuery(
                        "SELECT coalesce(lease_expires_at < clock_timestamp(), true) FROM eventbank_head")) {
                    head.next();
                    if (head.getBoolean(1)) {
                        return;
                    }
                }
                if (Instant.now().isAfter(deadline)) {
                    throw new AssertionError("the last leader's lease never ran out");
                }
                Thread.sleep(50);
            }
        }
    }

    private static String databaseOf(String url) {
        String path = url.substring(url.lastIndexOf('/') + 1);
        int query = path.indexOf('?');
        return query < 0 ? path : path.substring(0, query);
    }

    private Run eventsOf(String url) {
        return run(Map.of("EVENTBANK_KEYS_KEK_FILE", temp.resolve("kek").toString()), "events", "--journal-url", url,
                "--type", "AccountOpened");
    }

    private record Run(int exitCode, String out, String err) {}

    private static Run run(Map<String, String> environment, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine commandLine = Main.commandLine(environment).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
        int exitCode = commandLine.execute(args);
        commandLine.getOut().flush();
        commandLine.getErr().flush();
        return new Run(exitCode, out.toString(), err.toString());
    }
}
