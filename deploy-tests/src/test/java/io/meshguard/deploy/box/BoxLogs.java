package io.meshguard.deploy.box;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Every container's log of a box, copied out of its directory when the box closes ({@code target/box-logs}): the box
 * directory goes with the run, and a journey that failed in CI is read from its pods' logs (the controller's NACK
 * warnings, a pod's restarts), not from the last lines its assertion quoted.
 */
final class BoxLogs {
    /** Where a module's box run leaves its pods' logs (surefire runs in the module's directory). */
    static final Path DIR = Path.of("target", "box-logs");

    private BoxLogs() {}

    /** Empties {@link #DIR}: what is there after a run is that run's. */
    static void clear() throws IOException {
        if (Files.isDirectory(DIR)) {
            try (Stream<Path> old = Files.list(DIR)) {
                for (Path p : old.toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * Copies each pod's {@code container.log} (a restarted container appends to it) and the node agent's log under
     * {@code box} to {@link #DIR}, one file per container named by its path ({@code zone-cluster_meshguard_…}).
     */
    static List<Path> keep(Path box) throws IOException {
        Files.createDirectories(DIR);
        List<Path> logs;
        // pod directories are at most two deep (the zone's under zone-cluster/); their rootfs and volumes are not read
        try (Stream<Path> files = Files.find(box, 3, (p, a) -> a.isRegularFile() && isLog(box.relativize(p)))) {
            logs = files.toList();
        }
        for (Path log : logs) {
            Path relative = box.relativize(log);
            String name = relative.getNameCount() == 1
                    ? relative.toString()
                    : relative.getParent().toString().replace('/', '_') + ".log";
            Files.copy(log, DIR.resolve(name), StandardCopyOption.REPLACE_EXISTING);
        }
        return logs;
    }

    private static boolean isLog(Path relative) {
        String file = relative.getFileName().toString();
        return file.equals("container.log") || relative.getNameCount() == 1 && file.endsWith(".log");
    }
}
