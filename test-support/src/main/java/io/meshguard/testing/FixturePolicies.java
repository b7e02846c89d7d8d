package io.meshguard.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The policy files product tests run against: a copy of the policies as they shipped when the tests were written,
 * kept here (src/main/resources/io/meshguard/testing/policies) and not read from the working tree's {@code policies/},
 * so a bank that edits its {@code policies/} gets a green product build. The set includes its test cases
 * ({@code tests/}), so the policy test runners are tested on a realistic set. The shipped files are checked by their
 * own test cases, {@code meshguard policy check policies/} and {@code meshguard policy test policies/} (a step of
 * {@code .ci/run} after the build, as a bank runs it on its edited copy), and by nothing else.
 */
public final class FixturePolicies {
    /** The files of the fixture set: the policies and their test cases. */
    public static final List<String> FILES = List.of(
            "authz.yaml",
            "dlp.yaml",
            "access.yaml",
            "tests/authz-mesh.yaml",
            "tests/authz-quotas.yaml",
            "tests/authz-routes.yaml",
            "tests/dlp-cases.yaml");

    private static Path shared;

    private FixturePolicies() {}

    /**
     * A directory holding the fixture set, written once per JVM; tests read it and never write to it (a test that
     * edits policies copies them with {@link #copyTo(Path)}).
     */
    public static synchronized Path directory() {
        if (shared == null) {
            try {
                Path dir = Files.createTempDirectory("meshguard-fixture-policies");
                // Every test JVM writes one: without this, each build leaves a copy per fork in /tmp.
                Runtime.getRuntime()
                        .addShutdownHook(
                                new Thread(() -> TemporaryDirectories.deleteQuietly(dir), "fixture-policies-cleanup"));
                copyTo(dir);
                shared = dir.toAbsolutePath();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return shared;
    }

    /** One file of the fixture set ({@code authz.yaml}, {@code dlp.yaml}, {@code access.yaml}). */
    public static Path file(String name) {
        return directory().resolve(name);
    }

    /** Writes the fixture set into {@code dir} (created if missing); returns {@code dir}. */
    public static Path copyTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String name : FILES) {
            try (InputStream in = FixturePolicies.class.getResourceAsStream("policies/" + name)) {
                if (in == null) {
                    throw new IOException("fixture policy " + name + " missing from test-support");
                }
                Path file = dir.resolve(name);
                Files.createDirectories(file.getParent());
                Files.write(file, in.readAllBytes());
            }
        }
        return dir;
    }
}
