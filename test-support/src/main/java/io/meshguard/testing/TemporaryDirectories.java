package io.meshguard.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Removal of the temporary directories tests create for servers they start (data, policies, browser profiles). */
public final class TemporaryDirectories {
    private TemporaryDirectories() {}

    /**
     * Deletes {@code dir} and everything below it, as far as it can: a leftover under the temporary directory is no
     * reason to fail a test that is ending anyway, but every run leaving one per class fills {@code /tmp}.
     */
    public static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException e) {
            // a file vanished or could not be read while walking: what could be deleted is gone
        }
    }
}
