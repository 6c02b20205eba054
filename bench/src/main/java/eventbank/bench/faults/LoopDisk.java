package eventbank.bench.faults;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small ext4 file system on a loop device, for the full-disk fault: an image file made with
 * {@code mkfs.ext4} (no blocks reserved for root, since the harness runs as root), mounted with
 * {@code mount -o loop}, filled with {@code fallocate} to leave a chosen number of bytes, emptied
 * again by deleting the filler. Mounting needs root and a loop device; where it is refused (a
 * container without loop devices) {@link #mount} throws {@link Refused} with the reason, and the
 * caller says so instead of passing silently. {@link #close()} unmounts and deletes the image.
 */
final class LoopDisk implements AutoCloseable {
    private static final long COMMAND_SECONDS_MAX = 60;
    private static final String FILLER = "filler";
    private static final int FILL_ATTEMPTS = 4;
    private static final long FILL_STEP_BYTES = 1 << 20;

    private final Path image;
    private final Path mountPoint;

    private LoopDisk(Path image, Path mountPoint) {
        this.image = image;
        this.mountPoint = mountPoint;
    }

    /** Mounting is not possible here. */
    static final class Refused extends Exception {
        Refused(String message) {
            super(message);
        }
    }

    static LoopDisk mount(Path image, Path mountPoint, long bytes) throws Refused, IOException, InterruptedException {
        Files.createDirectories(mountPoint);
        try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
            file.setLength(bytes);
        }
        String made = run("mkfs.ext4", "-F", "-q", "-m", "0", image.toString());
        if (made != null) {
            Files.deleteIfExists(image);
            throw new Refused("mkfs.ext4 failed: " + made);
        }
        String mounted = run("mount", "-o", "loop", image.toString(), mountPoint.toString());
        if (mounted != null) {
            Files.deleteIfExists(image);
            throw new Refused("mount -o loop was refused: " + mounted);
        }
        return new LoopDisk(image, mountPoint);
    }

    Path root() {
        return mountPoint;
    }

    long freeBytes() throws IOException {
        return Files.getFileStore(mountPoint).getUsableSpace();
    }

    /** Fills the file system until about {@code leaveBytes} are free. */
    void fill(long leaveBytes) throws IOException, InterruptedException {
        // The server writes meanwhile (and the file system needs blocks of its own for the
        // filler), so a filler of exactly the free space less leaveBytes may not fit: a run saw
        // ENOSPC. Each refusal leaves another MiB more free, a few times.
        String filled = null;
        for (int attempt = 0; attempt < FILL_ATTEMPTS; attempt++) {
            long size = freeBytes() - leaveBytes - attempt * FILL_STEP_BYTES;
            if (size <= 0) {
                return;
            }
            filled = run("fallocate", "-l", Long.toString(size), mountPoint.resolve(FILLER).toString());
            if (filled == null) {
                return;
            }
            Files.deleteIfExists(mountPoint.resolve(FILLER));
        }
        throw new IOException("fallocate failed: " + filled);
    }


    /** Gives the space back. */
    void empty() throws IOException {
        Files.deleteIfExists(mountPoint.resolve(FILLER));
    }

    @Override
    public void close() throws IOException, InterruptedException {
        String unmounted = run("umount", mountPoint.toString());
        if (unmounted != null) {
            // Something still holds a file open there: detach it, the kernel finishes when it closes.
            run("umount", "-l", mountPoint.toString());
        }
        Files.deleteIfExists(image);
        Files.deleteIfExists(mountPoint);
    }

    /** Runs a command; answers null when it succeeded, else its status and output. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        } catch (IOException e) {
            return command[0] + " could not run: " + e.getMessage();
        }
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(COMMAND_SECONDS_MAX, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return String.join(" ", command) + " did not finish";
        }
        return process.exitValue() == 0 ? null : String.join(" ", command) + " exited " + process.exitValue() + ": "
                + new String(output, StandardCharsets.UTF_8).strip();
    }
}
