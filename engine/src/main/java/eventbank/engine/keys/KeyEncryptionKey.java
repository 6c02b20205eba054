package eventbank.engine.keys;

import eventbank.engine.storage.OwnerOnly;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Set;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * The key-encryption key (KEK): 32 random bytes that wrap every account's data key and the
 * store's digest key, in a file of one line ({@code keys.kek_file}, by default
 * {@code data/keys/kek}, mode 0600 in a directory 0700):
 *
 * <pre>
 * eventbank-kek 1 &lt;id: 16 hex digits&gt; &lt;key: 64 hex digits&gt;\n
 * </pre>
 *
 * <p>The id is the first 8 bytes of the key's SHA-256. The key store records the id of the KEK
 * that wrapped its keys, so that a start with the wrong file says so instead of failing on every
 * account; and reading checks that the id matches the key, which catches a mistyped or damaged
 * file the way a checksum would. The file is text so that an operator can keep it in a secret
 * manager and mount it back.
 */
final class KeyEncryptionKey {
    static final String FORMAT_WORD = "eventbank-kek";
    static final int FORMAT = 1;
    static final int ID_BYTES = 8;

    private final byte[] key;
    private final long id;

    private KeyEncryptionKey(byte[] key) {
        this.key = key.clone();
        this.id = idOf(key);
    }

    /** A new KEK from SecureRandom, in memory only. */
    static KeyEncryptionKey generate() {
        return new KeyEncryptionKey(Aead.randomBytes(Aead.KEY_BYTES));
    }

    /** The first 8 bytes of SHA-256 of the key, big-endian. */
    static long idOf(byte[] key) {
        try {
            return ByteBuffer.wrap(MessageDigest.getInstance("SHA-256").digest(key)).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    long id() {
        return id;
    }

    /** The id as the files and messages show it: 16 hex digits. */
    String idText() {
        return idText(id);
    }

    static String idText(long id) {
        return HexFormat.of().toHexDigits(id);
    }

    SecretKey secretKey() {
        return new SecretKeySpec(key, "AES");
    }

    /** The file's one line; tests scan files for it (and for the key's bytes). */
    String line() {
        return FORMAT_WORD + " " + FORMAT + " " + idText() + " " + HexFormat.of().formatHex(key) + "\n";
    }

    /** The key's raw bytes, for tests that look for them in files. */
    byte[] keyBytes() {
        return key.clone();
    }

    /** Reads a KEK file; throws {@link NoSuchFileException} when it is absent, else says what is wrong. */
    static KeyEncryptionKey read(Path file) throws IOException {
        String text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).strip();
        String[] words = text.split(" ");
        if (words.length != 4 || !words[0].equals(FORMAT_WORD)) {
            throw new PersonalKeysException("the key-encryption key file " + file + " is not one eventbank wrote"
                    + " (it should be one line: " + FORMAT_WORD + " " + FORMAT + " ID KEY)");
        }
        if (!words[1].equals(String.valueOf(FORMAT))) {
            throw new PersonalKeysException("the key-encryption key file " + file + " has format " + words[1]
                    + "; this eventbank reads format " + FORMAT);
        }
        byte[] key;
        long id;
        try {
            id = HexFormat.fromHexDigitsToLong(words[2]);
            key = HexFormat.of().parseHex(words[3]);
        } catch (IllegalArgumentException e) {
            throw new PersonalKeysException("the key-encryption key file " + file + " does not hold its id and key"
                    + " in hex");
        }
        if (words[2].length() != 2 * ID_BYTES || key.length != Aead.KEY_BYTES || idOf(key) != id) {
            throw new PersonalKeysException("the key-encryption key file " + file + " is damaged: its key does not"
                    + " match its id " + words[2]);
        }
        return new KeyEncryptionKey(key);
    }

    /**
     * The KEK in {@code file}, or, when there is none, a new one written there. Two processes
     * doing this at once (the nodes of a cluster started side by side, each given the path of one
     * shared file) end with the same KEK: the new key is written whole to a file of this process's
     * own beside it, then linked to {@code file}, which fails when {@code file} exists; so {@code
     * file} appears whole or not at all, and a process that finds it there reads it. Creating the
     * file directly let a second node find it empty, or fail to create it ("cannot read ...kek").
     */
    static KeyEncryptionKey readOrCreate(Path file) throws IOException {
        try {
            return read(file);
        } catch (NoSuchFileException absent) {
            // Made below, unless another process makes it first.
        }
        KeyEncryptionKey kek = generate();
        Path aside = file.resolveSibling(file.getFileName() + "." + ProcessHandle.current().pid() + "."
                + Thread.currentThread().threadId() + ".new");
        Files.deleteIfExists(aside);
        kek.writeNew(aside);
        try {
            Files.createLink(file, aside);
            return kek;
        } catch (FileAlreadyExistsException another) {
            return read(file);
        } finally {
            Files.deleteIfExists(aside);
            Durable.syncDirectory(file.toAbsolutePath().getParent());
        }
    }

    /**
     * Writes this KEK as a new file (which must not exist), 0600, forced to disk with its name;
     * the directory is created 0700 when missing.
     */
    void writeNew(Path file) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        OwnerOnly.createDirectories(directory);
        try (FileChannel channel = OwnerOnly.open(file, Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))) {
            ByteBuffer bytes = ByteBuffer.wrap(line().getBytes(StandardCharsets.US_ASCII));
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        }
        Durable.syncDirectory(directory);
    }

    /**
     * Destroys a KEK file: overwrites its bytes in place with zeros, forces them to disk, and
     * then removes it. On a file system that copies on write (btrfs, ZFS) or on flash, the old
     * blocks may survive on the device until reused: docs/OPERATIONS.md says so.
     */
    static void destroy(Path file) throws IOException {
        overwriteWithZeros(file);
        Files.deleteIfExists(file);
        Durable.syncDirectory(file.toAbsolutePath().getParent());
    }

    /** Overwrites a file's bytes in place with zeros and forces them; nothing when it is absent. */
    static void overwriteWithZeros(Path file) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            long size = channel.size();
            ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(size, 4096));
            for (long position = 0; position < size; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - position));
                position += channel.write(zeros, position);
            }
            channel.force(true);
        }
    }

    @Override
    public String toString() {
        return "KeyEncryptionKey[id=" + idText() + "]";
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyEncryptionKey that && Arrays.equals(key, that.key);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(id);
    }
}
