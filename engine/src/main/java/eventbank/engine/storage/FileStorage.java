package eventbank.engine.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * The real file system, through {@link FileChannel}. Files and directories it creates are its
 * owner's only, 0600 and 0700 ({@link OwnerOnly}).
 */
public final class FileStorage implements Storage {

    @Override
    public void createDirectories(Path directory) throws IOException {
        OwnerOnly.createDirectories(directory);
    }

    @Override
    public List<String> list(Path directory) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory)) {
            for (Path entry : entries) {
                if (Files.isRegularFile(entry)) {
                    names.add(entry.getFileName().toString());
                }
            }
        } catch (NoSuchFileException e) {
            return List.of();
        }
        Collections.sort(names);
        return names;
    }

    @Override
    public boolean exists(Path file) {
        return Files.exists(file);
    }

    @Override
    public StorageFile open(Path file, boolean create) throws IOException {
        // Created 0600 by the call that creates it (OwnerOnly): journal segments, snapshots and
        // checkpoints hold balances and account data.
        FileChannel channel = create
                ? OwnerOnly.open(file,
                        Set.of(StandardOpenOption.READ, StandardOpenOption.WRITE, StandardOpenOption.CREATE))
                : FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new ChannelFile(channel);
    }

    @Override
    public StorageFile openReadOnly(Path file) throws IOException {
        return new ChannelFile(FileChannel.open(file, StandardOpenOption.READ));
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        Files.move(source, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void delete(Path file) throws IOException {
        Files.deleteIfExists(file);
    }

    @Override
    public void syncDirectory(Path directory) throws IOException {
        // On Linux a directory opened for reading can be fsynced, which makes its entries durable.
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    @Override
    public Directory openDirectory(Path directory) throws IOException {
        FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ);
        return new Directory() {
            @Override
            public void sync() throws IOException {
                channel.force(true);
            }

            @Override
            public void close() throws IOException {
                channel.close();
            }
        };
    }

    private record ChannelFile(FileChannel channel) implements StorageFile {
        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public int read(ByteBuffer destination, long position) throws IOException {
            int total = 0;
            while (destination.hasRemaining()) {
                int read = channel.read(destination, position + total);
                if (read < 0) {
                    break;
                }
                total += read;
            }
            return total;
        }

        @Override
        public void write(ByteBuffer source, long position) throws IOException {
            long at = position;
            while (source.hasRemaining()) {
                at += channel.write(source, at);
            }
        }

        @Override
        public void force() throws IOException {
            channel.force(false);
        }

        @Override
        public void truncate(long size) throws IOException {
            channel.truncate(size);
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
