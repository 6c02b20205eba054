package eventbank.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import eventbank.core.Command;
import eventbank.core.Event;
import eventbank.core.Limits;
import eventbank.engine.recovery.DurableEvidence;
import eventbank.engine.Engine;
import eventbank.engine.EngineConfig;
import eventbank.engine.write.Outcome;
import eventbank.engine.recovery.RecoveryRefusedException;
import eventbank.engine.journal.HighWaterMark;
import eventbank.engine.journal.JournalCorruptException;
import eventbank.engine.journal.JournalFormat;
import eventbank.engine.journal.JournalReader;
import eventbank.engine.storage.FileStorage;
import eventbank.server.config.DataDirectoryEvidence;
import eventbank.server.mail.FileMailTransport;
import eventbank.server.mail.Outbox;
import eventbank.server.mail.OutboxSettings;
import eventbank.server.readmodel.Checkpoints;
import eventbank.server.readmodel.ReportsReadModel;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 10's promise, tried on many damaged data directories: every start either cuts only a
 * batch that nothing durable proves committed, or refuses naming the evidence (or the damaged
 * file and offset); {@code verify} agrees with the start; no unexpected exception; no seq is
 * handed out twice.
 *
 * <p>A few sound data directories are made once by a real engine with the server's real
 * subscribers (snapshots, the outbox with its checkpoint and mail files, the reports model
 * with its checkpoint), some with the high-water mark behind the last batches, as after a crash
 * that came before the marker wrote. Each case copies one, damages its journal (a cut at any
 * byte, a flipped byte anywhere, the last segment emptied or deleted, garbage after the last
 * batch), and compares what the start and verify do with what an independent model of the
 * rules says: the journal's sound prefix, whether the damage is a tear at the very end, and
 * the highest seq any evidence file names.
 *
 * <p>{@code -Drecovery.damage.cases=N} and {@code -Drecovery.damage.seed=S} set the number of
 * cases and the seed; bench runs 100,000 (docs/RELIABILITY.md).
 */
class RecoveryDamageTest {
    private static final long SEED = Long.getLong("recovery.damage.seed", 20261206L);
    private static final int CASES = Integer.getInteger("recovery.damage.cases", 1_000);
    private static final byte[] SERVER_KEY = "recovery-damage-test-server-key-0123456789".getBytes();
    private static final long WINDOW = Limits.IDEMPOTENCY_WINDOW_MICROS_DEFAULT;
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @TempDir
    static Path temporary;

    /** One batch of a sound base directory: where it is and the chain hash after it. */
    record BatchAt(Path file, long offset, long end, long firstSeq, long lastSeq, byte[] chainHash) {}

    /** A sound data directory to damage copies of, and what it holds. */
    record Base(Path directory, List<Path> segments, List<BatchAt> batches, long evidenceSeq, String description) {}

    private static final List<Base> BASES = new ArrayList<>();
    private static final long[] OUTCOMES = new long[5];

    @BeforeAll
    static void makeBases() throws Exception {
        // Small segments (several per journal) and large ones (one); the mark at the end (a clean
        // stop) or behind the last batches (a crash before the marker wrote); the last batch
        // with a mail (a withdrawal) or without (a transfer).
        BASES.add(makeBase("small-segments-clean-stop", 900, false, false));
        BASES.add(makeBase("small-segments-mark-behind-transfers", 900, true, false));
        BASES.add(makeBase("small-segments-mark-behind-withdrawal", 900, true, true));
        BASES.add(makeBase("one-segment-mark-behind-transfers", EngineConfig.SEGMENT_BYTES_MAX_DEFAULT, true, false));
    }

    @AfterAll
    static void report() {
        System.out.printf("RecoveryDamageTest: %d cases from seed %d: %d started (%d with a torn tail cut), %d refused"
                        + " on evidence, %d refused as corruption%n", CASES, SEED, OUTCOMES[0] + OUTCOMES[1],
                OUTCOMES[1], OUTCOMES[2], OUTCOMES[3]);
    }

    @Test
    void everyStartCutsOnlyWhatNothingProvesCommittedOrRefusesAndVerifyAgrees() throws Exception {
        for (int index = 0; index < CASES; index++) {
            long seed = SEED + index;
            runCase(seed, "case " + index + " (-Drecovery.damage.seed=" + seed + " -Drecovery.damage.cases=1)");
            if ((index + 1) % 10_000 == 0) {
                System.out.printf("RecoveryDamageTest: %d cases done%n", index + 1); // long bench runs
            }
        }
        if (CASES < 1_000) {
            return; // one case repeated by its seed, say
        }
        assertThat(OUTCOMES[0] + OUTCOMES[1]).as("some damaged directories start").isPositive();
        assertThat(OUTCOMES[1]).as("some starts cut a torn tail").isPositive();
        assertThat(OUTCOMES[2]).as("some starts refuse on evidence").isPositive();
        assertThat(OUTCOMES[3]).as("some starts refuse as corruption").isPositive();
    }

    private void runCase(long seed, String where) throws Exception {
        SplittableRandom random = new SplittableRandom(seed);
        Base base = BASES.get(random.nextInt(BASES.size()));
        Path data = temporary.resolve("case-" + seed);
        copy(base.directory(), data);
        Expected expected = damage(random, base, data);
        where = where + " on " + base.description() + ": " + expected.what();

        String refused = null;
        Throwable unexpected = null;
        try (Engine engine = Engine.start(engineConfig(data))) {
            long end = engine.committedSeq();
            assertThat(expected.startRefused()).as(where + ": the start went on to seq " + end).isNull();
            assertThat(end).as(where).isEqualTo(expected.soundSeq());
            assertThat(end).as(where + ": nothing proves more").isGreaterThanOrEqualTo(base.evidenceSeq());
            assertThat(HexFormat.of().formatHex(engine.committedHead().hash())).as(where + ": the same chain")
                    .isEqualTo(expected.soundHash());
            assertThat(engine.recovery().tornTail() != null).as(where + ": a tail cut").isEqualTo(expected.torn());
            Outcome next = engine.submit(new Command.OpenAccount(0, "new-" + seed + "@example.com", "$2a$04$hash",
                    Limits.OPENING_BALANCE_DEFAULT, null)).get(20, TimeUnit.SECONDS);
            assertThat(next).as(where).isInstanceOf(Outcome.Committed.class);
            assertThat(((Outcome.Committed) next).seq()).as(where + ": the next seq was never handed out before")
                    .isEqualTo(expected.soundSeq() + 1).isGreaterThan(base.evidenceSeq());
            OUTCOMES[expected.torn() ? 1 : 0]++;
        } catch (RecoveryRefusedException | JournalCorruptException e) {
            refused = e.getMessage();
            assertThat(expected.startRefused()).as(where + ": the start refused: " + e.getMessage()).isNotNull();
            assertThat(e).as(where).isInstanceOf(expected.refusal());
            assertThat(e.getMessage()).as(where).contains(expected.startRefused());
            OUTCOMES[e instanceof RecoveryRefusedException ? 2 : 3]++;
        } catch (Throwable e) {
            unexpected = e;
        }
        assertThat(unexpected).as(where + ": no unexpected exception").isNull();

        // verify agrees: it fails exactly when the start refused (its data directory unchanged by
        // a refusal), and passes once a start has cut a torn tail.
        Cli.Run verify = Cli.run("verify", "--data-dir", data.toString());
        if (refused != null) {
            assertThat(verify.exitCode()).as(where + ": verify fails as the start refused\n" + verify).isEqualTo(1);
            assertThat(verify.out()).as(where).contains(expected.startRefused());
        } else {
            assertThat(verify.exitCode()).as(where + ": verify passes as the start went on\n" + verify).isZero();
        }
        deleteRecursively(data);
    }

    /**
     * What a case should come to. {@code startRefused} is null when the start should go on (to
     * {@code soundSeq}, cutting a torn tail when {@code torn}), else a text its refusal names.
     */
    record Expected(String what, long soundSeq, String soundHash, boolean torn, String startRefused,
                    Class<? extends RuntimeException> refusal) {}

    /** Damages the copy {@code data} of {@code base} and works out what the start must do. */
    private static Expected damage(SplittableRandom random, Base base, Path data) throws IOException {
        List<Path> segments = base.segments().stream().map(segment -> data.resolve(base.directory().relativize(segment)))
                .toList();
        Path last = segments.get(segments.size() - 1);
        int kind = random.nextInt(100);
        // The byte range [from, to) of the journal (in segment index) that no longer holds what it held.
        int segment;
        long from;
        String what;
        boolean cut; // bytes from `from` on are gone, not changed
        if (kind < 35) {
            segment = random.nextInt(segments.size());
            long size = Files.size(segments.get(segment));
            from = random.nextLong(size + 1);
            truncate(segments.get(segment), from);
            cut = true;
            what = "segment " + segment + " cut at byte " + from + " of " + size;
        } else if (kind < 75) {
            segment = random.nextInt(segments.size());
            long size = Files.size(segments.get(segment));
            from = random.nextLong(size);
            flipByte(segments.get(segment), from, 1 + random.nextInt(255));
            cut = false;
            what = "segment " + segment + " byte " + from + " of " + size + " flipped";
        } else if (kind < 83) {
            segment = segments.size() - 1;
            from = 0;
            truncate(last, 0);
            cut = true;
            what = "last segment emptied";
        } else if (kind < 91) {
            segment = segments.size() - 1;
            from = 0;
            Files.delete(last);
            cut = true;
            what = "last segment deleted";
        } else {
            segment = segments.size() - 1;
            from = Files.size(last);
            byte[] garbage = new byte[1 + random.nextInt(200)];
            random.nextBytes(garbage);
            Files.write(last, garbage, java.nio.file.StandardOpenOption.APPEND);
            cut = false;
            what = garbage.length + " bytes of garbage after the last batch";
            BatchAt end = base.batches().get(base.batches().size() - 1);
            return new Expected(what, end.lastSeq(), HexFormat.of().formatHex(end.chainHash()), true, null, null);
        }
        return judge(base, segments, segment, from, cut, what);
    }

    /**
     * The rules, stated apart from the code that applies them: damage in any segment but the
     * last, or followed by a sound batch in the last, is corruption (refused, naming the file);
     * damage at the very end is a tear, which a start cuts unless evidence names a seq past the
     * sound prefix (then it refuses naming the evidence).
     */
    private static Expected judge(Base base, List<Path> segments, int segment, long from, boolean cut, String what) {
        Path damagedFile = segments.get(segment);
        Path baseFile = base.segments().get(segment);
        List<BatchAt> inSegment = base.batches().stream().filter(batch -> batch.file().equals(baseFile)).toList();
        boolean lastSegment = segment == segments.size() - 1;
        // A damaged segment header (or a segment cut inside it) loses the whole segment.
        int firstDamaged = from < JournalFormat.SEGMENT_HEADER_BYTES ? 0 : inSegment.size();
        for (int index = 0; index < inSegment.size() && firstDamaged == inSegment.size(); index++) {
            if (from < inSegment.get(index).end()) {
                firstDamaged = index;
            }
        }
        boolean headerLost = from < JournalFormat.SEGMENT_HEADER_BYTES;
        if (firstDamaged == inSegment.size() && !headerLost) {
            // A cut at the segment's very end: nothing changed.
            BatchAt end = base.batches().get(base.batches().size() - 1);
            return new Expected(what + " (nothing lost)", end.lastSeq(), HexFormat.of().formatHex(end.chainHash()),
                    false, null, null);
        }
        // Whether a whole, unchanged batch follows the damage in the same segment: after a
        // changed segment header, every batch of the segment is one.
        boolean soundAfter = !cut && (headerLost ? !inSegment.isEmpty() : firstDamaged + 1 < inSegment.size());
        if (!lastSegment || soundAfter) {
            // Named: the damaged segment, or the next one when a cut at a batch's start left a gap.
            return new Expected(what + " (corruption)", -1, null, false,
                    "journal corrupt in " + damagedFile.getParent(), JournalCorruptException.class);
        }
        long soundSeq = firstDamaged == 0 || headerLost
                ? inSegment.get(0).firstSeq() - 1 : inSegment.get(firstDamaged - 1).lastSeq();
        // A cut exactly at a batch's start leaves no torn bytes, only a shorter (or no) segment.
        boolean tornBytes = !(cut && (from == JournalFormat.SEGMENT_HEADER_BYTES && firstDamaged == 0
                || firstDamaged > 0 && from == inSegment.get(firstDamaged - 1).end()))
                && !(cut && from == 0 && !Files.exists(damagedFile));
        if (soundSeq < base.evidenceSeq()) {
            return new Expected(what + " (acknowledged batches damaged)", soundSeq, null, false,
                    "every event up to seq " + base.evidenceSeq() + " was committed", RecoveryRefusedException.class);
        }
        String hash = soundSeq == 0 ? HexFormat.of().formatHex(JournalFormat.HASH_ZERO) : base.batches().stream()
                .filter(batch -> batch.lastSeq() == soundSeq).findFirst().map(batch -> HexFormat.of()
                        .formatHex(batch.chainHash())).orElseThrow();
        return new Expected(what + " (a tear nobody was told about)", soundSeq, hash, tornBytes, null, null);
    }

    // ---- The sound bases ----

    /**
     * Opens, verifies and pays between accounts, then withdraws, with the server's subscribers
     * running. With {@code markBehind} the high-water mark is put back to where it was before the
     * last few batches, and the newest snapshot and reports checkpoint are older than those
     * batches too, so cutting them would be a legitimate tear, unless a mail file names them.
     */
    private static Base makeBase(String name, long segmentBytesMax, boolean markBehind, boolean lastHasMail)
            throws Exception {
        Path data = temporary.resolve("base-" + name);
        AtomicLong numbers = new AtomicLong(Limits.ACCOUNT_NUMBER_MIN);
        AtomicLong clock = new AtomicLong(1_796_000_000_000_000L);
        EngineConfig config = engineConfig(data).toBuilder().segmentBytesMax(segmentBytesMax)
                .snapshots(20, 3, 1_000).accountNumbers(numbers::incrementAndGet)
                .clock(() -> clock.addAndGet(1_000)).highWaterIntervalMillis(0).build();
        long[] accounts = new long[6];
        try (Engine engine = Engine.start(config)) {
            FileMailTransport transport = new FileMailTransport(Outbox.directoryOf(data), engine.config().storage(),
                    QUIET);
            Checkpoints checkpoints = new Checkpoints(engine.config().storage(), data, engine::newReader,
                    engine::committedSeq, 25);
            Outbox outbox = Outbox.of(engine, checkpoints, transport,
                    OutboxSettings.of("http://localhost:8080", "bank@example.com"), Clock.systemUTC());
            engine.subscribe(outbox);
            ReportsReadModel reports = new ReportsReadModel(checkpoints);
            engine.subscribe(reports);
            for (int index = 0; index < accounts.length; index++) {
                Outcome.Committed opened = committed(engine, new Command.OpenAccount(0, "holder" + index + "@example.com",
                        "$2a$04$hash", Limits.OPENING_BALANCE_DEFAULT, null));
                accounts[index] = ((Event.AccountOpened) opened.events().get(0).event()).accountNumber();
                committed(engine, new Command.VerifyAccount(accounts[index],
                        engine.verificationCodes().codeFor(accounts[index], opened.seq())));
            }
            SplittableRandom random = new SplittableRandom(name.hashCode());
            for (int index = 0; index < 60; index++) {
                transferOrWithdraw(engine, random, accounts, index);
            }
            awaitSubscribers(engine);
        }
        // The mark as the clean stop left it; the batches after it are not covered when it is put back.
        Path mark = HighWaterMark.pathIn(data.resolve("journal"));
        byte[] markBeforeTheEnd = Files.readAllBytes(mark);
        try (Engine engine = Engine.start(config.toBuilder().snapshots(0, 3, 1_000).build())) {
            // No state checkpoint (null), which the outbox would write at this clean stop, proving
            // the last batches: put back, the mark stands for a crash before they were proven.
            Outbox outbox = Outbox.of(engine, null, new FileMailTransport(Outbox.directoryOf(data),
                    engine.config().storage(), QUIET), OutboxSettings.of("http://localhost:8080", "bank@example.com"),
                    Clock.systemUTC());
            engine.subscribe(outbox);
            SplittableRandom random = new SplittableRandom(name.hashCode() + 1);
            for (int index = 0; index < 4; index++) {
                committed(engine, new Command.TransferMoney(accounts[index], accounts[index + 1], 1 + random.nextInt(50),
                        null));
            }
            if (lastHasMail) {
                committed(engine, new Command.Withdraw(accounts[0], 7, null));
            }
            awaitSubscribers(engine);
        }
        if (markBehind) {
            Files.write(mark, markBeforeTheEnd);
        }
        List<Path> segments;
        try (Stream<Path> files = Files.list(data.resolve("journal"))) {
            segments = files.filter(file -> JournalFormat.firstSeqOf(file.getFileName().toString()) > 0).sorted()
                    .toList();
        }
        List<BatchAt> batches = new ArrayList<>();
        try (JournalReader reader = new JournalReader(new FileStorage(), data.resolve("journal"), true)) {
            reader.seek(0);
            JournalReader.Batch batch;
            while ((batch = reader.next(Long.MAX_VALUE)) != null) {
                batches.add(new BatchAt(batch.file(), batch.offset(), batch.offset() + JournalFormat.BATCH_HEADER_BYTES
                        + batch.header().bodyLength(), batch.header().firstSeq(), batch.header().lastSeq(),
                        batch.header().chainHash()));
            }
        }
        DurableEvidence.Claim newest = DurableEvidence.gather(new FileStorage(), data,
                DataDirectoryEvidence.sources(new FileStorage(), data)).newest();
        long lastSeq = batches.get(batches.size() - 1).lastSeq();
        assertThat(newest.seq()).as(name + ": evidence within the journal").isLessThanOrEqualTo(lastSeq);
        if (!markBehind || lastHasMail) {
            assertThat(newest.seq()).as(name + ": evidence of the last batch").isEqualTo(lastSeq);
        } else {
            assertThat(newest.seq()).as(name + ": the last batches unproven").isLessThan(lastSeq - 2);
        }
        return new Base(data, segments, batches, newest.seq(), name + " (" + segments.size() + " segments, "
                + lastSeq + " events, evidence to seq " + newest.seq() + ")");
    }

    private static void transferOrWithdraw(Engine engine, SplittableRandom random, long[] accounts, int index)
            throws Exception {
        int payer = random.nextInt(accounts.length);
        long from = accounts[payer];
        long to = accounts[(payer + 1 + random.nextInt(accounts.length - 1)) % accounts.length];
        Command command = index % 5 == 4 ? new Command.Withdraw(from, 1 + random.nextInt(100), null)
                : new Command.TransferMoney(from, to, 1 + random.nextInt(500), null);
        committed(engine, command);
    }

    private static Outcome.Committed committed(Engine engine, Command command) throws Exception {
        Outcome outcome = engine.submit(command).get(20, TimeUnit.SECONDS);
        assertThat(outcome).as(command.toString()).isInstanceOf(Outcome.Committed.class);
        return (Outcome.Committed) outcome;
    }

    private static void awaitSubscribers(Engine engine) throws InterruptedException {
        for (var subscription : engine.subscriptions()) {
            assertThat(subscription.awaitDelivered(engine.committedSeq(), 20_000)).as(subscription.name()).isTrue();
        }
    }

    /** The engine configuration {@code serve} uses, evidence included, on this data directory. */
    private static EngineConfig engineConfig(Path data) {
        return EngineConfig.builder(data).serverKey(SERVER_KEY).snapshots(0, 3, 1_000)
                .idempotencyWindowMicros(WINDOW)
                .evidence(DataDirectoryEvidence.sources(new FileStorage(), data)).build();
    }

    // ---- Files ----

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }

    private static void deleteRecursively(Path directory) throws IOException {
        try (Stream<Path> files = Files.walk(directory)) {
            for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(file);
            }
        }
    }

    private static void truncate(Path file, long size) throws IOException {
        try (RandomAccessFile handle = new RandomAccessFile(file.toFile(), "rw")) {
            handle.setLength(size);
        }
    }

    private static void flipByte(Path file, long offset, int mask) throws IOException {
        try (RandomAccessFile handle = new RandomAccessFile(file.toFile(), "rw")) {
            handle.seek(offset);
            int value = handle.read();
            handle.seek(offset);
            handle.write(value ^ mask);
        }
    }
}
