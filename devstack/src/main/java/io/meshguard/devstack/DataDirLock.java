package io.meshguard.devstack;

import io.meshguard.cli.common.UpState;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The lock that makes one {@code meshguard up} own a data directory ({@code DATA_DIR/up.lock}, an OS file lock the
 * kernel releases when the process dies, however it dies). A second {@code up} on the same directory is refused
 * before it changes anything there, {@code up.json} of the running one included.
 */
final class DataDirLock implements AutoCloseable {
    static final String FILE_NAME = "up.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private DataDirLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Takes the lock of {@code dataDir}.
     *
     * @throws IllegalStateException when another process holds it, naming that {@code up} where {@code up.json} says
     */
    static DataDirLock acquire(Path dataDir) throws IOException {
        FileChannel channel =
                FileChannel.open(dataDir.resolve(FILE_NAME), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            String who = UpState.read(dataDir)
                    .filter(UpState::alive)
                    .map(s -> "another meshguard up (pid " + s.pid() + ", status " + s.statusUrl() + ")")
                    .orElse("another meshguard up that is still starting");
            throw new IllegalStateException(dataDir + " is in use by " + who + "; stop it first, or pass --data-dir DIR"
                    + " (and free ports, e.g. --status-port 0 …) for a second stack");
        }
        return new DataDirLock(channel, lock);
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the process is stopping; the kernel drops the lock with the file descriptor
        }
    }
}
