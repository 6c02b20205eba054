package eventbank.server.web;

import eventbank.server.http.HttpApi;
import eventbank.server.http.TestServer;
import eventbank.server.readmodel.ReadModel;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;

/**
 * A real server for the browser tests: on a free port over a data directory, the file mail
 * transport (mails land in {@code data/outbox}), bcrypt cost 4 and an operator key.
 */
public final class WebServer implements AutoCloseable {
    public static final String OPERATOR_KEY = "operator-key-for-the-browser-tests";

    private final TestServer server;

    private WebServer(TestServer server) {
        this.server = server;
    }

    public static WebServer start(Path directory) throws Exception {
        return start(directory, Map.of());
    }

    public static WebServer start(Path directory, Map<String, String> settings) throws Exception {
        Map<String, String> all = new HashMap<>(settings);
        all.putIfAbsent("operator.key", OPERATOR_KEY);
        return new WebServer(TestServer.start(directory.resolve("data"), all));
    }

    /** The address of a path on this server: {@code url("/console")}. */
    public String url(String path) {
        return "http://127.0.0.1:" + server.service.port() + path;
    }

    /** The verification link mailed to the account (waits for its mail to be written). */
    public String verificationLink(String accountNumber) throws Exception {
        return url("/api/verify?" + server.verificationQuery(accountNumber));
    }

    /** The JSON API, for setting up state and checking it beside what the pages show. */
    public HttpApi api() {
        return server.http;
    }

    /** Opens, verifies and logs in an account through the API; its password is "password-" + email. */
    public TestServer.Holder openVerifiedHolder(String email) throws Exception {
        return server.openVerifiedHolder(email);
    }

    /** Opens an account through the API (not verified); its number. Password: "password-" + email. */
    public String open(String email) throws Exception {
        return server.open(email);
    }

    /**
     * Waits until every read model has applied the journal's head (a server started on a long
     * journal rebuilds them first); false when {@code timeout} passes first.
     */
    public boolean awaitReadModels(Duration timeout) throws InterruptedException {
        long head = server.service.engine().committedSeq();
        Instant deadline = Instant.now().plus(timeout);
        for (ReadModel model : server.service.readModels().all()) {
            Duration left = Duration.between(Instant.now(), deadline);
            if (left.isNegative() || !model.awaitSeq(head, left)) {
                return false;
            }
        }
        return true;
    }

    /** Waits until the outbox has handled the mails of every event up to {@code seq}; false on timeout. */
    public boolean awaitOutbox(long seq, Duration timeout) throws InterruptedException {
        return server.service.engine().subscriptions().stream().filter(s -> s.name().equals("outbox")).findFirst()
                .orElseThrow().awaitDelivered(seq, timeout.toMillis());
    }

    public Path dataDirectory() {
        return server.dataDirectory;
    }

    @Override
    public void close() throws Exception {
        server.close();
    }
}
