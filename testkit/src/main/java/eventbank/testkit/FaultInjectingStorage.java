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
 * moment, or the process die in the middle of a read model's write, so that the fault harness
 * (bench, docs/RELIABILITY.md) can show the engine failing stop, and the read models surviving a
 * crash at their worst moment, on a real server process. It lives in this test-support module,
 * never in the server's jar: a server runs with it only when started through {@link
 * FaultInjectingMain} with the system property {@value #PROPERTY}, and then says so loudly on
 * standard error and in the log.
 *
 * <p>The property names one fault, {@code KIND@N}:
 * <ul>
 *   <li>{@code journal-write@N}: the N-th write to a journal segment (counting from 1, from this
 *       start) writes the first half of its bytes, then fails as a full disk does, and so does
 *       every later write to a segment;
 *   <li>{@code journal-fsync@N}: the N-th fsync of a journal segment fails after the bytes were
 *       written (they stay in the page cache, as after a real failed fsync), and so does every
 *       later one;
 *   <li>{@code readmodel-kill@N}: the N-th write to a {@linkplain #isReadModelFile read-model
 *       file} (counting from 1, from this start) writes the first half of its bytes, prints one
 *       line saying so on standard error and halts the process at once ({@link Runtime#halt}, no
 *       shutdown hooks, nothing flushed or closed: a SIGKILL at that instant) with status
 *       {@value #READMODEL_KILL_STATUS};
 *   <li>{@code checkpoint-kill@N}: the same, counting only the read-model files whose name
 *       contains {@code checkpoint} (the checkpoints and their temporary files, not the stores a
 *       model appends to at every batch, whose writes would otherwise be most of those counted).
 * </ul>
 * The journal faults touch only segment files ({@code journal/*.seg}), the kills only read-model
 * files: everything else goes to the real storage unchanged, and so do the fsyncs, truncations
 * and renames of the files a fault touches.
 */
public final class FaultInjectingStorage implements Storage {
    /** The system property that turns the faults on: {@code -Deventbank.faults=journal-fsync@40}. */
    public static final String PROPERTY = "eventbank.faults";
    /** The exit status of a process that {@code readmodel-kill} or {@code checkpoint-kill} halted. */
    public static final int READMODEL_KILL_STATUS = 99;
    /** The start of the line a kill prints on standard error just before it halts. */
    public static final String READMODEL_KILL_MARK = "eventbank: TEST-ONLY FAULT: halting";
    private static final String READ_MODELS_DIRECTORY = "readmodels";
    private static final String OUTBOX_DIRECTORY = "outbox";
    private static final System.Logger LOG = System.getLogger(FaultInjectingStorage.class.getName());

    /** What fails. */
    public enum Kind {
        JOURNAL_WRITE("journal-write"),
        JOURNAL_FSYNC("journal-fsync"),
        READMODEL_KILL("readmodel-kill"),
        CHECKPOINT_KILL("checkpoint-kill");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** Whether it halts the process in a read model's write (rather than failing the journal). */
        boolean kills() {
            return this == READMODEL_KILL || this == CHECKPOINT_KILL;
        }
    }

    /** One fault: {@code kind} fails from its {@code occurrence}-th operation on (from 1). */
    public record Fault(Kind kind, long occurrence) {
        public Fault {
            if (occurrence < 1) {
                throw new IllegalArgumentException("a fault's occurrence counts from 1, not " + occurrence);
            }
        }

        /** Parses {@code KIND@N}, KIND one of the {@link Kind}s' labels. */
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
                    + " is not a fault: give journal-write@N, journal-fsync@N, readmodel-kill@N or checkpoint-kill@N"
                    + " (N from 1)");
        }

        @Override
        public String toString() {
            return kind.label() + "@" + occurrence;
        }
    }

    /** Ends the process with a status: {@link Runtime#halt}, or in a test something that shows it was called. */
    @FunctionalInterface
    public interface Halt {
        void halt(int status);
    }

    private final Storage real;
    private final Fault fault;
    /** The data directory, absolute and normalized: where the read-model files are found. */
    private final Path dataDirectory;
    private final Halt halt;
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong fsyncs = new AtomicLong();
    private final AtomicLong readModelWrites = new AtomicLong();

    /** The journal's faults; a read-model kill needs to know the data directory (the other constructor). */
    public FaultInjectingStorage(Storage real, Fault fault) {
        this(real, fault, null, Runtime.getRuntime()::halt);
    }

    /**
     * @param dataDirectory where the read-model files are ({@link #isReadModelFile})
     * @param halt          what ends the process for {@code readmodel-kill}: {@link Runtime#halt}
     */
    public FaultInjectingStorage(Storage real, Fault fault, Path dataDirectory, Halt halt) {
        if (fault.kind().kills() && dataDirectory == null) {
            throw new IllegalArgumentException(fault + " needs the data directory, to know the read models' files");
        }
        this.real = real;
        this.fault = fault;
        this.dataDirectory = dataDirectory == null ? null : dataDirectory.toAbsolutePath().normalize();
        this.halt = halt;
    }

    /**
     * {@code real} itself, or, when {@value #PROPERTY} is set, {@code real} wrapped in the fault it
     * names, for the data directory {@code dataDirectory}; the wrapping is announced on standard
     * error and in the log, since it must never happen by accident in production.
     */
    public static Storage fromSystemProperty(Storage real, Path dataDirectory) {
        String value = System.getProperty(PROPERTY);
        if (value == null || value.isBlank()) {
            return real;
        }
        Fault fault = Fault.parse(value);
        String warning = "TEST-ONLY FAULT INJECTION IS ON (-D" + PROPERTY + "=" + value + "): " + describe(fault)
                + ". Never run a real bank like this.";
        System.err.println("eventbank: " + warning);
        LOG.log(System.Logger.Level.WARNING, warning);
        return new FaultInjectingStorage(real, fault, dataDirectory, Runtime.getRuntime()::halt);
    }

    private static String describe(Fault fault) {
        return switch (fault.kind()) {
            case JOURNAL_WRITE -> "the journal will fail on purpose at write number " + fault.occurrence()
                    + " to a journal segment";
            case JOURNAL_FSYNC -> "the journal will fail on purpose at fsync number " + fault.occurrence()
                    + " of a journal segment";
            case READMODEL_KILL -> "the process will halt on purpose, half-way through write number "
                    + fault.occurrence() + " to a read model's file or an outbox checkpoint";
            case CHECKPOINT_KILL -> "the process will halt on purpose, half-way through write number "
                    + fault.occurrence() + " to a read model's or the outbox's checkpoint";
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
        if (isSegment(file)) {
            return new FaultySegment(opened, file);
        }
        return halts(file) ? new KilledReadModelFile(opened, file) : opened;
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

    /** Whether the fault counts the writes to {@code file}, the N-th of which halts the process. */
    boolean halts(Path file) {
        return switch (fault.kind()) {
            case JOURNAL_WRITE, JOURNAL_FSYNC -> false;
            case READMODEL_KILL -> isReadModelFile(file);
            case CHECKPOINT_KILL -> isReadModelFile(file) && file.getFileName().toString().contains("checkpoint");
        };
    }

    /**
     * Whether {@code readmodel-kill} counts the writes to {@code file}: every file under the data
     * directory's {@code readmodels/} (the read models' checkpoints, their temporary files and
     * their stores, whatever they are named), and every file directly in {@code outbox/} whose
     * name contains {@code checkpoint} (the outbox's checkpoint and state checkpoint and their
     * temporary files; not its mails or dead letters).
     */
    boolean isReadModelFile(Path file) {
        Path path = file.toAbsolutePath().normalize();
        if (path.startsWith(dataDirectory.resolve(READ_MODELS_DIRECTORY))) {
            return true;
        }
        return dataDirectory.resolve(OUTBOX_DIRECTORY).equals(path.getParent())
                && path.getFileName().toString().contains("checkpoint");
    }

    /** A file that does what the real one does; a faulty file overrides what it fails. */
    private abstract static class ForwardingFile implements StorageFile {
        final StorageFile file;
        final Path path;

        ForwardingFile(StorageFile file, Path path) {
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
            file.write(source, position);
        }

        @Override
        public void force() throws IOException {
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

        /** Writes the first {@code bytes} of {@code source}. */
        void writePart(ByteBuffer source, long position, int bytes) throws IOException {
            ByteBuffer part = source.duplicate();
            part.limit(part.position() + bytes);
            file.write(part, position);
        }
    }

    /** A read-model file: its writes are counted, and the fault's write halts the process half-way. */
    private final class KilledReadModelFile extends ForwardingFile {
        KilledReadModelFile(StorageFile file, Path path) {
            super(file, path);
        }

        @Override
        public void write(ByteBuffer source, long position) throws IOException {
            long count = readModelWrites.incrementAndGet();
            if (count < fault.occurrence()) {
                file.write(source, position);
                return;
            }
            // Half the bytes reach the file (the page cache: a SIGKILL loses nothing written), then
            // the process ends as a SIGKILL ends it: no shutdown hook, no checkpoint at stop, no
            // close. A write on another thread after this one halts too, writing nothing.
            int length = source.remaining();
            int written = count == fault.occurrence() ? length / 2 : 0;
            writePart(source, position, written);
            System.err.println(READMODEL_KILL_MARK + " (injected fault " + fault + ") after " + written + " of "
                    + length + " bytes of write " + count + " to " + path);
            halt.halt(READMODEL_KILL_STATUS);
            throw new IllegalStateException("the process should have halted (injected fault " + fault + ")");
        }
    }

    /** A journal segment: its writes and fsyncs are counted, and fail from the fault's on. */
    private final class FaultySegment extends ForwardingFile {
        FaultySegment(StorageFile file, Path path) {
            super(file, path);
        }

        @Override
        public void write(ByteBuffer source, long position) throws IOException {
            long count = writes.incrementAndGet();
            if (fault.kind() == Kind.JOURNAL_WRITE && count >= fault.occurrence()) {
                // Half the bytes reach the file, as when the disk fills in the middle of a write:
                // the next start must find a torn tail there and move it aside.
                writePart(source, position, source.remaining() / 2);
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
    }
}
