package io.meshguard.deploy.box;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The addresses of pods that failed readiness after they started, as an EndpointSlice's {@code conditions.ready}
 * tells istiod and kube-proxy: istiod's EDS leaves them out of every proxy's clusters, kube-proxy out of the Service's
 * DNAT. The box writes them to one file (one address a line, replaced whole by a rename) when a pod's readiness
 * changes, the pushes of istiod as one shared file; the proxies of the box (sidecars, waypoint, ingress gateway) read
 * it again whenever it changed. No file: every endpoint is ready.
 */
final class NotReadyPods {
    static final String FILE = "endpoints-not-ready";

    private final Optional<Path> file;
    /** The file's identity (device and inode) when last read: every write is a new file, renamed over the old. */
    private Object stamp = "none yet";

    private Set<String> addresses = Set.of();

    NotReadyPods(Optional<Path> file) {
        this.file = file;
    }

    /** The addresses not ready now. */
    synchronized Set<String> now() {
        if (file.isEmpty()) {
            return Set.of();
        }
        try {
            Object key = Files.isRegularFile(file.get())
                    ? Files.readAttributes(file.get(), java.nio.file.attribute.BasicFileAttributes.class)
                            .fileKey()
                    : "absent";
            if (!key.equals(stamp)) {
                addresses = key.equals("absent")
                        ? Set.of()
                        : Set.copyOf(Files.readAllLines(file.get(), StandardCharsets.UTF_8).stream()
                                .map(String::strip)
                                .filter(l -> !l.isEmpty())
                                .toList());
                stamp = key;
            }
        } catch (IOException e) {
            // a file replaced under the reader: the last addresses read stand until the next look
        }
        return addresses;
    }

    /** The endpoints whose address is ready, in their order. */
    <T> List<T> ready(List<T> endpoints, Function<T, String> address) {
        Set<String> out = now();
        return out.isEmpty()
                ? endpoints
                : endpoints.stream()
                        .filter(e -> !out.contains(address.apply(e)))
                        .toList();
    }

    /** The box's side: replaces the file with {@code addresses}, readable by every proxy's user. */
    static void write(Path file, Collection<String> addresses) {
        try {
            Path next = Files.createTempFile(file.getParent(), file.getFileName() + ".", ".next");
            Files.writeString(next, String.join("\n", new TreeSet<>(addresses)) + "\n", StandardCharsets.UTF_8);
            Files.setPosixFilePermissions(next, PosixFilePermissions.fromString("rw-r--r--"));
            Files.move(next, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
