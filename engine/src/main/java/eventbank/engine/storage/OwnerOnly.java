package eventbank.engine.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Creates the data directory's files readable by their owner only (0600) and its directories
 * usable by their owner only (0700): journal segments, snapshots, checkpoints, mails and the
 * server key hold balances, addresses and secrets. The mode is given to the system call that
 * creates the file, never set afterwards: a file created 0644 and then changed leaves a moment
 * in which anyone may open it, and whoever opened it keeps reading. The process's umask can only
 * take bits away from these modes.
 *
 * <p>On a file system without POSIX permissions (none on Linux, but a JDK may run elsewhere) the
 * files are created as the system creates them: refusing to start would protect nothing there.
 */
public final class OwnerOnly {
    public static final Set<PosixFilePermission> FILE_PERMISSIONS = PosixFilePermissions.fromString("rw-------");
    public static final Set<PosixFilePermission> DIRECTORY_PERMISSIONS = PosixFilePermissions.fromString("rwx------");

    private static final FileAttribute<?>[] NONE = new FileAttribute<?>[0];
    private static final FileAttribute<?>[] FILE =
            new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(FILE_PERMISSIONS)};
    private static final FileAttribute<?>[] DIRECTORY =
            new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(DIRECTORY_PERMISSIONS)};

    private OwnerOnly() {}

    /** Creates the directory and any missing parents, each 0700; existing ones are left as they are. */
    public static Path createDirectories(Path directory) throws IOException {
        return Files.createDirectories(directory, posix(directory) ? DIRECTORY : NONE);
    }

    /** Opens a file channel; a file the options create is created 0600. */
    public static FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException {
        return FileChannel.open(file, options, posix(file) ? FILE : NONE);
    }

    /** Creates a new, empty file 0600; fails when it exists. */
    public static Path createFile(Path file) throws IOException {
        return Files.createFile(file, posix(file) ? FILE : NONE);
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }
}
