package eventbank.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of this process and of its threads by role, read before and after a measurement, to
 * tell what the work costs from how much of the shared machine the benchmark happened to get.
 * "other" is the process's CPU not spent in a Java thread that is still alive: GC, JIT, VM.
 */
final class CpuMeter {
    private static final com.sun.management.OperatingSystemMXBean OS =
            (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    /** A reading: process CPU, CPU per thread id (with its role), wall clock. */
    record Reading(long processNanos, Map<Long, Long> threadNanos, Map<Long, String> roles, long wallNanos) {}

    private CpuMeter() {}

    static Reading read() {
        long[] ids = THREADS.getAllThreadIds();
        long[] cpu = THREADS.getThreadCpuTime(ids);
        ThreadInfo[] infos = THREADS.getThreadInfo(ids);
        Map<Long, Long> threadNanos = new TreeMap<>();
        Map<Long, String> roles = new TreeMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (infos[i] != null && cpu[i] >= 0) {
                threadNanos.put(ids[i], cpu[i]);
                roles.put(ids[i], role(infos[i].getThreadName()));
            }
        }
        return new Reading(OS.getProcessCpuTime(), threadNanos, roles, System.nanoTime());
    }

    /** CPU of the current thread, in nanoseconds. */
    static long currentThreadNanos() {
        return THREADS.getCurrentThreadCpuTime();
    }

    static long processNanos() {
        return OS.getProcessCpuTime();
    }

    private static String role(String threadName) {
        if (threadName.startsWith("eventbank-subscriber-")) {
            return threadName.substring("eventbank-subscriber-".length());
        }
        if (threadName.startsWith("eventbank-")) {
            return threadName.substring("eventbank-".length());
        }
        if (threadName.contains("jmh-worker") || threadName.equals("main")) {
            return "submitter";
        }
        return "other";
    }

    /** One line: CPU ns per operation for the process and each role, and the cores in use. */
    static String perOperation(Reading before, Reading after, long operations, String unit) {
        long process = after.processNanos - before.processNanos;
        Map<String, Long> byRole = new LinkedHashMap<>();
        long threads = 0;
        for (Map.Entry<Long, Long> entry : after.threadNanos.entrySet()) {
            String role = after.roles.get(entry.getKey());
            long used = entry.getValue() - before.threadNanos.getOrDefault(entry.getKey(), 0L);
            if (!role.equals("other")) {
                byRole.merge(role, used, Long::sum);
                threads += used;
            }
        }
        byRole.put("other (GC, JIT, VM)", process - threads);
        double wall = after.wallNanos - before.wallNanos;
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT,
                "CPU per %s: process %,.0f ns (%.2f cores busy of %d)", unit, process / (double) operations,
                process / wall, Runtime.getRuntime().availableProcessors()));
        for (Map.Entry<String, Long> entry : byRole.entrySet()) {
            line.append(String.format(Locale.ROOT, ", %s %,.0f", entry.getKey(), entry.getValue() / (double) operations));
        }
        return line.toString();
    }
}
