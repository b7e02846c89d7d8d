package io.meshguard.deploy.box;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the container runtime needs to start one pod's container: its network namespace, the file system it sees, its
 * environment, the user it runs as, and its argv.
 *
 * @param pod the pod's name, for reports
 * @param netns the pod's network namespace
 * @param mounts what is mounted where in the pod's own mount namespace
 * @param hosts the pod's {@code /etc/hosts} (cluster DNS names of Services and StatefulSet pods)
 * @param readOnlyRoot {@code securityContext.readOnlyRootFilesystem}
 * @param user {@code runAsUser:runAsGroup}, empty to run as root
 * @param argv the process, already expanded ({@code $(VAR)} references resolved)
 */
record Launch(
        String pod,
        String netns,
        List<Mount> mounts,
        String hosts,
        boolean readOnlyRoot,
        Optional<String> user,
        Map<String, String> env,
        List<String> argv,
        Path workDir) {

    /**
     * One mount: a directory or file prepared on the host bound at {@code target}, or a fresh tmpfs.
     *
     * @param source null for a tmpfs (emptyDir)
     */
    record Mount(Path source, String target, boolean readOnly) {
        static Mount tmpfs(String target) {
            return new Mount(null, target, false);
        }
    }
}
