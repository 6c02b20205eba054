package eventbank.clienttest;

import jakarta.mail.BodyPart;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code eventbank serve} as a child process on a free port, as {@code ./eventbank serve} runs
 * it: only its public entry point ({@code eventbank.server.Main}) and its configuration
 * variables are used. Mail goes to files in the data directory's outbox.
 */
final class ServerProcess {
    /** The key operators send in X-Operator-Key. */
    static final String OPERATOR_KEY = "client-test-operator-key-0123456789";

    private static final Pattern VERIFICATION_LINK =
            Pattern.compile("/api/verify\\?account_number=(\\d{16})&code=([A-Za-z0-9_\\-]+)");
    /** A bound, not a wait: a JVM starts in seconds, but the machine may be shared and loaded. */
    private static final long START_SECONDS_MAX = 120;
    private static final long MAIL_SECONDS_MAX = 10;
    private static final long POLL_MILLIS = 20;

    private final Process process;
    private final Path dataDirectory;
    private final Path console;
    private final int port;

    private ServerProcess(Process process, Path dataDirectory, Path console, int port) {
        this.process = process;
        this.dataDirectory = dataDirectory;
        this.console = console;
        this.port = port;
    }

    /** Starts a server over a new data directory under {@code temp} and waits until it serves. */
    static ServerProcess start(Path temp) throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Path data = temp.resolve("data");
        Path console = temp.resolve("serve.out");
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "eventbank.server.Main", "serve",
                "--data-dir", data.toString(), "--port", Integer.toString(port));
        // In the temporary directory, so that no eventbank.properties of the working directory is read.
        ProcessBuilder builder = new ProcessBuilder(command).directory(temp.toFile())
                .redirectErrorStream(true).redirectOutput(console.toFile());
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(name -> name.startsWith("EVENTBANK_"));
        environment.put("EVENTBANK_AUTH_BCRYPT_COST", "4");
        environment.put("EVENTBANK_MAIL_TRANSPORT", "file");
        environment.put("EVENTBANK_OPERATOR_KEY", OPERATOR_KEY);
        ServerProcess server = new ServerProcess(builder.start(), data, console, port);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_SECONDS_MAX);
        while (!Files.readString(console).contains("serving on")) {
            if (!server.process.isAlive()) {
                throw new AssertionError("the server exited: " + Files.readString(console));
            }
            if (System.nanoTime() > deadline) {
                server.process.destroyForcibly();
                throw new AssertionError("the server did not start: " + Files.readString(console));
            }
            server.process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS); // returns at once if it exits
        }
        return server;
    }

    String baseUri() {
        return "http://127.0.0.1:" + port;
    }

    /** The code of the verification link mailed to this account, read from its .eml file. */
    String verificationCode(String accountNumber) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(MAIL_SECONDS_MAX);
        Optional<String> code = findCode(accountNumber);
        while (code.isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no verification mail for " + accountNumber + " in "
                        + dataDirectory.resolve("outbox"));
            }
            process.waitFor(POLL_MILLIS, TimeUnit.MILLISECONDS); // returns at once if it exits
            code = findCode(accountNumber);
        }
        return code.get();
    }

    private Optional<String> findCode(String accountNumber) throws Exception {
        Path outbox = dataDirectory.resolve("outbox");
        if (!Files.isDirectory(outbox)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(outbox)) {
            // A mail file appears whole or not at all (written under another name, then renamed).
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith("-verification.eml")).toList()) {
                Matcher link = VERIFICATION_LINK.matcher(textOf(file));
                while (link.find()) {
                    if (link.group(1).equals(accountNumber)) {
                        return Optional.of(link.group(2));
                    }
                }
            }
        }
        return Optional.empty();
    }

    private static String textOf(Path file) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            MimeMessage message = new MimeMessage(Session.getInstance(new Properties()), in);
            if (message.getContent() instanceof MimeMultipart multipart) {
                StringBuilder text = new StringBuilder();
                for (int i = 0; i < multipart.getCount(); i++) {
                    BodyPart part = multipart.getBodyPart(i);
                    text.append(part.getContent()).append('\n');
                }
                return text.toString();
            }
            return String.valueOf(message.getContent());
        }
    }

    /** SIGTERM, then the exit code once the server has stopped (0: it stopped cleanly). */
    int stop() throws InterruptedException, IOException {
        process.toHandle().destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.toHandle().destroyForcibly();
            throw new AssertionError("the server did not stop: " + Files.readString(console));
        }
        return process.exitValue();
    }
}
