package eventbank.bench.patroni;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Two PostgreSQL instances managed by Patroni in synchronous mode, with the one etcd Patroni keeps
 * its leader key in: Debian's {@code patroni} and {@code etcd-server}, started as child processes
 * with the configuration files in {@code bench/patroni/} ({@code etcd.yml}, {@code pg1.yml},
 * {@code pg2.yml}; docs/OPERATIONS.md, "PostgreSQL high availability", shows and explains them).
 * Those files name fixed ports and directories under {@value #WORK_DIRECTORY}; {@link #MEMBERS}
 * says the same, and {@link #start} refuses files that do not. So one pair runs on a machine at a
 * time, and what ran is exactly what the files say.
 *
 * <p>PostgreSQL refuses to run as root, so Patroni and etcd run as the {@code postgres} user
 * ({@code setpriv}) when this process is root. {@link #killPrimary} is the fault: SIGKILL of the
 * primary's postmaster and all its children at once, as when its machine dies; Patroni, still
 * running there, demotes it ({@code primary_start_timeout: 0}), the synchronous standby is
 * promoted, and the old primary rejoins as a standby (pg_rewind, or a new copy).
 */
public final class PatroniPair implements AutoCloseable {
    /** One PostgreSQL instance and its Patroni: the name, the REST API's port and PostgreSQL's. */
    public record Member(String name, int restPort, int postgresPort) {
        Path directory() {
            return WORK.resolve(name);
        }

        Path dataDirectory() {
            return directory().resolve("data");
        }

        @Override
        public String toString() {
            return name + " (127.0.0.1:" + postgresPort + ")";
        }
    }

    static final String WORK_DIRECTORY = "/tmp/eventbank-patroni";
    private static final Path WORK = Path.of(WORK_DIRECTORY);
    public static final List<Member> MEMBERS = List.of(new Member("pg1", 58008, 55431),
            new Member("pg2", 58009, 55432));
    private static final int ETCD_CLIENT_PORT = 23790;
    private static final int ETCD_PEER_PORT = 23800;
    private static final String SUPERUSER = "postgres";
    private static final String SUPERUSER_PASSWORD = "bench-superuser-secret";
    private static final String DATABASE = "bank";
    private static final String OS_USER = "postgres";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    /** Between two looks at the pair: each may open a PostgreSQL session, which costs a SCRAM login. */
    private static final long POLL_MILLIS = 100;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private final List<Process> patronis = new ArrayList<>();
    private Process etcd;
    /** Stops the pair when the JVM is stopped by a signal, whatever its caller was doing. */
    private final Thread stopOnExit = new Thread(this::stopQuietly);

    private PatroniPair() {}

    /**
     * Starts etcd and both members on fresh directories (whatever {@value #WORK_DIRECTORY} held is
     * deleted), waits until one is the primary and the other its synchronous standby, and makes the
     * database {@value #DATABASE}. Logs go to {@code etcd.log}, {@code pg1.log}, {@code pg2.log} there.
     *
     * @param configDirectory where {@code etcd.yml}, {@code pg1.yml} and {@code pg2.yml} are
     */
    public static PatroniPair start(Path configDirectory, PrintStream log) throws IOException, InterruptedException {
        checkConfiguration(configDirectory);
        for (int port : List.of(ETCD_CLIENT_PORT, ETCD_PEER_PORT, MEMBERS.get(0).restPort(), MEMBERS.get(1).restPort(),
                MEMBERS.get(0).postgresPort(), MEMBERS.get(1).postgresPort())) {
            requireFree(port);
        }
        prepareDirectories(configDirectory);
        PatroniPair pair = new PatroniPair();
        Runtime.getRuntime().addShutdownHook(pair.stopOnExit);
        try {
            pair.etcd = pair.launch("etcd", "--config-file", WORK.resolve("etcd.yml").toString());
            pair.await(() -> pair.status("http://127.0.0.1:" + ETCD_CLIENT_PORT + "/health") == 200,
                    START_TIMEOUT, "etcd did not answer on port " + ETCD_CLIENT_PORT);
            // The first member initialises the cluster alone; the second then copies it.
            pair.patronis.add(pair.launch("patroni", WORK.resolve("pg1.yml").toString()));
            pair.await(() -> pair.isPrimary(MEMBERS.get(0)), START_TIMEOUT, "pg1 did not become the primary");
            pair.patronis.add(pair.launch("patroni", WORK.resolve("pg2.yml").toString()));
            pair.awaitWhole(START_TIMEOUT);
            pair.createDatabase();
            log.printf("patroni: %s primary, %s its synchronous standby; etcd on 127.0.0.1:%d; configuration %s/"
                    + "{etcd,pg1,pg2}.yml, logs in %s%n", MEMBERS.get(0), MEMBERS.get(1), ETCD_CLIENT_PORT,
                    configDirectory, WORK);
            return pair;
        } catch (IOException | InterruptedException | RuntimeException e) {
            pair.close();
            throw e;
        }
    }

    /**
     * Why a pair cannot run on this machine (a program missing, or root without {@code
     * setpriv}), or null when it can.
     */
    public static String unavailable() {
        List<String> needed = new ArrayList<>(List.of("patroni", "etcd", "/usr/lib/postgresql/15/bin/pg_rewind"));
        if (isRoot()) {
            needed.add("setpriv");
        }
        for (String program : needed) {
            if (!onPath(program)) {
                return program + " is missing (apt-get install -y patroni etcd-server postgresql-15)";
            }
        }
        return null;
    }

    private static boolean onPath(String program) {
        if (program.startsWith("/")) {
            return Files.isExecutable(Path.of(program));
        }
        for (String directory : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (!directory.isEmpty() && Files.isExecutable(Path.of(directory, program))) {
                return true;
            }
        }
        return false;
    }

    /** Every member, by a multi-host URL: a session that asks for the primary finds it (pgjdbc's syntax). */
    public static String journalUrl() {
        StringBuilder hosts = new StringBuilder();
        for (Member member : MEMBERS) {
            hosts.append(hosts.isEmpty() ? "" : ",").append("127.0.0.1:").append(member.postgresPort());
        }
        return "jdbc:postgresql://" + hosts + "/" + DATABASE + "?user=" + SUPERUSER + "&password="
                + SUPERUSER_PASSWORD;
    }

    /** The member whose Patroni holds the leader key and runs PostgreSQL as the primary, or null. */
    public Member primary() {
        for (Member member : MEMBERS) {
            if (isPrimary(member)) {
                return member;
            }
        }
        return null;
    }

    /**
     * Whether Patroni on {@code member} holds the leader key ({@code GET /primary} 200) and its
     * PostgreSQL has left recovery ({@code pg_is_in_recovery()}, asked in a session of its own):
     * the key comes first, the promotion after it, once the standby has replayed what it had.
     */
    public boolean isPrimary(Member member) {
        if (status(restUrl(member, "/primary")) != 200) {
            return false;
        }
        String url = "jdbc:postgresql://127.0.0.1:" + member.postgresPort() + "/postgres?connectTimeout=2"
                + "&socketTimeout=2&ApplicationName=patroni-pair";
        try (Connection connection = DriverManager.getConnection(url, SUPERUSER, SUPERUSER_PASSWORD);
             Statement statement = connection.createStatement();
             ResultSet recovery = statement.executeQuery("SELECT pg_is_in_recovery()")) {
            return recovery.next() && !recovery.getBoolean(1);
        } catch (SQLException notYet) {
            return false;
        }
    }

    /** Whether one member is the primary and the other its synchronous standby, streaming. */
    public boolean whole() {
        Member primary = primary();
        return primary != null && MEMBERS.stream().filter(member -> member != primary)
                .allMatch(member -> status(restUrl(member, "/sync")) == 200);
    }

    /** Waits until the pair is {@link #whole}, at most {@code timeout}. */
    public void awaitWhole(Duration timeout) throws InterruptedException {
        await(this::whole, timeout, "the pair had no primary with a synchronous standby");
    }

    /**
     * SIGKILL of the primary's postmaster and every child of it at once (backends, WAL writer and
     * senders, checkpointer): the primary is gone as with its machine, but Patroni on that member
     * runs on. Waits until the postmaster is gone.
     *
     * @return the member that was the primary
     */
    public Member killPrimary() throws IOException, InterruptedException {
        Member primary = primary();
        if (primary == null) {
            throw new IllegalStateException("no member is the primary");
        }
        long pid = Long.parseLong(Files.readAllLines(primary.dataDirectory().resolve("postmaster.pid")).getFirst()
                .strip());
        ProcessHandle postmaster = ProcessHandle.of(pid)
                .orElseThrow(() -> new IllegalStateException(primary + ": no postmaster with pid " + pid));
        List<ProcessHandle> children = postmaster.children().toList();
        postmaster.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
        try {
            postmaster.onExit().get(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(primary + ": the postmaster " + pid + " outlived its SIGKILL", e);
        }
        return primary;
    }

    /**
     * How the old primaries came back, from the Patroni logs so far: pg_rewind runs that ended
     * well, ones that failed, and copies made anew (a data directory removed, then a base backup).
     */
    public String rejoins() throws IOException {
        int rewound = 0;
        int rewindsFailed = 0;
        int copied = 0;
        for (Member member : MEMBERS) {
            for (String line : Files.readAllLines(WORK.resolve(member.name() + ".log"))) {
                if (line.contains("INFO: pg_rewind exit code=0")) {
                    rewound++;
                } else if (line.contains("pg_rewind exit code=")) {
                    rewindsFailed++;
                } else if (line.contains("INFO: Removing data directory")) {
                    copied++;
                }
            }
        }
        return rewound + " by pg_rewind, " + rewindsFailed + " pg_rewind failed, " + copied + " copied anew";
    }

    /**
     * Stops both Patronis (SIGTERM: each stops its PostgreSQL), then etcd; SIGKILL for what does
     * not stop in time, and for any postmaster left behind.
     */
    @Override
    public void close() throws InterruptedException {
        try {
            Runtime.getRuntime().removeShutdownHook(stopOnExit);
        } catch (IllegalStateException shuttingDown) {
            // The hook runs already, or is this very call.
        }
        stopQuietly();
    }

    private synchronized void stopQuietly() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void stop() throws InterruptedException {
        for (Process patroni : patronis) {
            patroni.destroy();
        }
        for (Process patroni : patronis) {
            stop(patroni);
        }
        for (Member member : MEMBERS) {
            killLeftPostmaster(member);
        }
        if (etcd != null) {
            etcd.destroy();
            stop(etcd);
        }
    }

    private static void stop(Process process) throws InterruptedException {
        if (!process.isAlive()) {
            return;
        }
        if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    private static void killLeftPostmaster(Member member) {
        Path pidFile = member.dataDirectory().resolve("postmaster.pid");
        try {
            if (Files.exists(pidFile)) {
                long pid = Long.parseLong(Files.readAllLines(pidFile).getFirst().strip());
                ProcessHandle.of(pid).filter(process -> process.info().command().orElse("").endsWith("/postgres"))
                        .ifPresent(ProcessHandle::destroyForcibly);
            }
        } catch (IOException | RuntimeException unreadable) {
            // Nothing to stop: no pid file, or one being rewritten by a start that never came.
        }
    }

    /** The files name the ports and directories {@link #MEMBERS} does: else they are not what runs. */
    static void checkConfiguration(Path configDirectory) throws IOException {
        String etcd = Files.readString(configDirectory.resolve("etcd.yml"));
        requireIn(etcd, "etcd.yml", "listen-client-urls: http://127.0.0.1:" + ETCD_CLIENT_PORT,
                "listen-peer-urls: http://127.0.0.1:" + ETCD_PEER_PORT, "data-dir: " + WORK_DIRECTORY + "/etcd");
        for (Member member : MEMBERS) {
            String file = member.name() + ".yml";
            requireIn(Files.readString(configDirectory.resolve(file)), file, "\nname: " + member.name() + "\n",
                    "listen: 127.0.0.1:" + member.restPort(), "listen: 127.0.0.1:" + member.postgresPort(),
                    "data_dir: " + member.dataDirectory(), "host: 127.0.0.1:" + ETCD_CLIENT_PORT,
                    "username: " + SUPERUSER + "\n      password: " + SUPERUSER_PASSWORD);
        }
    }

    private static void requireIn(String text, String file, String... needed) {
        for (String line : needed) {
            if (!text.contains(line)) {
                throw new IllegalStateException(file + " does not say \"" + line.strip() + "\": PatroniPair and the"
                        + " files in bench/patroni/ must agree on ports, directories and the superuser");
            }
        }
    }

    private static void requireFree(int port) throws IOException {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
        } catch (IOException inUse) {
            throw new IOException("port " + port + " on 127.0.0.1 is in use: another Patroni pair of the bench"
                    + " runs (stop it first), or another program holds it", inUse);
        }
    }

    /** A fresh {@value #WORK_DIRECTORY} with the configuration files in it, owned by the user PostgreSQL runs as. */
    private static void prepareDirectories(Path configDirectory) throws IOException {
        if (Files.exists(WORK)) {
            try (Stream<Path> files = Files.walk(WORK)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> {
                    try {
                        Files.delete(path);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            }
        }
        var owner = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));
        Files.createDirectories(WORK, owner);
        Files.createDirectory(WORK.resolve("etcd"), owner);
        for (Member member : MEMBERS) {
            Files.createDirectory(member.directory(), owner);
        }
        for (String file : List.of("etcd.yml", "pg1.yml", "pg2.yml")) {
            Files.copy(configDirectory.resolve(file), WORK.resolve(file), StandardCopyOption.COPY_ATTRIBUTES);
        }
        if (isRoot()) {
            UserPrincipalLookupService users = WORK.getFileSystem().getUserPrincipalLookupService();
            var user = users.lookupPrincipalByName(OS_USER);
            GroupPrincipal group = users.lookupPrincipalByGroupName(OS_USER);
            try (Stream<Path> files = Files.walk(WORK)) {
                for (Path path : files.toList()) {
                    PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
                    view.setOwner(user);
                    view.setGroup(group);
                }
            }
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** A program as the {@code postgres} user, in {@value #WORK_DIRECTORY}, its output appended to {@code name.log}. */
    private Process launch(String program, String... arguments) throws IOException {
        List<String> command = new ArrayList<>();
        if (isRoot()) {
            // setpriv execs the program itself (runuser would stay as its parent), so the
            // process this holds is Patroni's or etcd's own.
            command.addAll(List.of("setpriv", "--reuid=" + OS_USER, "--regid=" + OS_USER, "--init-groups", "--"));
        }
        command.add(program);
        command.addAll(List.of(arguments));
        String logName = program.equals("etcd") ? "etcd" : Path.of(arguments[0]).getFileName().toString()
                .replace(".yml", "");
        ProcessBuilder builder = new ProcessBuilder(command).directory(WORK.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(WORK.resolve(logName + ".log").toFile()));
        builder.environment().put("HOME", WORK_DIRECTORY);
        return builder.start();
    }

    private void createDatabase() {
        Member primary = primary();
        String url = "jdbc:postgresql://127.0.0.1:" + primary.postgresPort() + "/postgres";
        try (Connection connection = DriverManager.getConnection(url, SUPERUSER, SUPERUSER_PASSWORD);
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + DATABASE);
        } catch (SQLException e) {
            throw new IllegalStateException("could not create the database " + DATABASE + " on " + primary, e);
        }
    }

    private static String restUrl(Member member, String path) {
        return "http://127.0.0.1:" + member.restPort() + path;
    }

    /** The status of a GET, or -1 when nothing answered. */
    private int status(String url) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).GET().build();
            return http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException noAnswer) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    private interface Condition {
        boolean holds() throws InterruptedException;
    }

    private void await(Condition condition, Duration timeout, String failure) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.holds()) {
            for (Process process : patronis) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("a Patroni exited with status " + process.exitValue()
                            + "; see the logs in " + WORK);
                }
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(failure + " within " + timeout + "; see the logs in " + WORK);
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
    }
}
