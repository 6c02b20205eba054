package eventbank.server.mail;

import eventbank.engine.storage.FileStorage;
import eventbank.engine.storage.Storage;
import eventbank.engine.storage.StorageFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Real files, with every operation recorded together with what the watched directory held just
 * before it: enough to tell when a name became visible and what had been made durable by then.
 */
final class RecordingStorage implements Storage {
    /** One operation: its name, the file (or directory) name it was about, the directory's listing before it. */
    record Operation(String name, String file, List<String> listingBefore) {
        @Override
        public String toString() {
            return name + " " + file;
        }
    }

    private final Storage real = new FileStorage();
    private final Path watched;
    private final List<Operation> operations = new ArrayList<>();

    RecordingStorage(Path watched) {
        this.watched = watched;
    }

    synchronized List<Operation> operations() {
        return List.copyOf(operations);
    }

    private synchronized void record(String name, Path path) throws IOException {
        operations.add(new Operation(name, path.getFileName().toString(), real.list(watched)));
    }

    @Override
    public void createDirectories(Path directory) throws IOException {
        record("createDirectories", directory);
        real.createDirectories(directory);
    }

    @Override
    public List<String> list(Path directory) throws IOException {
        return real.list(directory);
    }

    @Override
    public boolean exists(Path file) {
        return real.exists(file);
    }

    @Override
    public StorageFile open(Path file, boolean create) throws IOException {
        record("open", file);
        StorageFile opened = real.open(file, create);
        return new StorageFile() {
            @Override
            public long size() throws IOException {
                return opened.size();
            }

            @Override
            public int read(ByteBuffer destination, long position) throws IOException {
                return opened.read(destination, position);
            }

            @Override
            public void write(ByteBuffer source, long position) throws IOException {
                record("write", file);
                opened.write(source, position);
            }

            @Override
            public void force() throws IOException {
                record("force", file);
                opened.force();
            }

            @Override
            public void truncate(long size) throws IOException {
                record("truncate", file);
                opened.truncate(size);
            }

            @Override
            public void close() throws IOException {
                record("close", file);
                opened.close();
            }
        };
    }

    @Override
    public StorageFile openReadOnly(Path file) throws IOException {
        return real.openReadOnly(file);
    }

    @Override
    public void rename(Path source, Path target) throws IOException {
        record("rename to " + target.getFileName(), source);
        real.rename(source, target);
    }

    @Override
    public void delete(Path file) throws IOException {
        record("delete", file);
        real.delete(file);
    }

    @Override
    public void syncDirectory(Path directory) throws IOException {
        record("syncDirectory", directory);
        real.syncDirectory(directory);
    }
}
