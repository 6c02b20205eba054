package eventbank.engine;

import eventbank.engine.storage.SimulatedStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A {@link Storage} around another, for engine tests. It counts the calls to {@code force} and
 * {@code write} (attempts, not only successes); it can hold the next call of a kind, on a path
 * under a directory, until the test releases it (a slow disk, or two threads put in a chosen
 * order, without sleeping); and it can lose power at the n-th operation that changes something,
 * after which every call fails as if the process had died.
 */
final class ControlledStorage implements Storage {

    enum Call { FORCE, WRITE, LIST }

    /**
     * One call to hold: the first call of its kind on a path under {@code under} (made by a
     * thread whose name starts with {@code threadPrefix}, when one is given) waits in it until
     * the test calls {@link #release()}.
     */
    static final class Gate {
        private final Call call;
        private final Path under;
        private final String threadPrefix;
        private final AtomicBoolean taken = new AtomicBoolean();
        private final CountDownLatch entered = new CountDownLatch(1);
        private final CountDownLatch release = new CountDownLatch(1);

        private Gate(Call call, Path under, String threadPrefix) {
            this.call = call;
            this.under = under.toAbsolutePath().normalize();
            this.threadPrefix = threadPrefix;
        }

        private boolean takes(Call kind, Path path) {
            return kind == call && path.toAbsolutePath().normalize().startsWith(under)
                    && (threadPrefix == null || Thread.currentThread().getName().startsWith(threadPrefix))
                    && taken.compareAndSet(false, true);
        }

        /** Waits until the held call has been made (and is waiting). */
        void awaitEntered() throws InterruptedException {
            if (!entered.await(20, TimeUnit.SECONDS)) {
                throw new AssertionError("nobody made the " + call + " call under " + under + " that was to be held");
            }
        }

        void release() {
            taken.set(true); // a gate released before it was reached holds nothing
            release.countDown();
        }
    }

    private final Storage delegate;
    private final AtomicLong forceCalls = new AtomicLong();
    private final AtomicLong writeCalls = new AtomicLong();
    private final CopyOnWriteArrayList<Gate> gates = new CopyOnWriteArrayList<>();
    /** The gate of {@link #holdNextForce}, for {@link #awaitForceHeld} and {@link #releaseForce}. */
    private volatile Gate heldForce;
    private final AtomicLong mutations = new AtomicLong();
    private volatile long crashAtMutation = -1;
    private volatile Runnable powerLoss;
    private volatile boolean crashAfterOperation;
    private volatile boolean dead;

    ControlledStorage(Storage delegate) {
        this.delegate = delegate;
    }

    /** Calls to {@link StorageFile#force()} so far, whether they succeeded or not. */
    long forceCalls() {
        return forceCalls.get();
    }

    long writeCalls() {
        return writeCalls.get();
    }

    /** Holds the next call of this kind under {@code directory}, by a thread named so (or any, for null). */
    Gate hold(Call call, Path directory, String threadPrefix) {
        Gate gate = new Gate(call, directory, threadPrefix);
        gates.add(gate);
        return gate;
    }

    /** The next force of a file under {@code directory} will wait for {@link #releaseForce()}. */
    void holdNextForce(Path directory) {
        heldForce = hold(Call.FORCE, directory, null);
    }

    void awaitForceHeld() throws InterruptedException {
        heldForce.awaitEntered();
    }

    void releaseForce() {
        heldForce.release();
    }

    private void pass(Call call, Path path) throws IOException {
        for (Gate gate : gates) {
            if (gate.takes(call, path)) {
                gates.remove(gate);
                gate.entered.countDown();
                try {
                    if (!gate.release.await(30, TimeUnit.SECONDS)) {
                        throw new IOException("the test never released the held " + call);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while held", e);
                }
            }
        }
    }

    /**
     * Loses power at the {@code mutation}-th changing operation from now on: runs {@code
     * crash} (typically {@link SimulatedStorage#crash}) before that operation, or after it when
     * {@code afterOperation} is set (so a force can succeed and still be reported as failed),
     * and fails every call from then on.
     */
    void crashAtMutation(long mutation, boolean afterOperation, Runnable crash) {
        this.powerLoss = crash;
        this.crashAfterOperation = afterOperation;
        this.crashAtMutation = mutations.get() + mutation;
    }

    /** Loses power now, unless it was lost already; answers whether this call did it. */
    synchronized boolean crashNow() {
        if (dead) {
            return false;
        }
        dead = true;
        powerLoss.run();
        return true;
    }

    boolean isDead() {
        return dead;
    }

    private void alive() throws IOException {
        if (dead) {
            throw new IOException("power lost (ControlledStorage)");
        }
    }

    /** Runs one changing operation, losing power before or after it when its number comes. */
    private synchronized <T> T mutate(IoCall<T> operation) throws IOException {
        // One at a time, so that none slips past the power loss on another thread.
        alive();
        long number = mutations.incrementAndGet();
        boolean crashHere = number == crashAtMutation;
        if (crashHere && !crashAfterOperation) {
            crashNow();
            alive();
        }
        T result = operation.call();
        if (crashHere) {
            crashNow();
            alive();
        }
        return result;
    }

    @FunctionalInterface
    private interface IoCall<T> {
        T call() throws IOException;
    }

    @Override
    public void createDirectories(Path directory) throws IOException {
        alive();
        delegate.createDirectories(directory);
    }

    @Override
    public List<String> list(Path directory) throws IOException {
        pass(Call.LIST, directory);
        alive();
        return delegate.list(directory);
    }

    @Override
    public boolean exists(Path file) {
        if (dead) {
            throw new UncheckedIOException(new IOException("power lost (ControlledStorage)"));
        }
        return delegate.exists(file);
    }

    @Override
    public StorageFile open(Path file, boolean create) throws IOException {
        StorageFile opened;
        if (create) {
            opened = mutate(() -> delegate.open(file, true));
        } else {
            alive();
            opened = delegate.open(file, false);
        }
        return new File(opened, file.toAbsolutePath().normalize());
    }

    @Override
    public StorageFile openReadOnly(Path file) throws IOException {
        alive();
        return new File(delegate.openReadOnly(file), file.toAbsolutePath().normalize());
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        mutate(() -> {
            delegate.rename(source, target);
            return null;
        });
    }

    @Override
    public void delete(Path file) throws IOException {
        mutate(() -> {
            delegate.delete(file);
            return null;
        });
    }

    @Override
    public void syncDirectory(Path directory) throws IOException {
        mutate(() -> {
            delegate.syncDirectory(directory);
            return null;
        });
    }

    private final class File implements StorageFile {
        private final StorageFile file;
        private final Path path;

        File(StorageFile file, Path path) {
            this.file = file;
            this.path = path;
        }

        @Override
        public long size() throws IOException {
            alive();
            return file.size();
        }

        @Override
        public int read(ByteBuffer destination, long position) throws IOException {
            alive();
            return file.read(destination, position);
        }

        @Override
        public void write(ByteBuffer source, long position) throws IOException {
            writeCalls.incrementAndGet();
            pass(Call.WRITE, path);
            mutate(() -> {
                file.write(source, position);
                return null;
            });
        }

        @Override
        public void force() throws IOException {
            forceCalls.incrementAndGet();
            pass(Call.FORCE, path);
            mutate(() -> {
                file.force();
                return null;
            });
        }

        @Override
        public void truncate(long size) throws IOException {
            mutate(() -> {
                file.truncate(size);
                return null;
            });
        }

        @Override
        public void close() throws IOException {
            file.close();
        }
    }
}
