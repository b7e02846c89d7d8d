package io.meshguard.deploy.box;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The release the box installs before it upgrades to the tree under test: the last line of {@code RELEASES}, as
 * docs/release.md builds it — the jar from a checkout of that commit ({@code ./mvnw -pl cli -am package}), the manifests
 * and the image's JVM flags as that commit has them. A tag may not travel with a clone; the commit recorded in
 * {@code RELEASES} does, since it is in the history. Built once and kept in a cache directory between runs (a fresh
 * machine builds it, about three minutes on 2 cores; a changed commit is another directory).
 *
 * @param version the release's version ({@code 1.0.0-rc.1})
 * @param commit the commit it was built from (40 hex)
 * @param source that commit's tree with the built jar in {@code cli/target/meshguard.jar}
 */
record PreviousRelease(String version, String commit, Path source) {
    /** Where the built releases stay between runs; readable by the pods' users (not under root's home). */
    static final Path DEFAULT_CACHE = Path.of("/var/tmp/meshguard-releases");

    Path jar() {
        return source.resolve("cli/target/meshguard.jar");
    }

    Path manifests() {
        return source.resolve("manifests/istio");
    }

    /** The newest release {@code RELEASES} records, if any. */
    static Optional<Recorded> recorded(Path repoRoot) throws IOException {
        Path file = repoRoot.resolve("RELEASES");
        Recorded last = null;
        for (String line : Files.readAllLines(file)) {
            String text = line.strip();
            if (text.isEmpty() || text.startsWith("#")) {
                continue;
            }
            String[] fields = text.split("\\s+");
            if (fields.length != 3 || !fields[1].matches("[0-9a-f]{40}") || !fields[2].matches("sha256:[0-9a-f]{64}")) {
                throw new IllegalStateException("RELEASES: '" + text + "' is not VERSION COMMIT sha256:DIGEST");
            }
            last = new Recorded(fields[0], fields[1], fields[2]);
        }
        return Optional.ofNullable(last);
    }

    /** One line of {@code RELEASES}. */
    record Recorded(String version, String commit, String imageDigest) {}

    /**
     * The recorded release, built from its commit unless the cache holds it already.
     *
     * @throws IllegalStateException when the commit is not in this clone's history or its build fails
     */
    static PreviousRelease prepare(Path repoRoot, Recorded release, Path cache)
            throws IOException, InterruptedException {
        Path built = cache.resolve(release.version() + "-" + release.commit());
        PreviousRelease previous = new PreviousRelease(release.version(), release.commit(), built);
        if (Files.isRegularFile(built.resolve(READY))) {
            return previous;
        }
        Files.createDirectories(cache);
        Path work = Files.createTempDirectory(cache, "building-");
        try {
            Path log = work.resolve("build.log");
            // a checkout, not an archive: the build records the commit it was built from (meshguard -V, build_info)
            String src = work.resolve("src").toString();
            int checkedOut = run(
                    repoRoot,
                    log,
                    List.of(
                            "sh",
                            "-c",
                            "git clone -q --shared --no-checkout . " + src + " && git -C " + src
                                    + " checkout -q --detach " + release.commit()),
                    null);
            if (checkedOut != 0) {
                throw new IllegalStateException("RELEASES names commit " + release.commit() + " for "
                        + release.version() + ", which this clone's history does not hold (a shallow clone?): "
                        + Files.readString(log));
            }
            List<String> mvn = new ArrayList<>(List.of(
                    "./mvnw",
                    "-B",
                    "-ntp",
                    "-q",
                    "-pl",
                    "cli",
                    "-am",
                    "package",
                    "-DskipTests",
                    "-Dspotless.check.skip=true",
                    "-Djacoco.skip=true"));
            long started = System.nanoTime();
            // offline first: the build running this test resolved what the release needs unless its dependencies
            // differ, and then Maven Central has them
            List<String> offline = new ArrayList<>(mvn);
            offline.add(1, "-o");
            if (run(work.resolve("src"), log, offline, null) != 0 && run(work.resolve("src"), log, mvn, null) != 0) {
                throw new IllegalStateException("building release " + release.version() + " from " + release.commit()
                        + " failed:\n" + tail(log));
            }
            System.out.printf(
                    "built release %s from %s in %d s%n",
                    release.version(), release.commit(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));
            // the clone borrows this repository's objects, which may go with this clone: the cache keeps the files
            Shell.run("rm", "-rf", work.resolve("src/.git").toString());
            Files.writeString(work.resolve("src").resolve(READY), release.commit() + "\n");
            Files.move(work.resolve("src"), built, StandardCopyOption.ATOMIC_MOVE);
            return previous;
        } finally {
            Shell.run("rm", "-rf", "--one-file-system", work.toString());
        }
    }

    private static final String READY = ".meshguard-release-built";

    private static int run(Path dir, Path log, List<String> command, Path create)
            throws IOException, InterruptedException {
        if (create != null) {
            Files.createDirectories(create);
        }
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        // the JDK this test runs on builds the release too (the image's runtime is the build's JDK)
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        if (!p.waitFor(15, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }

    private static String tail(Path log) throws IOException {
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    }
}
