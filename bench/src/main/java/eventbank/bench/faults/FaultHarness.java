package eventbank.bench.faults;

import eventbank.bench.patroni.PatroniPair;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;

/**
 * The fault harness (docs/RELIABILITY.md): runs the real server as a child process on a fresh
 * data directory, drives it over HTTP with concurrent clients, injects faults at random moments
 * (SIGKILL, SIGTERM, journal fsync and write failures and a kill in the middle of a read model's
 * write through the test-only hook, a damaged snapshot, a full disk, the SMTP server going away),
 * and after each one retries every request whose outcome is unknown with its Idempotency-Key and
 * has the independent {@link Checker} compare the server with its own record and every read
 * route with the journal. Cluster runs ({@link ClusterFaultRun}) do the same to eventbank nodes
 * on a PostgreSQL pair under Patroni, with SIGKILLs of the leading node and of the PostgreSQL
 * primary. The same seed makes the same choices (what the server is doing at each moment is up
 * to the scheduler).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.faults.FaultHarness \
 *      --seed 42 --runs 20 --faults 12 --disk-runs 2
 * </pre>
 *
 * Exit code 0 when every check held, 1 when one failed (the run's directory is kept and named).
 */
public final class FaultHarness {
    private static final long DISK_BYTES = 96L << 20;

    /**
     * @param faultsPerRun faults in each ordinary run (each kind of the mix at least once when
     *                     there is room, the rest drawn by weight)
     * @param mix          weights of the faults of ordinary runs
     * @param diskRuns     runs on a loop-mounted ext4 image, each with {@code diskFullsPerRun}
     *                     full-disk faults
     * @param clusterRuns  runs on a cluster ({@link ClusterFaultRun}), each with {@code faultsPerRun}
     *                     faults drawn from {@code clusterMix}
     * @param clusterMix   weights of the cluster faults ({@code leader-kill}, {@code primary-kill})
     * @param patroniConfig where the Patroni pair's configuration files are ({@code bench/patroni})
     * @param acksMax      a fault comes after 1 to this many acknowledged operations
     */
    public record Options(long seed, int runs, int faultsPerRun, Map<Fault, Integer> mix, int diskRuns,
                          int diskFullsPerRun, int clusterRuns, Map<Fault, Integer> clusterMix, Path patroniConfig,
                          int clients, int accountsMax, int acksMax, Path workDirectory, boolean keep) {

        /** Without cluster runs. */
        public Options(long seed, int runs, int faultsPerRun, Map<Fault, Integer> mix, int diskRuns,
                       int diskFullsPerRun, int clients, int accountsMax, int acksMax, Path workDirectory,
                       boolean keep) {
            this(seed, runs, faultsPerRun, mix, diskRuns, diskFullsPerRun, 0, defaultClusterMix(),
                    Path.of("bench/patroni"), clients, accountsMax, acksMax, workDirectory, keep);
        }

        public static Options defaults() {
            Map<Fault, Integer> mix = new EnumMap<>(Fault.class);
            mix.put(Fault.SIGKILL, 70);
            mix.put(Fault.SIGTERM, 8);
            mix.put(Fault.JOURNAL_FSYNC, 8);
            mix.put(Fault.JOURNAL_WRITE, 8);
            mix.put(Fault.SNAPSHOT, 6);
            mix.put(Fault.READMODEL_KILL, 10);
            return new Options(System.nanoTime(), 1, 10, mix, 0, 2, 8, 24, 400, null, false);
        }

        private static Map<Fault, Integer> defaultClusterMix() {
            Map<Fault, Integer> mix = new EnumMap<>(Fault.class);
            mix.put(Fault.LEADER_KILL, 50);
            mix.put(Fault.PRIMARY_KILL, 50);
            return mix;
        }

        /** The command line that repeats this invocation. */
        String command() {
            return "java -cp bench/target/benchmarks.jar " + FaultHarness.class.getName() + " --seed " + seed
                    + " --runs " + runs + " --faults " + faultsPerRun + " --mix " + text(mix) + " --disk-runs "
                    + diskRuns + " --disk-fulls " + diskFullsPerRun + (clusterRuns == 0 ? "" : " --cluster-runs "
                    + clusterRuns + " --cluster-mix " + text(clusterMix) + " --patroni-config " + patroniConfig)
                    + " --clients " + clients + " --accounts-max " + accountsMax + " --acks-max " + acksMax;
        }

        private static String text(Map<Fault, Integer> mix) {
            StringBuilder text = new StringBuilder();
            mix.forEach((fault, weight) -> text.append(text.isEmpty() ? "" : ",").append(fault.label()).append('=')
                    .append(weight));
            return text.toString();
        }
    }

    /** What an invocation found; {@link #passed()} when every check held. */
    public record Result(Map<String, Integer> faults, long acknowledged, long lost, long mismatches, long checks,
                         long checkRounds, long mailsChecked, long readModelHalts, List<String> failures,
                         List<String> skipped, String table) {
        public boolean passed() {
            return failures.isEmpty() && lost == 0 && mismatches == 0;
        }

        public int faults(String label) {
            return faults.getOrDefault(label, 0);
        }
    }

    private FaultHarness() {}

    public static void main(String[] args) throws Exception {
        Options options = parse(args);
        Result result = run(options, System.out);
        System.out.println();
        System.out.print(result.table());
        for (String skipped : result.skipped()) {
            System.out.println("SKIPPED: " + skipped);
        }
        System.out.println(result.passed() ? "fault harness: PASSED" : "fault harness: FAILED\n  "
                + String.join("\n  ", result.failures()));
        System.exit(result.passed() ? 0 : 1);
    }

    public static Result run(Options options, PrintStream out) throws Exception {
        out.println("fault harness: seed " + options.seed() + "; repeat with: " + options.command());
        Tally tally = new Tally();
        tally.seed = options.seed();
        long started = System.nanoTime();
        Path work = options.workDirectory() != null ? Files.createDirectories(options.workDirectory())
                : Files.createTempDirectory("eventbank-faults-");
        SplittableRandom seeds = new SplittableRandom(options.seed());
        int total = options.runs() + options.diskRuns() + options.clusterRuns();
        for (int run = 1; run <= total && tally.failures.isEmpty(); run++) {
            boolean onDisk = run > options.runs() && run <= options.runs() + options.diskRuns();
            boolean onCluster = run > options.runs() + options.diskRuns();
            SplittableRandom random = seeds.split();
            List<Fault> faults = onDisk ? diskSchedule(options) : onCluster
                    ? schedule(options.clusterMix(), options.faultsPerRun(), random)
                    : schedule(options.mix(), options.faultsPerRun(), random);
            Path directory = Files.createDirectories(work.resolve("run-" + run));
            List<String> failures = onDisk ? diskRun(options, run, random.nextLong(), directory, faults, tally, out)
                    : onCluster ? clusterRun(options, run, random.nextLong(), directory, faults, tally, out)
                    : new FaultRun(options, run, random.nextLong(), directory, null, faults.contains(Fault.SMTP_DOWN), tally,
                            out).run(faults);
            tally.runs++;
            tally.failures.addAll(failures);
            if (failures.isEmpty() && !options.keep()) {
                deleteTree(directory);
            } else if (!failures.isEmpty()) {
                out.println("run " + run + " FAILED; its directory is kept: " + directory);
            }
        }
        tally.millis = (System.nanoTime() - started) / 1_000_000;
        if (tally.failures.isEmpty() && !options.keep()) {
            deleteTree(work);
        }
        Map<String, Integer> faults = new java.util.TreeMap<>();
        tally.faults.forEach((fault, count) -> faults.put(fault.label(), count));
        return new Result(faults, tally.acknowledged, tally.lost, tally.mismatches, tally.checks, tally.checkRounds,
                tally.mailsChecked, tally.readModelHalts, List.copyOf(tally.failures), List.copyOf(tally.skipped),
                tally.table(options.command()));
    }

    private static List<String> diskRun(Options options, int run, long seed, Path directory, List<Fault> faults,
                                        Tally tally, PrintStream out) throws Exception {
        LoopDisk disk;
        try {
            disk = LoopDisk.mount(directory.resolve("disk.img"), directory.resolve("mnt"), DISK_BYTES);
        } catch (LoopDisk.Refused e) {
            String reason = "disk-full run " + run + ": " + e.getMessage() + " (loop mounts need root and a loop device)";
            out.println("SKIPPED: " + reason);
            tally.skipped.add(reason);
            return List.of();
        }
        try (disk) {
            return new FaultRun(options, run, seed, directory, disk, tally, out).run(faults);
        }
    }

    /** A cluster run, or none when Patroni cannot run here: then SKIPPED with the reason. */
    private static List<String> clusterRun(Options options, int run, long seed, Path directory, List<Fault> faults,
                                           Tally tally, PrintStream out) throws Exception {
        String unavailable = PatroniPair.unavailable();
        if (unavailable != null) {
            String reason = "cluster run " + run + ": " + unavailable;
            out.println("SKIPPED: " + reason);
            tally.skipped.add(reason);
            return List.of();
        }
        return new ClusterFaultRun(options, run, seed, directory, tally, out).run(faults);
    }

    /**
     * Each kind of the mix once (when there is room), then each up to its share of the count
     * (⌊count × weight / total⌋, while there is room), the rest drawn by weight; in random order.
     * The shares make a mix's proportions hold in every run, not only on average: a mix of
     * weights adding up to the count gives exactly that many of each.
     */
    static List<Fault> schedule(Map<Fault, Integer> mix, int count, SplittableRandom random) {
        List<Fault> faults = new ArrayList<>();
        int total = 0;
        for (Map.Entry<Fault, Integer> entry : mix.entrySet()) {
            if (entry.getValue() > 0 && faults.size() < count) {
                faults.add(entry.getKey());
            }
            total += entry.getValue();
        }
        for (Map.Entry<Fault, Integer> entry : mix.entrySet()) {
            long share = (long) count * entry.getValue() / Math.max(1, total);
            for (long n = 1; n < share && faults.size() < count; n++) {
                faults.add(entry.getKey());
            }
        }
        while (faults.size() < count) {
            int roll = random.nextInt(total);
            for (Map.Entry<Fault, Integer> entry : mix.entrySet()) {
                roll -= entry.getValue();
                if (roll < 0) {
                    faults.add(entry.getKey());
                    break;
                }
            }
        }
        Collections.shuffle(faults, new Random(random.nextLong()));
        return faults;
    }

    private static List<Fault> diskSchedule(Options options) {
        List<Fault> faults = new ArrayList<>();
        for (int i = 0; i < options.diskFullsPerRun(); i++) {
            faults.add(Fault.DISK_FULL);
        }
        return faults;
    }

    static Options parse(String[] args) {
        Options defaults = Options.defaults();
        long seed = defaults.seed();
        int runs = defaults.runs();
        int faults = defaults.faultsPerRun();
        Map<Fault, Integer> mix = defaults.mix();
        int diskRuns = defaults.diskRuns();
        int diskFulls = defaults.diskFullsPerRun();
        int clusterRuns = defaults.clusterRuns();
        Map<Fault, Integer> clusterMix = defaults.clusterMix();
        Path patroniConfig = defaults.patroniConfig();
        int clients = defaults.clients();
        int accountsMax = defaults.accountsMax();
        int acksMax = defaults.acksMax();
        Path work = null;
        boolean keep = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--faults" -> faults = Integer.parseInt(args[++i]);
                case "--mix" -> mix = parseMix(args[++i], false);
                case "--disk-runs" -> diskRuns = Integer.parseInt(args[++i]);
                case "--disk-fulls" -> diskFulls = Integer.parseInt(args[++i]);
                case "--cluster-runs" -> clusterRuns = Integer.parseInt(args[++i]);
                case "--cluster-mix" -> clusterMix = parseMix(args[++i], true);
                case "--patroni-config" -> patroniConfig = Path.of(args[++i]);
                case "--clients" -> clients = Integer.parseInt(args[++i]);
                case "--accounts-max" -> accountsMax = Integer.parseInt(args[++i]);
                case "--acks-max" -> acksMax = Integer.parseInt(args[++i]);
                case "--work-dir" -> work = Path.of(args[++i]);
                case "--keep" -> keep = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + "; known: --seed --runs"
                        + " --faults --mix --disk-runs --disk-fulls --cluster-runs --cluster-mix --patroni-config --clients"
                        + " --accounts-max --acks-max --work-dir --keep");
            }
        }
        return new Options(seed, runs, faults, mix, diskRuns, diskFulls, clusterRuns, clusterMix, patroniConfig, clients,
                accountsMax, acksMax, work, keep);
    }

    /** {@code sigkill=70,sigterm=8,...}; the cluster faults only in the cluster's mix, and only they. */
    static Map<Fault, Integer> parseMix(String text, boolean cluster) {
        Map<Fault, Integer> mix = new EnumMap<>(Fault.class);
        for (String part : text.split(",")) {
            String[] pair = part.split("=");
            Fault fault = Fault.of(pair[0].strip());
            if (fault == Fault.DISK_FULL) {
                throw new IllegalArgumentException("disk-full has runs of its own: use --disk-runs");
            }
            if (fault.cluster() != cluster) {
                throw new IllegalArgumentException(fault.label() + (cluster ? " is not a cluster fault: use --mix"
                        : " is a cluster fault: use --cluster-runs and --cluster-mix"));
            }
            mix.put(fault, pair.length > 1 ? Integer.parseInt(pair[1].strip()) : 1);
        }
        return mix;
    }

    static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path directory, IOException failure) throws IOException {
                Files.delete(directory);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
