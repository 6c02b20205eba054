package eventbank.bench;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * The disk's own pace, for context: appends {@code bytes} and forces them (fdatasync, as the
 * journal does) in a loop for a while, and prints the latency percentiles. One thread, one
 * file in a temporary directory, deleted at the end.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar eventbank.bench.FsyncLatency [bytes=40000] [seconds=10]
 * </pre>
 */
public final class FsyncLatency {
    private FsyncLatency() {}

    public static void main(String[] args) throws Exception {
        int bytes = args.length > 0 ? Integer.parseInt(args[0]) : 40_000;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
        Path directory = Fixtures.tempDirectory("eventbank-fsync-");
        Histogram latency = new Histogram(3);
        ByteBuffer buffer = ByteBuffer.allocateDirect(bytes);
        long written = 0;
        try (FileChannel channel = FileChannel.open(directory.resolve("file"), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE, StandardOpenOption.READ)) {
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            while (System.nanoTime() < end) {
                buffer.clear();
                long started = System.nanoTime();
                while (buffer.hasRemaining()) {
                    written += channel.write(buffer, written);
                }
                channel.force(false);
                latency.recordValue(System.nanoTime() - started);
            }
        } finally {
            Fixtures.deleteRecursively(directory);
        }
        System.out.printf(Locale.ROOT, "write %,d B + fdatasync, %d s: %,d per second; ms p50 %.3f p90 %.3f p99 %.3f "
                        + "p99.9 %.3f max %.3f%n", bytes, seconds, latency.getTotalCount() / seconds,
                latency.getValueAtPercentile(50) / 1e6, latency.getValueAtPercentile(90) / 1e6,
                latency.getValueAtPercentile(99) / 1e6, latency.getValueAtPercentile(99.9) / 1e6,
                latency.getMaxValue() / 1e6);
    }
}
