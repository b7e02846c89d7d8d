package io.meshguard.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.zip.GZIPInputStream;

/**
 * An OCI image layout archive as {@code jib:buildTar} writes it (index.json, oci-layout, blobs/sha256/…), unpacked
 * into a directory: the index, the one manifest, its config and its layers, read as a registry or a runtime would.
 */
record OciImage(Path dir, JsonNode index, JsonNode manifest, JsonNode config, List<Path> layers) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Unpacks {@code archive} into {@code dir} and follows index → manifest → config and layers. */
    static OciImage open(Path archive, Path dir) throws IOException {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(archive), 1 << 16)) {
            TarStream.read(in, (entry, content) -> {
                Path target = inside(dir, entry.path());
                if (entry.isDirectory()) {
                    Files.createDirectories(target);
                } else if (entry.isFile()) {
                    Files.createDirectories(target.getParent());
                    Files.copy(content, target, StandardCopyOption.REPLACE_EXISTING);
                }
            });
        }
        JsonNode index = JSON.readTree(dir.resolve("index.json").toFile());
        JsonNode manifest = JSON.readTree(
                blob(dir, index.path("manifests").path(0).path("digest").asText())
                        .toFile());
        JsonNode config = JSON.readTree(
                blob(dir, manifest.path("config").path("digest").asText()).toFile());
        List<Path> layers = new ArrayList<>();
        for (JsonNode layer : manifest.path("layers")) {
            layers.add(blob(dir, layer.path("digest").asText()));
        }
        return new OciImage(dir, index, manifest, config, List.copyOf(layers));
    }

    /** The blob a digest names; its content hashes to that digest or this throws. */
    static Path blob(Path dir, String digest) throws IOException {
        if (!digest.startsWith("sha256:")) {
            throw new IOException("not a sha256 digest: " + digest);
        }
        Path blob = dir.resolve("blobs/sha256").resolve(digest.substring("sha256:".length()));
        String actual = "sha256:" + sha256(blob);
        if (!actual.equals(digest)) {
            throw new IOException(blob + " hashes to " + actual + ", not " + digest);
        }
        return blob;
    }

    /** Every entry of every layer, in layer order (a later layer's entry for the same path wins at run time). */
    List<TarStream.Entry> entries() throws IOException {
        List<TarStream.Entry> all = new ArrayList<>();
        for (Path layer : layers) {
            readLayer(layer, (entry, content) -> all.add(entry));
        }
        return all;
    }

    /** Reads every layer's entries with their content (for files). */
    void visit(TarStream.Visitor visitor) throws IOException {
        for (Path layer : layers) {
            readLayer(layer, visitor);
        }
    }

    /** Lays the layers out in {@code root} as a container runtime would: files, modes, links. */
    void unpack(Path root) throws IOException {
        visit((entry, content) -> {
            Path target = inside(root, entry.path());
            if (entry.isDirectory()) {
                Files.createDirectories(target);
                Files.setPosixFilePermissions(target, permissions(entry.mode()));
            } else if (entry.isFile()) {
                Files.createDirectories(target.getParent());
                Files.copy(content, target, StandardCopyOption.REPLACE_EXISTING);
                Files.setPosixFilePermissions(target, permissions(entry.mode()));
            } else if (entry.type() == '2') {
                Files.createDirectories(target.getParent());
                Files.deleteIfExists(target);
                Files.createSymbolicLink(target, Path.of(entry.linkTarget()));
            }
        });
    }

    private static void readLayer(Path layer, TarStream.Visitor visitor) throws IOException {
        try (InputStream in =
                new GZIPInputStream(new BufferedInputStream(Files.newInputStream(layer), 1 << 16), 1 << 16)) {
            TarStream.read(in, visitor);
        }
    }

    private static Path inside(Path root, String entryPath) throws IOException {
        Path target = root.resolve(entryPath.replaceFirst("^/+", "")).normalize();
        if (!target.startsWith(root)) {
            throw new IOException("entry outside the archive root: " + entryPath);
        }
        return target;
    }

    private static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] bits = {
            PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_READ,
            PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE, PosixFilePermission.OWNER_READ
        };
        for (int i = 0; i < bits.length; i++) {
            if ((mode & (1 << i)) != 0) {
                set.add(bits[i]);
            }
        }
        // the unpacking user keeps write access to what it unpacked, so the temporary directory can be removed
        set.add(PosixFilePermission.OWNER_WRITE);
        return set;
    }

    private static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
