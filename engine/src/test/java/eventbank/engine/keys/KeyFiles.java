package eventbank.engine.keys;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** The raw bytes of the key files, for tests that look for what must not be there. */
final class KeyFiles {
    private KeyFiles() {}

    /** Slot {@code slot}'s 128 bytes as the file holds them. */
    static byte[] rawSlot(Path store, int slot) throws IOException {
        byte[] bytes = new byte[KeySlot.BYTES];
        try (RandomAccessFile file = new RandomAccessFile(store.toFile(), "r")) {
            file.seek(StoreHeader.BYTES + (long) slot * KeySlot.BYTES);
            file.readFully(bytes);
        }
        return bytes;
    }

    static void flipByte(Path file, long offset) throws IOException {
        try (RandomAccessFile raw = new RandomAccessFile(file.toFile(), "rw")) {
            raw.seek(offset);
            int b = raw.read();
            raw.seek(offset);
            raw.write(b ^ 0x40);
        }
    }

    static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * The files under {@code directory} (recursively) holding {@code secret} raw, in hex (either
     * case) or as its ASCII text.
     */
    static List<Path> filesHolding(Path directory, byte[] secret) throws IOException {
        byte[] lowerHex = HexFormat.of().formatHex(secret).getBytes(StandardCharsets.US_ASCII);
        byte[] upperHex = HexFormat.of().withUpperCase().formatHex(secret).getBytes(StandardCharsets.US_ASCII);
        try (Stream<Path> files = Files.walk(directory)) {
            return files.filter(Files::isRegularFile).filter(file -> {
                try {
                    byte[] bytes = Files.readAllBytes(file);
                    return contains(bytes, secret) || contains(bytes, lowerHex) || contains(bytes, upperHex);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        }
    }

    static byte[] slice(byte[] bytes, int offset, int length) {
        byte[] part = new byte[length];
        System.arraycopy(bytes, offset, part, 0, length);
        return part;
    }
}
