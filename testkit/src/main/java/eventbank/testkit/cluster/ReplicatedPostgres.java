package eventbank.testkit.cluster;

import eventbank.testkit.ConsoleLog;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A PostgreSQL primary and its streaming standbys on this machine, as production runs them
 * (issue 13): each an instance of Debian's PostgreSQL server ({@code initdb}, {@code pg_ctl},
 * {@code pg_basebackup}; the embedded binaries lack {@code pg_basebackup}) on 127.0.0.1, with
 * {@code fsync} and {@code synchronous_commit} on, and the standbys named in the primary's
 * {@code synchronous_standby_names} unless asked to be asynchronous. The tests' side of a
 * failover is done by hand, as an HA manager (Patroni) would: {@link #killPrimary} is the loss
 * of the primary's machine, {@link #promote} a standby's promotion, {@link #addStandby} a
 * standby rebuilt from the new primary.
 *
 * <p>The instances take turns on a fixed set of ports, one per instance started first: a new
 * standby takes the port of one that was killed, so that {@link #url}, the multi-host URL of
 * every port, stays true over any number of failovers. A standby starts without synchronous
 * standbys of its own: promoted, it commits without waiting for anyone until {@link
 * #addStandby} names one (Patroni's non-strict synchronous mode does likewise). The instances
 * other than a promoted one keep following the killed primary's port, where the next standby
 * comes; nothing repoints them.
 *
 * <p>Debian's tools refuse to run as root: as root, they run as the {@code postgres} user the
 * package creates, in a directory of their own that user owns.
 */
public final class ReplicatedPostgres implements AutoCloseable {
    /** The superuser, made by {@code initdb}; every host (local and 127.0.0.1) trusts it. */
    public static final String USER = "postgres";
    private static final Path INSTALLATIONS = Path.of("/usr/lib/postgresql");
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    private static final long POLL_MILLIS = 10;
    /** The settings of every instance; the standbys' copies come with {@code pg_basebackup}. */
    private static final List<String> SETTINGS = List.of(
            "listen_addresses = '127.0.0.1'",
            "wal_level = replica",
            "fsync = on",
            "synchronous_commit = on",
            "hot_standby = on",
            "max_wal_senders = 10",
            "max_connections = 200",
            "shared_buffers = 32MB",
            "log_line_prefix = '%m [%p] %a '");

    /** How a standby's commits relate to the primary's. */
    public enum Replication {
        /** Named in {@code synchronous_standby_names}: the primary's commits wait for its flush. */
        SYNCHRONOUS,
        /** Streams, but no commit waits for it. */
        ASYNCHRONOUS
    }

    /** One PostgreSQL server: its data directory, its port, and whether it still runs. */
    public final class Instance {
        private final String name;
        private final int port;
        private final Path dataDirectory;
        private final Replication replication;
        private volatile long postmasterPid;
        private volatile boolean running;
        private volatile boolean stopped;

        private Instance(String name, int port, Replication replication) {
            this.name = name;
            this.port = port;
            this.dataDirectory = directory.resolve(name);
            this.replication = replication;
        }

        /** Its name, which is also its {@code application_name} on the primary it streams from. */
        public String name() {
            return name;
        }

        public int port() {
            return port;
        }

        public Path dataDirectory() {
            return dataDirectory;
        }

        /** How it was made a standby; null for the first primary. */
        public Replication replication() {
            return replication;
        }

        /** The JDBC URL of {@code database} on this instance alone. */
        public String url(String database) {
            return "jdbc:postgresql://127.0.0.1:" + port + "/" + database + "?user=" + USER;
        }

        /** Whether it runs (stopped with {@link #stopStandby} or not); false once killed. */
        public boolean running() {
            return running;
        }

        @Override
        public String toString() {
            return name + " (127.0.0.1:" + port + ")";
        }
    }

    private final Path bin;
    private final Path directory;
    private final boolean asRoot;
    private final List<Integer> ports;
    private final List<Instance> instances = new CopyOnWriteArrayList<>();
    private volatile Instance primary;

    private ReplicatedPostgres(Path bin, Path directory, boolean asRoot, List<Integer> ports) {
        this.bin = bin;
        this.directory = directory;
        this.asRoot = asRoot;
        this.ports = List.copyOf(ports);
    }

    /**
     * Starts a primary and one standby for each of {@code standbys}, in a directory of its own
     * under {@code java.io.tmpdir}; returns once every synchronous standby is in sync.
     *
     * @throws IllegalStateException when Debian's PostgreSQL server is not installed
     */
    public static ReplicatedPostgres start(Replication... standbys)
            throws IOException, InterruptedException, SQLException {
        Path bin = newestInstallation();
        boolean asRoot = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid") == 0;
        Path directory = Files.createTempDirectory("replicated-postgres-");
        List<Integer> ports = new ArrayList<>();
        for (int i = 0; i <= standbys.length; i++) {
            ports.add(freePort());
        }
        ReplicatedPostgres postgres = new ReplicatedPostgres(bin, directory, asRoot, ports);
        try {
            postgres.giveToPostgresUser(directory);
            postgres.startPrimary();
            for (Replication standby : standbys) {
                postgres.addStandby(standby);
            }
        } catch (IOException | InterruptedException | SQLException | RuntimeException e) {
            postgres.close();
            throw e;
        }
        return postgres;
    }

    /** The {@code bin} directory of the newest PostgreSQL that Debian's packages installed. */
    private static Path newestInstallation() throws IOException {
        List<Path> installed = new ArrayList<>();
        if (Files.isDirectory(INSTALLATIONS)) {
            try (Stream<Path> versions = Files.list(INSTALLATIONS)) {
                versions.filter(version -> version.getFileName().toString().matches("\\d+"))
                        .map(version -> version.resolve("bin"))
                        .filter(candidate -> Files.isExecutable(candidate.resolve("pg_basebackup")))
                        .forEach(installed::add);
            }
        }
        if (installed.isEmpty()) {
            throw new IllegalStateException("no " + INSTALLATIONS + "/<version>/bin/pg_basebackup: the replication"
                    + " tests need Debian's PostgreSQL server (initdb, pg_ctl, pg_basebackup), package postgresql:"
                    + " apt-get install postgresql (.ci/run installs it)");
        }
        return installed.stream().max(Comparator.comparingInt(path -> Integer.parseInt(
                path.getParent().getFileName().toString()))).orElseThrow();
    }

    /** The multi-host URL of {@code database}: every port an instance takes, in order. */
    public String url(String database) {
        return "jdbc:postgresql://" + ports.stream().map(port -> "127.0.0.1:" + port)
                .collect(Collectors.joining(",")) + "/" + database + "?user=" + USER;
    }

    public Instance primary() {
        return primary;
    }

    /** The instances that run and are not the primary. */
    public List<Instance> standbys() {
        return instances.stream().filter(instance -> instance.running && instance != primary).toList();
    }

    /** A running synchronous standby, the one to promote. */
    public Instance synchronousStandby() {
        return standbys().stream().filter(standby -> standby.replication == Replication.SYNCHRONOUS).findFirst()
                .orElseThrow(() -> new IllegalStateException("no synchronous standby runs"));
    }

    /** Creates {@code database} on the primary (the standbys get it by replication). */
    public void createDatabase(String database) throws SQLException {
        execute(primary, "CREATE DATABASE " + database);
    }

    /**
     * The loss of the primary's machine: its postmaster is stopped (SIGSTOP, so that it starts
     * no more processes), then it and every process it started are SIGKILLed by one {@code
     * kill}, nothing of it running after: no backend answers, no WAL sender sends. Unlike {@code
     * pg_ctl stop -m immediate}, nobody is told. Its directory stays until a standby takes its port.
     *
     * @return the killed instance
     */
    public Instance killPrimary() throws IOException, InterruptedException {
        Instance killed = primary;
        kill(killed);
        return killed;
    }

    /**
     * The loss of a standby's machine, as {@link #killPrimary} is the primary's; its port is
     * free for {@link #addStandby} then.
     */
    public void killStandby(Instance standby) throws IOException, InterruptedException {
        if (standby == primary) {
            throw new IllegalArgumentException(standby + " is the primary");
        }
        kill(standby);
    }

    /**
     * Promotes {@code standby} ({@code pg_promote}) and returns once it is out of recovery; it
     * is the primary from then on.
     */
    public void promote(Instance standby) throws SQLException, InterruptedException {
        if (standby == primary || !standby.running) {
            throw new IllegalArgumentException(standby + " is not a running standby");
        }
        try (Connection connection = connect(standby);
             Statement statement = connection.createStatement();
             ResultSet promoted = statement.executeQuery("SELECT pg_promote(true, "
                     + READY_TIMEOUT.toSeconds() + ")")) {
            promoted.next();
            if (!promoted.getBoolean(1)) {
                throw new IllegalStateException(standby + " was not promoted within " + READY_TIMEOUT);
            }
        }
        await(() -> !inRecovery(standby), standby + " still in recovery after pg_promote");
        primary = standby;
    }

    /**
     * Waits until {@code standby} has replayed all the WAL it received: once its primary is
     * dead, what it shows then is all it will have when promoted.
     */
    public void awaitReplayed(Instance standby) throws SQLException, InterruptedException {
        await(() -> {
            try (Connection connection = connect(standby);
                 Statement statement = connection.createStatement();
                 ResultSet lsns = statement.executeQuery("SELECT pg_last_wal_receive_lsn() IS NULL"
                         + " OR pg_last_wal_replay_lsn() >= pg_last_wal_receive_lsn()")) {
                lsns.next();
                return lsns.getBoolean(1);
            }
        }, standby + " did not replay the WAL it received");
    }

    /**
     * A new standby, copied from the primary by {@code pg_basebackup -R} on a port no instance
     * runs on (a killed one's: its directory is deleted first), started, and streaming; a
     * synchronous one is named in the primary's {@code synchronous_standby_names} ({@code ALTER
     * SYSTEM}, reload) and returned once the primary reports it in sync.
     */
    public Instance addStandby(Replication replication) throws IOException, InterruptedException, SQLException {
        int port = ports.stream().filter(candidate -> instances.stream()
                        .noneMatch(instance -> instance.running && instance.port == candidate)).findFirst()
                .orElseThrow(() -> new IllegalStateException("every port has a running instance: kill one first"));
        for (Instance previous : instances) {
            if (previous.port == port) {
                removeDirectory(previous.dataDirectory);
            }
        }
        Instance standby = new Instance("pg" + (instances.size() + 1), port, replication);
        run(bin.resolve("pg_basebackup").toString(), "--pgdata", standby.dataDirectory.toString(),
                "--wal-method=stream", "--checkpoint=fast", "--write-recovery-conf", "--no-sync", "--dbname",
                "host=127.0.0.1 port=" + primary.port + " user=" + USER + " application_name=" + standby.name);
        // The copy has the lock files of the sockets in the primary's directory (its port, and the
        // ports of those it was copied from): one would stop this standby on a port it had.
        try (Stream<Path> files = Files.list(standby.dataDirectory)) {
            for (Path lock : files.filter(file -> file.getFileName().toString().startsWith(".s.PGSQL.")).toList()) {
                Files.delete(lock);
            }
        }
        // The copy names the primary's synchronous standbys: as a primary, this one waits for none
        // until addStandby names one.
        Path autoConf = standby.dataDirectory.resolve("postgresql.auto.conf");
        List<String> kept = Files.readAllLines(autoConf).stream()
                .filter(line -> !line.strip().startsWith("synchronous_standby_names")).toList();
        Files.write(autoConf, kept);
        startInstance(standby);
        if (replication == Replication.SYNCHRONOUS) {
            List<String> names = standbys().stream().filter(other -> other.replication == Replication.SYNCHRONOUS)
                    .map(Instance::name).toList();
            execute(primary, "ALTER SYSTEM SET synchronous_standby_names = '" + String.join(", ", names) + "'");
            execute(primary, "SELECT pg_reload_conf()");
        }
        String state = replication == Replication.SYNCHRONOUS ? "sync" : "async";
        await(() -> state.equals(syncState(standby)), standby + " did not stream " + state + "hronously from "
                + primary);
        return standby;
    }

    /** SIGSTOP of every process of {@code standby}: it holds its connections and answers nothing. */
    public void stopStandby(Instance standby) throws IOException, InterruptedException {
        signalAll(standby, "STOP", processesOf(standby));
        standby.stopped = true;
    }

    /** SIGCONT of every process of {@code standby}: it goes on from where it was stopped. */
    public void continueStandby(Instance standby) throws IOException, InterruptedException {
        signalAll(standby, "CONT", processesOf(standby));
        standby.stopped = false;
    }

    /** Kills every instance still running and deletes the directory. */
    @Override
    public void close() throws IOException, InterruptedException {
        for (Instance instance : instances) {
            if (instance.running) {
                kill(instance);
            }
        }
        removeDirectory(directory);
    }

    private void startPrimary() throws IOException, InterruptedException {
        Instance first = new Instance("pg1", ports.getFirst(), null);
        run(bin.resolve("initdb").toString(), "--pgdata", first.dataDirectory.toString(), "--username", USER,
                "--auth", "trust", "--encoding", "UTF8", "--locale", "C", "--no-sync");
        Files.write(first.dataDirectory.resolve("postgresql.conf"), SETTINGS, StandardOpenOption.APPEND);
        startInstance(first);
        primary = first;
    }

    /** {@code pg_ctl start} with the instance's own port and socket directory; waits until it accepts. */
    private void startInstance(Instance instance) throws IOException, InterruptedException {
        instances.add(instance);
        Path log = directory.resolve(instance.name + ".log");
        try {
            run(bin.resolve("pg_ctl").toString(), "start", "--wait", "--timeout", Long.toString(
                    READY_TIMEOUT.toSeconds()), "--pgdata", instance.dataDirectory.toString(), "--log",
                    log.toString(), "--options", "-p " + instance.port + " -k " + instance.dataDirectory
                            + " -c cluster_name=" + instance.name);
        } catch (IOException failed) {
            throw new IOException(failed.getMessage() + "\n" + instance + "'s log ends:\n"
                    + ConsoleLog.tail(Files.exists(log) ? Files.readString(log) : ""), failed);
        }
        instance.postmasterPid = Long.parseLong(Files.readAllLines(instance.dataDirectory.resolve("postmaster.pid"))
                .getFirst().strip());
        instance.running = true;
    }

    private void kill(Instance instance) throws IOException, InterruptedException {
        // Stopped first, the postmaster forks no process between the listing and the kill.
        if (!instance.stopped) {
            signalAll(instance, "STOP", List.of(instance.postmasterPid));
            await(() -> "T".equals(processState(instance.postmasterPid)), instance + "'s postmaster did not stop");
        }
        List<Long> processes = processesOf(instance);
        signalAll(instance, "KILL", processes);
        for (long pid : processes) {
            await(() -> isGone(pid), "process " + pid + " of " + instance + " outlived SIGKILL");
        }
        instance.running = false;
        instance.stopped = false;
        removeSharedMemory(instance);
    }

    /** The postmaster and every process it started. */
    private static List<Long> processesOf(Instance instance) {
        List<Long> pids = new ArrayList<>(List.of(instance.postmasterPid));
        ProcessHandle.of(instance.postmasterPid).ifPresent(postmaster -> postmaster.descendants()
                .forEach(child -> pids.add(child.pid())));
        return pids;
    }

    private void signalAll(Instance instance, String signal, List<Long> pids) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("kill", "-" + signal));
        pids.forEach(pid -> command.add(Long.toString(pid)));
        Process kill = new ProcessBuilder(command).redirectErrorStream(true).start();
        String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " of " + instance + "'s processes " + pids + " failed: " + said);
        }
    }

    /**
     * The System V segment of a killed instance (the key and id on the seventh line of its
     * {@code postmaster.pid}): a postmaster removes it when it stops, a killed one never does.
     */
    private void removeSharedMemory(Instance killed) throws IOException, InterruptedException {
        List<String> lines = Files.readAllLines(killed.dataDirectory.resolve("postmaster.pid"));
        String[] keyAndId = lines.size() > 6 ? lines.get(6).strip().split("\\s+") : new String[0];
        if (keyAndId.length == 2 && !keyAndId[1].equals("0")) {
            new ProcessBuilder("ipcrm", "-m", keyAndId[1]).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
        }
    }

    /** The state letter in {@code /proc/<pid>/stat} (R, S, T, Z, ...), or null when there is no such process. */
    private static String processState(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return stat.substring(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch (IOException gone) {
            return null;
        }
    }

    /** Dead: no such process, or a zombie that nobody reaps (its parent died, and init here may not reap). */
    private static boolean isGone(long pid) {
        String state = processState(pid);
        return state == null || state.equals("Z") || state.equals("X");
    }

    private String syncState(Instance standby) throws SQLException {
        try (Connection connection = connect(primary);
             PreparedStatement statement = connection.prepareStatement("SELECT sync_state FROM pg_stat_replication"
                     + " WHERE application_name = ? AND state = 'streaming'")) {
            statement.setString(1, standby.name);
            try (ResultSet row = statement.executeQuery()) {
                return row.next() ? row.getString(1) : null;
            }
        }
    }

    private boolean inRecovery(Instance instance) throws SQLException {
        try (Connection connection = connect(instance);
             Statement statement = connection.createStatement();
             ResultSet recovery = statement.executeQuery("SELECT pg_is_in_recovery()")) {
            recovery.next();
            return recovery.getBoolean(1);
        }
    }

    private static void execute(Instance instance, String sql) throws SQLException {
        try (Connection connection = connect(instance);
             Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private static Connection connect(Instance instance) throws SQLException {
        return DriverManager.getConnection(instance.url("postgres"));
    }

    /**
     * Runs one of PostgreSQL's tools to its end (as the {@code postgres} user when this is root),
     * in the instances' directory; a failure's message has what it said.
     */
    private void run(String... tool) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        if (asRoot) {
            command.addAll(List.of("runuser", "-u", USER, "--"));
        }
        command.addAll(List.of(tool));
        Path output = Files.createTempFile(directory, "command-", ".out");
        Process process = new ProcessBuilder(command).directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(output.toFile()).start();
        boolean ended = process.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        if (!ended) {
            process.destroyForcibly().waitFor();
        }
        String said = Files.readString(output);
        Files.delete(output);
        if (!ended || process.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + (ended ? " failed with status " + process.exitValue()
                    : " did not end within " + COMMAND_TIMEOUT) + "; it said:\n" + said);
        }
    }

    /**
     * Makes {@code path} the {@code postgres} user's when this is root, and checks that the user
     * can reach it: every directory above it must let others through.
     */
    private void giveToPostgresUser(Path path) throws IOException {
        if (!asRoot) {
            return;
        }
        UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        try {
            view.setOwner(users.lookupPrincipalByName(USER));
            view.setGroup(users.lookupPrincipalByGroupName(USER));
        } catch (UserPrincipalNotFoundException e) {
            throw new IllegalStateException("no user " + USER + ": Debian's package postgresql makes it (apt-get"
                    + " install postgresql)", e);
        }
        for (Path above = path.toAbsolutePath().getParent(); above != null; above = above.getParent()) {
            if (!Files.getPosixFilePermissions(above).contains(PosixFilePermission.OTHERS_EXECUTE)) {
                throw new IllegalStateException("the user " + USER + " cannot reach " + path + " through " + above
                        + ": set java.io.tmpdir to a directory others may enter");
            }
        }
    }

    private static void removeDirectory(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> files = Files.walk(root)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> {
                try {
                    Files.delete(file);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private interface Condition {
        boolean holds() throws SQLException, InterruptedException;
    }

    /** Asks until {@code condition} holds, for at most {@link #READY_TIMEOUT}; an SQL error counts as not yet. */
    private static void await(Condition condition, String failure) throws InterruptedException {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        SQLException last = null;
        while (true) {
            try {
                if (condition.holds()) {
                    return;
                }
            } catch (SQLException e) {
                last = e;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException(failure + " within " + READY_TIMEOUT + (last == null ? ""
                        : " (last error: " + last.getMessage() + ")"));
            }
            TimeUnit.MILLISECONDS.sleep(POLL_MILLIS);
        }
    }
}
