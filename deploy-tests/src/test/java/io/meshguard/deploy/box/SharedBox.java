package io.meshguard.deploy.box;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * One cluster in a box per test JVM, shared by every journey class ({@code *JourneyTest}, {@link ClusterInABoxTest}):
 * installing it takes minutes, and a bank's journeys run one after another on one cluster too. Journeys that change
 * shared state (stop a pod, publish) put it back before they return. The box is closed when the JVM exits.
 */
final class SharedBox {
    private static ClusterInABox box;
    private static Path dir;

    private SharedBox() {}

    /** The installed box; the first caller installs it (a failed install fails every journey with its cause). */
    static synchronized ClusterInABox get() throws Exception {
        if (failed != null) {
            throw new IllegalStateException("the cluster in a box did not install or upgrade", failed);
        }
        if (box == null) {
            try {
                install();
            } catch (Exception | Error e) {
                failed = e;
                throw e;
            }
        }
        return box;
    }

    /** Why the first {@link #get} failed: every later journey fails with it instead of installing again. */
    private static Throwable failed;

    private static void install() throws Exception {
        sweepDirsOfKilledRuns();
        BoxLogs.clear();
        // short: PostgreSQL's and the node agent's Unix socket paths must stay under 108 bytes; not under /tmp,
        // which the pods mount as an emptyDir over the volume sources and class path entries the box keeps here
        dir = Files.createTempDirectory(Path.of("/var/tmp"), "mgbox");
        Files.writeString(
                dir.resolve(OWNER), Long.toString(ProcessHandle.current().pid()));
        Runtime.getRuntime().addShutdownHook(new Thread(SharedBox::removeDir, "cluster-in-a-box-dir"));
        Path tree = io.meshguard.deploy.RenderedManifests.repoRoot();
        // docs/release.md: the box installs the release RELEASES records last and upgrades it to the tree
        Optional<PreviousRelease> from = Optional.empty();
        if (Boolean.parseBoolean(System.getProperty("meshguard.box.upgrade", "true"))) {
            Optional<PreviousRelease.Recorded> recorded = PreviousRelease.recorded(tree);
            if (recorded.isPresent()) {
                from = Optional.of(PreviousRelease.prepare(tree, recorded.get(), RELEASE_CACHE));
            }
        }
        box = ClusterInABox.install(dir, from.map(PreviousRelease::source).orElse(tree));
        // a zone's cluster beside central, on the same release (zone README "Per cluster"), so the upgrade takes it too
        if (box.failures().isEmpty()) {
            try {
                zone = Optional.of(ZoneCluster.registerAndInstall(box));
            } catch (Exception | Error e) {
                zoneFailed = e;
            }
        }
        if (from.isPresent() && box.failures().isEmpty()) {
            upgrade = Optional.of(ReleaseUpgrade.run(box, from.get(), tree, zone));
        }
        System.out.println("cluster in a box, " + dir + ":\n  " + String.join("\n  ", box.timeline()));
    }

    /**
     * The zone's cluster, registered and installed beside central at install (on the previous release when the box
     * upgrades, then upgraded after central); its failure, when it did not install, fails only the zone's journeys.
     */
    static synchronized ZoneCluster zone() throws Exception {
        get();
        if (zoneFailed != null) {
            throw new IllegalStateException("the zone's cluster did not install", zoneFailed);
        }
        return zone.orElseThrow(() -> new IllegalStateException("central did not install: no zone cluster"));
    }

    private static Optional<ZoneCluster> zone = Optional.empty();
    private static Throwable zoneFailed;

    /** The upgrade from the previous release the box made at install, when RELEASES records one. */
    static synchronized Optional<ReleaseUpgrade> upgrade() throws Exception {
        get();
        return upgrade;
    }

    private static Optional<ReleaseUpgrade> upgrade = Optional.empty();

    private static final Path RELEASE_CACHE =
            Path.of(System.getProperty("meshguard.box.releaseCache", PreviousRelease.DEFAULT_CACHE.toString()));

    private static synchronized void removeDir() {
        zone.ifPresent(ZoneCluster::close);
        if (box != null) {
            box.close();
        }
        if (dir != null) {
            // nothing printed: surefire's channel to a forked JVM is closed while its shutdown hooks run
            try {
                BoxLogs.keep(dir);
            } catch (java.io.IOException | RuntimeException e) {
                // the run's result stands; only its logs are missing
            }
        }
        if (dir != null && !Boolean.getBoolean("meshguard.box.keep")) {
            Shell.run("rm", "-rf", "--one-file-system", dir.toString());
        } else if (dir != null) {
            // kept on purpose: no later run's sweep may take it
            Shell.run("rm", "-f", dir.resolve(OWNER).toString());
        }
    }

    /** The box directory's owner: the test JVM's pid while it runs (a kept directory has none). */
    private static final String OWNER = "box-jvm.pid";

    /**
     * The directories of earlier runs killed before their shutdown hook removed them (each pod's work directory and
     * volumes): only those whose owner file names a JVM that no longer runs.
     */
    private static void sweepDirsOfKilledRuns() throws java.io.IOException {
        // their pods first: processes of a killed run still run in its namespaces and work in its directory
        java.util.List<String> swept = PodNetwork.sweepLeftovers();
        if (!swept.isEmpty()) {
            System.out.println("removed the namespaces an earlier, killed run left: " + swept);
        }
        try (var dirs = Files.newDirectoryStream(Path.of("/var/tmp"), "mgbox*")) {
            for (Path d : dirs) {
                Path owner = d.resolve(OWNER);
                if (!Files.isRegularFile(owner)) {
                    continue;
                }
                String pid = Files.readString(owner).strip();
                if (pid.matches("[0-9]+")
                        && ProcessHandle.of(Long.parseLong(pid))
                                .filter(ProcessHandle::isAlive)
                                .isEmpty()) {
                    Shell.run("rm", "-rf", "--one-file-system", d.toString());
                    System.out.println("removed the directory an earlier, killed run left: " + d);
                }
            }
        }
    }
}
