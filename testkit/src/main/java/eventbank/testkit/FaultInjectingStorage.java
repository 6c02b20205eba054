package eventbank.testkit;

import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * <b>Test only.</b> A {@link Storage} that makes the journal's writes or fsyncs fail at a chosen
 * moment, so that the fault harness (bench, docs/RELIABILITY.md) can show the engine failing stop
 * on a real server process. It lives in this test-support module, never in the server's jar: a
 * server runs with it only when started through {@link FaultInjectingMain} with the system
 * property {@value #PROPERTY}, and then says so loudly on standard error and in the log.
 *
 * <p>The property names one fault, {@code KIND@N}:
 * <ul>
 *   <li>{@code journal-write@N}: the N-th write to a journal segment (counting from 1, from this
 *       start) writes the first half of its bytes, then fails as a full disk does, and so does
 *       every later write to a segment;
 *   <li>{@code journal-fsync@N}: the N-th fsync of a journal segment fails after the bytes were
 *       written (they stay in the page cache, as after a real failed fsync), and so does every
 *       later one.
 * </ul>
 * Only segment files ({@code journal/*.seg}) are touched: snapshots, checkpoints and mail go to
 * the real storage unchanged.
 */
public final class FaultInjectingStorage implements Storage {
    /** The system property that turns the faults on: {@code -Deventbank.faults=journal-fsync@40}. */
    public static final String PROPERTY = "eventbank.faults";
    private static final System.Logger LOG = System.getLogger(FaultInjectingStorage.class.getName());

    /** What fails. */
    public enum Kind {
        JOURNAL_WRITE("journal-write"),
        JOURNAL_FSYNC("journal-fsync");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** One fault: {@code kind} fails from its {@code occurrence}-th operation on (from 1). */
    public record Fault(Kind kind, long occurrence) {
        public Fault {
            if (occurrence < 1) {
                throw new IllegalArgumentException("a fault's occurrence counts from 1, not " + occurrence);
            }
        }

        /** Parses {@code journal-write@N} or {@code journal-fsync@N}. */
        public static Fault parse(String text) {
            int at = text.indexOf('@');
            String label = at < 0 ? text : text.substring(0, at).strip().toLowerCase(Locale.ROOT);
            for (Kind kind : Kind.values()) {
                if (kind.label().equals(label)) {
                    try {
                        return new Fault(kind, Long.parseLong(text.substring(at + 1).strip()));
                    } catch (NumberFormatException e) {
                        break;
                    }
                }
            }
            throw new IllegalArgumentException(PROPERTY + "=" + text
                    + " is not a fault: give journal-write@N or journal-fsync@N (N from 1)");
        }

        @Override
        public String toString() {
            return kind.label() + "@" + occurrence;
        }
    }

    private final Storage real;
    private final Fault fault;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();

    public FaultInjectingStorage(Storage real, Fault fault) {
        this.real = real;
        this.fault = fault;
    }

    /**
     * {@code real} itself, or, when {@value #PROPERTY} is set, {@code real} wrapped in the fault it
     * names; the wrapping is announced on standard error and in the log, since it must never
     * happen by accident in production.
     */
    public static Storage fromSystemProperty(Storage real) {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return real;
        }
        Fault fault = Fault.parse(value);
        String warning = "TEST-ONLY FAULT INJECTION IS ON (-D" + PROPERTY + "=" + value + "): the journal will fail"
                + " on purpose at " + describe(fault) + ". Never run a real bank like this.";
        System.err.println("eventbank: " + warning);
        LOG.log(System.Logger.Level.WARNING, warning);
        return new FaultInjectingStorage(real, fault);
    }

    private static String describe(Fault fault) {
        return switch (fault.kind()) {
            case JOURNAL_WRITE -> "write number " + fault.occurrence() + " to a journal segment";
            case JOURNAL_FSYNC -> "fsync number " + fault.occurrence() + " of a journal segment";
        };
    }

    @Override
    public void createDirectories(Path directory) throws IOException {
        real.createDirectories(directory);
    }

    @Override
    public List<String> list(Path directory) throws IOException {
        return real.list(directory);
    }

    @Override
    public boolean exists(Path file) {
        return real.exists(file);
    }

    @Override
    public StorageFile open(Path file, boolean create) throws IOException {
        StorageFile opened = real.open(file, create);
        return isSegment(file) ? new FaultySegment(opened, file) : opened;
    }

    @Override
    public StorageFile openReadOnly(Path file) throws IOException {
        return real.openReadOnly(file);
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        real.rename(source, target);
    }

    @Override
    public void delete(Path file) throws IOException {
        real.delete(file);
    }

    @Override
    public void syncDirectory(Path directory) throws IOException {
        real.syncDirectory(directory);
    }

    private static boolean isSegment(Path file) {
        Path parent = file.getParent();
        String name = file.getFileName().toString();
        // The next segment is made ready under its own name and renamed when it starts.
        return (name.endsWith(".seg") || name.equals("next-segment")) && parent != null
                && parent.getFileName() != null && parent.getFileName().toString().equals("journal");
    }

    private final class FaultySegment implements StorageFile {
        private final StorageFile file;
        private final Path path;

        FaultySegment(StorageFile file, Path path) {
            this.file = file;
            this.path = path;
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public int read(ByteBuffer destination, long position) throws IOException {
            return file.read(destination, position);
        }

        @Override
        public void write(ByteBuffer source, long position) throws IOException {
            long count = writes.incrementAndGet();
            if (fault.kind() == Kind.JOURNAL_WRITE && count >= fault.occurrence()) {
                // Half the bytes reach the file, as when the disk fills in the middle of a write:
                // the next start must find a torn tail there and move it aside.
                ByteBuffer half = source.duplicate();
                half.limit(half.position() + half.remaining() / 2);
                file.write(half, position);
                throw new IOException("injected fault " + fault + ": No space left on device (write " + count
                        + " to " + path + ")");
            }
            file.write(source, position);
        }

        @Override
        public void force() throws IOException {
            long count = fsyncs.incrementAndGet();
            if (fault.kind() == Kind.JOURNAL_FSYNC && count >= fault.occurrence()) {
                throw new IOException("injected fault " + fault + ": Input/output error (fsync " + count + " of "
                        + path + ")");
            }
            file.force();
        }

        @Override
        public void truncate(long size) throws IOException {
            file.truncate(size);
        }

        @Override
        public void close() throws IOException {
            file.close();
        }
    }
}
