package eventbank.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Gives PostgreSQL's processes the scheduling priority of the benchmark that started them. On a
 * machine shared with other sessions, benchmarks run in an autogroup of nice -10 ({@code PRIO=1},
 * bench/run-lib.sh). PostgreSQL's postmaster and each of its children make a session of their
 * own (setsid), so each is an autogroup of its own at nice 0, with about a ninth of the
 * benchmark's weight: a journal in PostgreSQL would then be served by processes the scheduler
 * holds back, while the file journal's fsync runs in the benchmark's own process. A daemon
 * thread gives the postmaster and each of its children (backends come and go with connections)
 * this process's autogroup nice, every 200 ms.
 *
 * <p>Linux only, and a negative nice needs root; where either is missing, or where this
 * process's autogroup has nice 0, it does nothing.
 */
final class AutogroupPriority implements AutoCloseable {
    private static final Path PROC = Path.of("/proc");
    private static final long INTERVAL_MILLIS = 200;

    private final long postmasterPid;
    private final int nice;
    private final Thread thread;
    private volatile boolean closed;

    private AutogroupPriority(long postmasterPid, int nice) {
        this.postmasterPid = postmasterPid;
        this.nice = nice;
        this.thread = Thread.ofPlatform().daemon().name("autogroup-priority").unstarted(this::run);
    }

    /** Starts sharing this process's autogroup nice with the postmaster and its children; null when there is none to share. */
    static AutogroupPriority shareWith(long postmasterPid) {
        Integer own = niceOf(PROC.resolve("self"));
        if (own == null || own == 0) {
            return null;
        }
        AutogroupPriority priority = new AutogroupPriority(postmasterPid, own);
        priority.apply();
        priority.thread.start();
        return priority;
    }

    int nice() {
        return nice;
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        thread.interrupt();
        thread.join();
    }

    private void run() {
        while (!closed) {
            apply();
            try {
                Thread.sleep(INTERVAL_MILLIS);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void apply() {
        share(PROC.resolve(Long.toString(postmasterPid)));
        for (long child : ProcessCpu.childrenOf(postmasterPid)) {
            share(PROC.resolve(Long.toString(child)));
        }
    }

    private void share(Path process) {
        Integer now = niceOf(process);
        if (now != null && now != nice) {
            try {
                Files.writeString(process.resolve("autogroup"), Integer.toString(nice));
            } catch (IOException e) {
                // the process went away, or this one may not lower a nice value
            }
        }
    }

    /** The nice value of a process's autogroup ({@code /autogroup-123 nice -10}), or null when unknown. */
    private static Integer niceOf(Path process) {
        try {
            String line = Files.readString(process.resolve("autogroup")).strip();
            return Integer.parseInt(line.substring(line.lastIndexOf(' ') + 1));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
