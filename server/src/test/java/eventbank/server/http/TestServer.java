package eventbank.server.http;

import eventbank.server.BankService;
import eventbank.server.config.Config;
import eventbank.server.config.ConfigLoader;
import jakarta.mail.BodyPart;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** A real server on a free port over a data directory, with bcrypt cost 4, and its client. */
public final class TestServer implements AutoCloseable {
    private static final Pattern LINK = Pattern.compile("https?://\\S*/api/verify\\?(account_number=\\d{16}&code=[A-Za-z0-9_\\-]+)");

    public final Path dataDirectory;
    final Config config;
    public final BankService service;
    public final HttpApi http;
    final ByteArrayOutputStream console = new ByteArrayOutputStream();

    private TestServer(Path dataDirectory, Map<String, String> settings) throws Exception {
        this(dataDirectory, settings, Clock.systemUTC());
    }

    private TestServer(Path dataDirectory, Map<String, String> settings, Clock clock) throws Exception {
        this.dataDirectory = dataDirectory;
        Map<String, String> overrides = new HashMap<>(settings);
        overrides.put("data.dir", dataDirectory.toString());
        overrides.putIfAbsent("auth.bcrypt_cost", "4");
        this.config = new ConfigLoader(Map.of(), dataDirectory.getParent()).load(null, overrides);
        this.service = BankService.start(config, "127.0.0.1", 0,
                new PrintStream(console, true, StandardCharsets.UTF_8), clock);
        this.http = new HttpApi("http://127.0.0.1:" + service.port());
    }

    public static TestServer start(Path dataDirectory) throws Exception {
        return new TestServer(dataDirectory, Map.of());
    }

    public static TestServer start(Path dataDirectory, Map<String, String> settings) throws Exception {
        return new TestServer(dataDirectory, settings);
    }

    /** With the clock the HTTP layer reads (rate limits, tokens): a fixed one makes limits independent of speed. */
    static TestServer start(Path dataDirectory, Map<String, String> settings, Clock clock) throws Exception {
        return new TestServer(dataDirectory, settings, clock);
    }

    /** The query of the verification link mailed to this account, read from its .eml file. */
    public String verificationQuery(String accountNumber) throws Exception {
        Path outbox = dataDirectory.resolve("outbox");
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (Instant.now().isBefore(deadline)) {
            Optional<String> found = findLink(outbox, accountNumber);
            if (found.isPresent()) {
                return found.get();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no verification mail for " + accountNumber + " in " + outbox);
    }

    private static Optional<String> findLink(Path outbox, String accountNumber) throws Exception {
        if (!Files.isDirectory(outbox)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(outbox)) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith("-verification.eml")).toList()) {
                String text = textOf(file);
                Matcher matcher = LINK.matcher(text);
                while (matcher.find()) {
                    if (matcher.group(1).contains("account_number=" + accountNumber)) {
                        return Optional.of(matcher.group(1));
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static String textOf(Path file) throws Exception {
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            MimeMessage message = new MimeMessage(Session.getInstance(properties), in);
            Object content = message.getContent();
            if (content instanceof MimeMultipart multipart) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < multipart.getCount(); i++) {
                    BodyPart part = multipart.getBodyPart(i);
                    text.append(part.getContent()).append('\n');
                }
                return text.toString();
            }
            return String.valueOf(content);
        }
    }

    /** Opens, verifies (through the mailed link) and logs in an account: its number and token. */
    public Holder openVerifiedHolder(String email) throws Exception {
        String number = open(email);
        HttpApi.Response verified = http.get("/api/verify?" + verificationQuery(number), null);
        if (verified.status() != 200) {
            throw new AssertionError("verify: " + verified);
        }
        return new Holder(number, login(number, "password-" + email));
    }

    public String open(String email) throws Exception {
        HttpApi.Response opened = http.post("/api/account",
                Map.of("email", email, "password", "password-" + email), null, null);
        if (opened.status() != 201) {
            throw new AssertionError("open: " + opened);
        }
        return opened.json().get("account_number").asText();
    }

    public String login(String number, String password) throws Exception {
        HttpApi.Response login = http.post("/api/login", Map.of("account_number", number, "password", password),
                null, null);
        if (login.status() != 200) {
            throw new AssertionError("login: " + login);
        }
        return login.json().get("token").asText();
    }

    public record Holder(String number, String token) {}

    public String consoleText() {
        return console.toString(StandardCharsets.UTF_8);
    }

    /**
     * The console once it holds {@code expected}: the file transport prints a link just after its
     * mail file appears, so a test that found the file may look at the console a moment too soon.
     */
    String awaitConsole(String expected) throws InterruptedException {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(10));
        while (!consoleText().contains(expected) && Instant.now().isBefore(deadline)) {
            Thread.sleep(10);
        }
        return consoleText();
    }

    @Override
    public void close() throws Exception {
        service.close();
    }
}
