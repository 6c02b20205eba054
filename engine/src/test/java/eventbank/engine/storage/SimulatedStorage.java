package eventbank.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * An in-memory {@link Storage} that models what a power loss leaves behind, as POSIX and ext4
 * promise it.
 *
 * <ul>
 *   <li>Each file has its current content and its durable content, a copy taken at the last
 *       {@link StorageFile#force()}. The writes and truncations since then are kept, in order, so
 *       that a crash can tear them.
 *   <li>Each directory has its current names (name to file) and its durable names, taken at the
 *       last {@link #syncDirectory(Path)}. Creating, renaming and deleting change the current names
 *       only. A file is an object shared by names: renaming moves the object, so after a crash the
 *       durable name finds the same file, with its durable content.
 *   <li>Directories themselves are durable as soon as {@link #createDirectories(Path)} returns.
 * </ul>
 *
 * <p>{@link #crash(long, boolean)} throws away everything that was not durable and makes the
 * handles opened before it unusable. {@link #failForceAfter(int)} and {@link #failWriteAfter(int)}
 * inject I/O errors. Paths are compared after {@code toAbsolutePath().normalize()}, so relative and
 * absolute spellings name the same file. Every method is synchronized on the storage, so a writer
 * thread and reader threads can use it at once.
 */
public final class SimulatedStorage implements Storage {

    /** Largest file the simulation holds (it keeps contents in arrays). */
    private static final int MAX_SIZE = Integer.MAX_VALUE - 16;

    private final Map<Path, Directory> directories = new TreeMap<>();

    /** Bumped by every crash; handles of an older epoch are dead. */
    private long epoch;

    private long forceCount;
    private long writeCount;
    /** Forces still allowed before injected failures start; negative means no fault injected. */
    private long forcesBeforeFailure = -1;
    /** Writes still allowed before injected failures start; negative means no fault injected. */
    private long writesBeforeFailure = -1;

    // ---------------------------------------------------------------------------------------
    // Storage

    @Override
    public synchronized void createDirectories(Path directory) throws IOException {
        Path key = key(directory);
        List<Path> missing = new ArrayList<>();
        for (Path at = key; at != null && !directories.containsKey(at); at = at.getParent()) {
            if (isFile(at)) {
                throw new FileAlreadyExistsException(at.toString(), null, "a file has this name");
            }
            missing.add(at);
        }
        for (Path path : missing) {
            directories.put(path, new Directory());
        }
    }

    @Override
    public synchronized List<String> list(Path directory) {
        Directory dir = directories.get(key(directory));
        return dir == null ? List.of() : List.copyOf(dir.current.keySet());
    }

    @Override
    public synchronized boolean exists(Path file) {
        Path key = key(file);
        return directories.containsKey(key) || isFile(key);
    }

    @Override
    public synchronized StorageFile open(Path file, boolean create) throws IOException {
        Path key = key(file);
        Directory parent = parentOf(key);
        String name = key.getFileName().toString();
        Node node = parent.current.get(name);
        if (node == null) {
            if (directories.containsKey(key)) {
                throw new FileSystemException(key.toString(), null, "is a directory");
            }
            if (!create) {
                throw new NoSuchFileException(key.toString());
            }
            node = new Node();
            parent.current.put(name, node);
        }
        return new Handle(node, false, epoch, key);
    }

    @Override
    public synchronized StorageFile openReadOnly(Path file) throws IOException {
        Path key = key(file);
        Node node = existingFile(key);
        return new Handle(node, true, epoch, key);
    }

    @Override
    public synchronized void rename(Path source, Path target) throws IOException {
        Path from = key(source);
        Path to = key(target);
        Node node = existingFile(from);
        Directory targetDirectory = parentOf(to);
        if (directories.containsKey(to)) {
            throw new FileSystemException(to.toString(), null, "is a directory");
        }
        if (from.equals(to)) {
            return;
        }
        parentOf(from).current.remove(from.getFileName().toString());
        targetDirectory.current.put(to.getFileName().toString(), node);
    }

    /**
     * Removes a file's name, like {@code Files.deleteIfExists}: nothing happens when it is
     * missing. The deletion is durable after {@link #syncDirectory(Path)} of the parent. An empty
     * directory (no current names, no subdirectories) can be deleted too; that is durable at once.
     */
    @Override
    public synchronized void delete(Path file) throws IOException {
        Path key = key(file);
        Directory directory = directories.get(key);
        if (directory != null) {
            boolean hasChildren = directories.keySet().stream()
                    .anyMatch(path -> key.equals(path.getParent()));
            if (!directory.current.isEmpty() || hasChildren) {
                throw new DirectoryNotEmptyException(key.toString());
            }
            directories.remove(key);
            return;
        }
        Path parentKey = key.getParent();
        Directory parent = parentKey == null ? null : directories.get(parentKey);
        if (parent != null) {
            parent.current.remove(key.getFileName().toString());
        }
    }

    @Override
    public synchronized void syncDirectory(Path directory) throws IOException {
        Path key = key(directory);
        Directory dir = directories.get(key);
        if (dir == null) {
            throw new NoSuchFileException(key.toString());
        }
        dir.durable = new TreeMap<>(dir.current);
    }

    // ---------------------------------------------------------------------------------------
    // Power loss

    /**
     * Simulates a power loss and the reboot after it. Every directory's names become its durable
     * names again (unsynced creations vanish, unsynced renames and deletions are undone), and every
     * file that a durable name reaches gets back its durable content. When {@code tearLastWrites}
     * is set, each file with writes or truncations not yet forced keeps, on top of its durable
     * content, a random prefix (chosen with {@code seed}) of those operations, in the order they
     * were made, the last one possibly cut in the middle of its bytes: a torn write. For a file
     * that was only appended to, that is its durable content followed by a prefix of the bytes
     * appended since. What survives becomes the durable content.
     *
     * <p>Every handle opened before the crash throws {@code IOException("storage crashed")} from
     * then on (except {@code close}, which does nothing). Injected faults stay in place; call
     * {@link #clearFaults()} to restart on a healthy disk.
     */
    public synchronized void crash(long seed, boolean tearLastWrites) {
        epoch++;
        Random random = new Random(seed);
        Set<Node> survivors = new LinkedHashSet<>(); // Node keeps identity equality
        for (Directory directory : directories.values()) {
            directory.current = new TreeMap<>(directory.durable);
            survivors.addAll(directory.durable.values());
        }
        for (Node node : survivors) {
            node.crash(tearLastWrites ? random : null);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Fault injection

    /**
     * After {@code successfulForces} more successful {@link StorageFile#force()} calls, every
     * later one throws {@code IOException("injected fsync failure")} and makes nothing durable.
     */
    public synchronized void failForceAfter(int successfulForces) {
        if (successfulForces < 0) {
            throw new IllegalArgumentException("successfulForces < 0");
        }
        forcesBeforeFailure = successfulForces;
    }

    /**
     * After {@code successfulWrites} more successful {@link StorageFile#write} calls, every later
     * one throws {@code IOException("injected write failure")} and writes nothing.
     */
    public synchronized void failWriteAfter(int successfulWrites) {
        if (successfulWrites < 0) {
            throw new IllegalArgumentException("successfulWrites < 0");
        }
        writesBeforeFailure = successfulWrites;
    }

    /** Removes the injected faults. */
    public synchronized void clearFaults() {
        forcesBeforeFailure = -1;
        writesBeforeFailure = -1;
    }

    /** The number of successful {@link StorageFile#force()} calls since this storage was made. */
    public synchronized long forceCount() {
        return forceCount;
    }

    /** The number of successful {@link StorageFile#write} calls since this storage was made. */
    public synchronized long writeCount() {
        return writeCount;
    }

    // ---------------------------------------------------------------------------------------
    // Inspection and tampering

    /**
     * A copy of the current content of the file the current name {@code file} refers to.
     *
     * @throws IllegalArgumentException when there is no such file
     */
    public synchronized byte[] bytes(Path file) {
        return fileForInspection(file).current.toArray();
    }

    /**
     * A copy of the durable content (as of its last force) of the file the current name {@code
     * file} refers to. Whether the name itself is durable is {@link #durableNames(Path)}'s answer.
     *
     * @throws IllegalArgumentException when there is no such file
     */
    public synchronized byte[] durableBytes(Path file) {
        return fileForInspection(file).durable.clone();
    }

    /**
     * Replaces both the current and the durable content of a file, as if it had been edited while
     * the server was down; creates it, with a durable name (and its parent directories), when it
     * is missing. Handles already open on the file see the new content.
     */
    public synchronized void putBytes(Path file, byte[] content) {
        Path key = key(file);
        if (directories.containsKey(key)) {
            throw new IllegalArgumentException("is a directory: " + key);
        }
        Path parentKey = key.getParent();
        if (parentKey == null) {
            throw new IllegalArgumentException("no parent directory: " + key);
        }
        try {
            createDirectories(parentKey);
        } catch (IOException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
        Directory parent = directories.get(parentKey);
        String name = key.getFileName().toString();
        Node node = parent.current.get(name);
        if (node == null) {
            node = new Node();
            parent.current.put(name, node);
            parent.durable.put(name, node);
        }
        node.current = new Content(content);
        node.durable = content.clone();
        node.pending.clear();
    }

    /** The durable names of the files in a directory, sorted; empty when it does not exist. */
    public synchronized List<String> durableNames(Path directory) {
        Directory dir = directories.get(key(directory));
        return dir == null ? List.of() : List.copyOf(dir.durable.keySet());
    }

    // ---------------------------------------------------------------------------------------
    // Internals

    private static Path key(Path path) {
        return path.toAbsolutePath().normalize();
    }

    private boolean isFile(Path key) {
        Path parentKey = key.getParent();
        if (parentKey == null || key.getFileName() == null) {
            return false;
        }
        Directory parent = directories.get(parentKey);
        return parent != null && parent.current.containsKey(key.getFileName().toString());
    }

    private Directory parentOf(Path key) throws IOException {
        Path parentKey = key.getParent();
        if (parentKey == null || key.getFileName() == null) {
            throw new FileSystemException(key.toString(), null, "has no parent directory");
        }
        Directory parent = directories.get(parentKey);
        if (parent == null) {
            throw new NoSuchFileException(parentKey.toString());
        }
        return parent;
    }

    private Node existingFile(Path key) throws IOException {
        if (directories.containsKey(key)) {
            throw new FileSystemException(key.toString(), null, "is a directory");
        }
        Path parentKey = key.getParent();
        Directory parent = parentKey == null ? null : directories.get(parentKey);
        Node node = parent == null || key.getFileName() == null
                ? null
                : parent.current.get(key.getFileName().toString());
        if (node == null) {
            throw new NoSuchFileException(key.toString());
        }
        return node;
    }

    private Node fileForInspection(Path file) {
        try {
            return existingFile(key(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("no such file: " + key(file), e);
        }
    }

    private static final class Directory {
        Map<String, Node> current = new TreeMap<>();
        Map<String, Node> durable = new TreeMap<>();
    }

    /** A file object (an inode): shared by every name and handle that refers to it. */
    private static final class Node {
        Content current = new Content(new byte[0]);
        byte[] durable = new byte[0];
        /** Writes and truncations since the last force, in order. */
        final List<Operation> pending = new ArrayList<>();

        void write(long position, byte[] source) throws IOException {
            current.write(position, source, 0, source.length);
            if (source.length == 0) {
                return;
            }
            Operation last = pending.isEmpty() ? null : pending.get(pending.size() - 1);
            if (last != null && !last.truncate && last.position + last.length == position) {
                last.append(source); // an append continuing the previous one: same byte order
            } else {
                Operation operation = Operation.write(position);
                operation.append(source);
                pending.add(operation);
            }
        }

        void truncate(long size) {
            if (size < current.size) {
                current.truncate(size);
                pending.add(Operation.truncate(size));
            }
        }

        void force() {
            durable = current.toArray();
            pending.clear();
        }

        /** Back to the durable content, plus a random prefix of the pending operations if torn. */
        void crash(Random tear) {
            Content survivor = new Content(durable);
            if (tear != null && !pending.isEmpty()) {
                long events = 0; // one per written byte, one per truncation
                for (Operation operation : pending) {
                    events += operation.truncate ? 1 : operation.length;
                }
                long kept = tear.nextLong(events + 1);
                for (Operation operation : pending) {
                    if (kept == 0) {
                        break;
                    }
                    if (operation.truncate) {
                        survivor.truncate(operation.position);
                        kept--;
                    } else {
                        int length = (int) Math.min(kept, operation.length);
                        try {
                            survivor.write(operation.position, operation.bytes, 0, length);
                        } catch (IOException e) {
                            throw new IllegalStateException(e); // it fitted when it was written
                        }
                        kept -= length;
                    }
                }
            }
            current = survivor;
            durable = survivor.toArray();
            pending.clear();
        }
    }

    /** A pending write (bytes at a position) or truncation (to {@code position}). */
    private static final class Operation {
        final boolean truncate;
        final long position;
        byte[] bytes;
        int length;

        private Operation(boolean truncate, long position) {
            this.truncate = truncate;
            this.position = position;
        }

        static Operation write(long position) {
            Operation operation = new Operation(false, position);
            operation.bytes = new byte[16];
            return operation;
        }

        static Operation truncate(long size) {
            return new Operation(true, size);
        }

        void append(byte[] more) {
            if (length + more.length > bytes.length) {
                bytes = Arrays.copyOf(bytes, Math.max(length + more.length, bytes.length * 2));
            }
            System.arraycopy(more, 0, bytes, length, more.length);
            length += more.length;
        }
    }

    /** Growable file content; bytes beyond {@code size} are always zero. */
    private static final class Content {
        byte[] bytes;
        int size;

        Content(byte[] initial) {
            bytes = initial.clone();
            size = initial.length;
        }

        void write(long position, byte[] source, int offset, int length) throws IOException {
            long end = position + length;
            if (end > MAX_SIZE) {
                throw new IOException("file too large for SimulatedStorage: " + end + " bytes");
            }
            if (end > bytes.length) {
                bytes = Arrays.copyOf(bytes, (int) Math.min(MAX_SIZE, Math.max(end, 2L * bytes.length)));
            }
            System.arraycopy(source, offset, bytes, (int) position, length);
            size = (int) Math.max(size, end);
        }

        void truncate(long newSize) {
            if (newSize < size) {
                Arrays.fill(bytes, (int) newSize, size, (byte) 0);
                size = (int) newSize;
            }
        }

        int read(ByteBuffer destination, long position) {
            if (position >= size) {
                return 0;
            }
            int count = (int) Math.min(destination.remaining(), size - position);
            destination.put(bytes, (int) position, count);
            return count;
        }

        byte[] toArray() {
            return Arrays.copyOf(bytes, size);
        }
    }

    /** An open file; all its methods lock the storage. */
    private final class Handle implements StorageFile {
        private final Node node;
        private final boolean readOnly;
        private final long openedInEpoch;
        private final Path path;
        private boolean closed;

        Handle(Node node, boolean readOnly, long openedInEpoch, Path path) {
            this.node = node;
            this.readOnly = readOnly;
            this.openedInEpoch = openedInEpoch;
            this.path = path;
        }

        private void checkUsable() throws IOException {
            if (openedInEpoch != epoch) {
                throw new IOException("storage crashed");
            }
            if (closed) {
                throw new ClosedChannelException();
            }
        }

        private void checkWritable() throws IOException {
            if (readOnly) {
                throw new IOException("file opened read-only: " + path);
            }
        }

        @Override
        public long size() throws IOException {
            synchronized (SimulatedStorage.this) {
                checkUsable();
                return node.current.size;
            }
        }

        @Override
        public int read(ByteBuffer destination, long position) throws IOException {
            if (position < 0) {
                throw new IllegalArgumentException("negative position");
            }
            synchronized (SimulatedStorage.this) {
                checkUsable();
                return node.current.read(destination, position);
            }
        }

        @Override
        public void write(ByteBuffer source, long position) throws IOException {
            if (position < 0) {
                throw new IllegalArgumentException("negative position");
            }
            synchronized (SimulatedStorage.this) {
                checkUsable();
                checkWritable();
                if (writesBeforeFailure == 0) {
                    throw new IOException("injected write failure");
                }
                byte[] data = new byte[source.remaining()];
                source.get(source.position(), data);
                node.write(position, data); // may throw (too large) before consuming the source
                source.position(source.limit());
                if (writesBeforeFailure > 0) {
                    writesBeforeFailure--;
                }
                writeCount++;
            }
        }

        @Override
        public void force() throws IOException {
            synchronized (SimulatedStorage.this) {
                checkUsable();
                if (forcesBeforeFailure == 0) {
                    throw new IOException("injected fsync failure");
                }
                node.force();
                if (forcesBeforeFailure > 0) {
                    forcesBeforeFailure--;
                }
                forceCount++;
            }
        }

        @Override
        public void truncate(long size) throws IOException {
            if (size < 0) {
                throw new IllegalArgumentException("negative size");
            }
            synchronized (SimulatedStorage.this) {
                checkUsable();
                checkWritable();
                node.truncate(size);
            }
        }

        @Override
        public void close() {
            synchronized (SimulatedStorage.this) {
                closed = true;
            }
        }

        @Override
        public String toString() {
            return "SimulatedStorage file " + path + (readOnly ? " (read-only)" : "");
        }
    }
}
