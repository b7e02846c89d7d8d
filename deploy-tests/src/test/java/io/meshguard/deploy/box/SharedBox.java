package io.meshguard.deploy.box;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * One cluster in a box per test JVM, shared by every journey class ({@code *JourneyTest}, {@link ClusterInABoxTest}):
 * installing it takes minutes, and a bank's journeys run one after another on one cluster too. Journeys that change
 * shared state (stop a pod, publish) put it back before they return. The box is closed when the JVM exits.
 */
final class SharedBox {
    private static ClusterInABox box;
    private static Path dir;

    private SharedBox() {
    }

    /** The installed box; the first caller installs it (a failed install fails every journey with its cause). */
    static synchronized ClusterInABox get() throws Exception {
        if (box == null) {
            // short: PostgreSQL's and the node agent's Unix socket paths must stay under 108 bytes; not under /tmp,
            // which the pods mount as an emptyDir over the volume sources and class path entries the box keeps here
            dir = Files.createTempDirectory(Path.of("/var/tmp"), "mgbox");
            Runtime.getRuntime().addShutdownHook(new Thread(SharedBox::removeDir, "cluster-in-a-box-dir"));
            box = ClusterInABox.install(dir);
            System.out.println("cluster in a box, " + dir + ":\n  " + String.join("\n  ", box.timeline()));
        }
        return box;
    }

    private static synchronized void removeDir() {
        if (box != null) {
            box.close();
        }
        if (dir != null && !Boolean.getBoolean("meshguard.box.keep")) {
            Shell.run("rm", "-rf", "--one-file-system", dir.toString());
        }
    }
}
