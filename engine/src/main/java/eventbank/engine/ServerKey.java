package eventbank.engine;

import eventbank.core.EmailDigests;
import eventbank.engine.snapshot.SnapshotStore;
import eventbank.engine.storage.OwnerOnly;
import eventbank.engine.storage.Storage;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The server's secret (verification codes, request fingerprints, tokens): 32 random bytes in
 * {@code data/server.key}, hex, mode 0600, made on first start and never in the log.
 */
public final class ServerKey {
    public static final String FILE_NAME = "server.key";
    private static final int KEY_BYTES = 32;

    private ServerKey() {}

    /**
     * The key of the bank's email digests, derived from the server's secret (HMAC-SHA-256 of a
     * fixed text), so that every node of a cluster, and every tool beside a data directory, digests
     * alike.
     */
    public static EmailDigests emailDigests(byte[] serverKey) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(serverKey, "HmacSHA256"));
            return new EmailDigests(mac.doFinal("eventbank email digests".getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
        }
    }

    /**
     * The snapshots of a data directory, read with the digest key its {@code server.key} gives;
     * without that file they can be listed but not read.
     */
    public static SnapshotStore snapshotsIn(Storage storage, Path dataDirectory) throws IOException {
        Path keyFile = dataDirectory.resolve(FILE_NAME);
        EmailDigests digests = Files.exists(keyFile) ? emailDigests(read(keyFile)) : null;
        return new SnapshotStore(storage, dataDirectory.resolve("snapshots"), digests);
    }

    public static byte[] loadOrCreate(Path dataDirectory) throws IOException {
        Path file = dataDirectory.resolve(FILE_NAME);
        if (!Files.exists(file)) {
            create(dataDirectory, file);
        }
        return read(file);
    }

    /** Reads a key file as this class writes one: hex, at least 32 bytes. */
    public static byte[] read(Path file) throws IOException {
        byte[] key;
        try {
            key = HexFormat.of().parseHex(Files.readString(file).strip());
        } catch (IllegalArgumentException e) {
            throw new IOException(file + " does not hold a key in hex");
        }
        if (key.length < KEY_BYTES) {
            throw new IOException(file + " holds fewer than " + KEY_BYTES + " bytes");
        }
        return key;
    }

    private static void create(Path dataDirectory, Path file) throws IOException {
        byte[] key = new byte[KEY_BYTES];
        new SecureRandom().nextBytes(key);
        write(dataDirectory, file, key);
    }

    /**
     * Writes {@code key} as {@code data/server.key}, as a first start would have made it (hex,
     * mode 0600, forced to disk with its name); for {@code eventbank migrate}, which brings a
     * cluster's key into a data directory.
     */
    public static void store(Path dataDirectory, byte[] key) throws IOException {
        if (key.length < KEY_BYTES) {
            throw new IllegalArgumentException("a server key has at least " + KEY_BYTES + " bytes, not " + key.length);
        }
        write(dataDirectory, dataDirectory.resolve(FILE_NAME), key);
    }

    private static void write(Path dataDirectory, Path file, byte[] key) throws IOException {
        Path temporary = dataDirectory.resolve(FILE_NAME + ".tmp");
        Files.deleteIfExists(temporary);
        OwnerOnly.createFile(temporary);
        Files.writeString(temporary, HexFormat.of().formatHex(key) + "\n");
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
        try {
            Files.move(temporary, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException e) {
            Files.deleteIfExists(temporary);
        }
        try (FileChannel directory = FileChannel.open(dataDirectory, StandardOpenOption.READ)) {
            directory.force(true);
        }
    }
}
