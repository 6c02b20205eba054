package eventbank.server.log;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import ch.qos.logback.core.status.Status;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The server's log written a batch at a time: every line, in order, a warning at once, all at a stop. */
class BatchingConsoleAppenderTest {
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private final PrintStream target = new PrintStream(written, true, StandardCharsets.UTF_8);
    private final LoggerContext context = new LoggerContext();
    private final BatchingConsoleAppender appender = new BatchingConsoleAppender(() -> target);
    private final Logger logger = context.getLogger("test");

    @BeforeEach
    void start() {
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%level %msg%n");
        encoder.start();
        appender.setContext(context);
        appender.setEncoder(encoder);
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void stop() {
        appender.stop();
    }

    private String text() {
        synchronized (target) {
            return written.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void linesOfManyThreadsAreAllWrittenEachThreadsInTheOrderLogged() throws Exception {
        int threads = 8;
        int linesPerThread = 10_000; // 80,000 lines: more than the queue holds, so callers wait for room
        List<Thread> started = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int thread = t;
            Runnable logging = () -> {
                for (int i = 0; i < linesPerThread; i++) {
                    logger.info("t{} {}", thread, i);
                }
            };
            started.add(t % 2 == 0 ? Thread.ofVirtual().start(logging) : Thread.ofPlatform().start(logging));
        }
        for (Thread thread : started) {
            thread.join();
        }
        appender.stop();

        int[] next = new int[threads];
        for (String line : text().split("\n")) {
            String[] parts = line.split(" ");
            assertThat(parts[0]).isEqualTo("INFO");
            int thread = Integer.parseInt(parts[1].substring(1));
            assertThat(Integer.parseInt(parts[2])).as("thread %d's lines in order", thread).isEqualTo(next[thread]);
            next[thread]++;
        }
        assertThat(next).containsOnly(linesPerThread);
    }

    @Test
    void aWarningIsWrittenBeforeTheCallReturnsWithEveryLineBeforeIt() {
        logger.info("one");
        logger.info("two");
        logger.warn("three");
        assertThat(text()).isEqualTo("INFO one\nINFO two\nWARN three\n");
        logger.error("four");
        assertThat(text()).endsWith("INFO two\nWARN three\nERROR four\n");
    }

    @Test
    void anInfoLineIsWrittenByTheWriterWithinItsLingerWithoutAStopOrAFlush() throws Exception {
        logger.info("alone");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!text().equals("INFO alone\n")) {
            assertThat(System.nanoTime()).as("the writer wrote the line by itself").isLessThan(deadline);
            Thread.onSpinWait();
        }
        logger.info("after a pause");
        while (!text().equals("INFO alone\nINFO after a pause\n")) {
            assertThat(System.nanoTime()).as("the idle writer woke for a new line").isLessThan(deadline);
            Thread.onSpinWait();
        }
    }

    @Test
    void aFlushAndAStopWriteEverythingQueued() {
        for (int i = 0; i < 1_000; i++) {
            logger.info("line {}", i);
        }
        appender.flush();
        assertThat(text().split("\n")).hasSize(1_000).endsWith("INFO line 999");
        for (int i = 1_000; i < 2_000; i++) {
            logger.info("line {}", i);
        }
        appender.stop();
        String[] lines = text().split("\n");
        assertThat(lines).hasSize(2_000).startsWith("INFO line 0").endsWith("INFO line 1999");
        assertThat(BatchingConsoleAppender.LINGER).isLessThanOrEqualTo(Duration.ofMillis(5));
    }

    @Test
    void aWriterThatDiesOfAnErrorLeavesNoCallerWaitingForRoom() throws Exception {
        appender.stop();
        logger.detachAppender(appender);
        CountDownLatch writerWriting = new CountDownLatch(1);
        CountDownLatch failNow = new CountDownLatch(1);
        AtomicBoolean firstWrite = new AtomicBoolean(true);
        // Its first write (the writer's) waits until the test lets it fail with an Error; the others write.
        PrintStream failingOnce = new PrintStream(written, true, StandardCharsets.UTF_8) {
            @Override
            public void write(byte[] bytes, int offset, int length) {
                if (firstWrite.compareAndSet(true, false)) {
                    writerWriting.countDown();
                    try {
                        failNow.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    throw new Error("a test's failure of the log writer's write");
                }
                super.write(bytes, offset, length);
            }
        };
        BatchingConsoleAppender failing = new BatchingConsoleAppender(() -> failingOnce);
        PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern("%level %msg%n");
        encoder.start();
        failing.setContext(context);
        failing.setEncoder(encoder);
        failing.start();
        logger.addAppender(failing);
        try {
            logger.info("lost with the failed write");
            assertThat(writerWriting.await(30, TimeUnit.SECONDS)).as("the writer writes the first line").isTrue();

            int lines = BatchingConsoleAppender.LINES_QUEUED_MAX + 1_000;
            Thread caller = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < lines; i++) {
                    logger.info("line {}", i);
                }
            });
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (failing.linesQueued() < BatchingConsoleAppender.LINES_QUEUED_MAX) {
                assertThat(System.nanoTime()).as("the caller fills the queue").isLessThan(deadline);
                Thread.onSpinWait();
            }
            assertThat(caller.isAlive()).as("the caller waits for room").isTrue();
            failNow.countDown();

            assertThat(caller.join(Duration.ofSeconds(30))).as("the caller finished without the writer").isTrue();
            String[] written = text().split("\n");
            assertThat(written).hasSize(lines);
            for (int i = 0; i < lines; i++) {
                assertThat(written[i]).isEqualTo("INFO line " + i);
            }
            assertThat(context.getStatusManager().getCopyOfStatusList())
                    .anySatisfy(status -> {
                        assertThat(status.getLevel()).isEqualTo(Status.ERROR);
                        assertThat(status.getMessage()).contains("the log writer failed");
                        assertThat(status.getThrowable()).hasMessage("a test's failure of the log writer's write");
                    });
        } finally {
            failNow.countDown();
            failing.stop();
        }
    }
}
