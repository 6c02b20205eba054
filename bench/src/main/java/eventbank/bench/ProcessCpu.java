package eventbank.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What Linux's {@code /proc} tells of other processes: the CPU time they used and their
 * children. The cost per operation of a server in another process (the eventbank server,
 * PostgreSQL) is its CPU time over the operations, a figure that a noisy shared machine
 * disturbs far less than throughput.
 */
final class ProcessCpu {
    private static final Path PROC = Path.of("/proc");

    private ProcessCpu() {}

    /** The CPU time (user + system) a process has used, in microseconds; -1 where /proc is missing. */
    static long micros(long pid) {
        String[] fields = statFields(pid);
        if (fields == null) {
            return -1;
        }
        // Fields 14 and 15 of the line (utime, stime) in clock ticks of 1/100 s; the fields start at field 3.
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10_000L;
    }

    /**
     * The CPU time of a process, of its children that it has waited for (fields 16 and 17), and
     * of its children alive now: all a server of many processes (PostgreSQL's postmaster and its
     * backends) used; -1 where /proc is missing.
     */
    static long microsWithChildren(long pid) {
        String[] fields = statFields(pid);
        if (fields == null) {
            return -1;
        }
        long total = micros(pid) + (Long.parseLong(fields[13]) + Long.parseLong(fields[14])) * 10_000L;
        for (long child : childrenOf(pid)) {
            total += Math.max(0, micros(child));
        }
        return total;
    }

    /** The pids of a process's children now. */
    static List<Long> childrenOf(long pid) {
        List<Long> children = new ArrayList<>();
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(PROC, "[0-9]*")) {
            for (Path process : processes) {
                long candidate = Long.parseLong(process.getFileName().toString());
                String[] fields = statFields(candidate);
                if (fields != null && Long.parseLong(fields[1]) == pid) {
                    children.add(candidate);
                }
            }
        } catch (IOException e) {
            // /proc cannot be listed: no children known
        }
        return children;
    }

    /** The fields of {@code /proc/PID/stat} after the command's name, from the state on; null when unreadable. */
    private static String[] statFields(long pid) {
        try {
            String stat = Files.readString(PROC.resolve(Long.toString(pid)).resolve("stat"));
            return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
