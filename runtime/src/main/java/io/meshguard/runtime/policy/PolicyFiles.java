package io.meshguard.runtime.policy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Reads the policy files at a location the way {@link PolicyWatcher} does, for one-off checks too
 * ({@code meshguard policy check}).
 *
 * <p>A file is read as is. A directory gives every {@code *.yaml} and {@code *.yml} directly in it, sorted
 * by name, following symbolic links and skipping names that start with a dot: a Kubernetes ConfigMap mount
 * holds {@code authz.yaml -> ..data/authz.yaml} next to the {@code ..data} link and the timestamped
 * {@code ..2026_11_21_10_00_00.123} directory, and only the first is a policy file.
 */
public final class PolicyFiles {
    private PolicyFiles() {}

    /**
     * The sources at {@code location}.
     *
     * @throws IOException when the location does not exist, a file cannot be read or is not UTF-8, or a
     *     directory holds no policy file; the message says which
     */
    public static List<PolicySource> read(Path location) throws IOException {
        if (Files.isDirectory(location)) {
            return readDirectory(location);
        }
        if (!Files.exists(location)) {
            throw new NoSuchFileException(location.toString(), null, "policy path not found");
        }
        return List.of(readFile(location, location.getFileName().toString()));
    }

    /** True for names a directory scan picks up. */
    static boolean isPolicyFileName(String name) {
        return !name.startsWith(".") && (name.endsWith(".yaml") || name.endsWith(".yml"));
    }

    private static List<PolicySource> readDirectory(Path dir) throws IOException {
        List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                if (isPolicyFileName(entry.getFileName().toString()) && Files.isRegularFile(entry)) {
                    files.add(entry);
                }
            }
        }
        if (files.isEmpty()) {
            throw new IOException("no *.yaml or *.yml policy files in " + dir);
        }
        files.sort(Comparator.comparing(p -> p.getFileName().toString()));
        List<PolicySource> sources = new ArrayList<>(files.size());
        for (Path file : files) {
            sources.add(readFile(file, file.getFileName().toString()));
        }
        return sources;
    }

    private static PolicySource readFile(Path file, String name) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        try {
            String text = StandardCharsets.UTF_8
                    .newDecoder()
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
            return new PolicySource(name, text);
        } catch (CharacterCodingException e) {
            throw new IOException(name + " is not valid UTF-8", e);
        }
    }
}
