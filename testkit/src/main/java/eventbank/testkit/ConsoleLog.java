package eventbank.testkit;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The console file of a server run as a child process (standard output and error appended to
 * it over its lives), read as the harnesses that start servers read it: from where a start
 * began, and its tail for a message.
 */
public final class ConsoleLog {
    private static final int TAIL_CHARS = 4000;

    private ConsoleLog() {}

    /** The log's text from {@code offset} on; empty when there is none (yet). */
    public static String readFrom(Path log, long offset) throws IOException {
        if (!Files.exists(log)) {
            return "";
        }
        try (RandomAccessFile file = new RandomAccessFile(log.toFile(), "r")) {
            long length = file.length() - offset;
            if (length <= 0) {
                return "";
            }
            byte[] bytes = new byte[(int) Math.min(length, Integer.MAX_VALUE - 8)];
            file.seek(offset);
            file.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    /** The last few thousand characters of {@code text}, for a message. */
    public static String tail(String text) {
        return text.length() <= TAIL_CHARS ? text : "..." + text.substring(text.length() - TAIL_CHARS);
    }
}
