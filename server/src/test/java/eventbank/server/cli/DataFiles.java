package eventbank.server.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Looks at and damages the files of a data directory, for tests. */
final class DataFiles {
    private static final int SEGMENT_HEADER_BYTES = 64;
    private static final int BATCH_HEADER_BYTES = 64;

    private DataFiles() {}

    static List<Path> segments(Path data) throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("journal"))) {
            return files.filter(file -> file.getFileName().toString().endsWith(".seg")).sorted().toList();
        }
    }

    static List<Path> snapshots(Path data) throws IOException {
        try (Stream<Path> files = Files.list(data.resolve("snapshots"))) {
            return files.filter(file -> file.getFileName().toString().endsWith(".snap")).sorted().toList();
        }
    }

    /** Where each batch of a segment starts, walking the headers' body lengths. */
    static List<Long> batchOffsets(Path segment) throws IOException {
        List<Long> offsets = new ArrayList<>();
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(segment));
        long offset = SEGMENT_HEADER_BYTES;
        while (offset + BATCH_HEADER_BYTES <= bytes.limit()) {
            offsets.add(offset);
            offset += BATCH_HEADER_BYTES + bytes.getInt((int) offset + 4);
        }
        return offsets;
    }

    /** Inverts every bit of the byte at {@code offset}. */
    static void flipByte(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.flip();
            one.put(0, (byte) ~one.get(0));
            channel.write(one, offset);
        }
    }

    static void append(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes, StandardOpenOption.APPEND);
    }

    /**
     * Every file and directory under {@code root} with its size, modification time and SHA-256,
     * to show that a read-only command changed nothing.
     */
    static Map<String, String> contents(Path root) throws IOException {
        Map<String, String> contents = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(root)) {
            paths.forEach(path -> {
                try {
                    String key = root.relativize(path).toString();
                    if (Files.isDirectory(path)) {
                        contents.put(key + "/", "directory " + Files.getLastModifiedTime(path));
                    } else {
                        contents.put(key, Files.size(path) + " bytes, modified " + Files.getLastModifiedTime(path)
                                + ", sha256 " + sha256(Files.readAllBytes(path)));
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
        return contents;
    }

    private static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
