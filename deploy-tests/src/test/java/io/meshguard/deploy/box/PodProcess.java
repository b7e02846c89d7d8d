package io.meshguard.deploy.box;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One pod's container as a process: {@code ip netns exec} puts it in the pod's network namespace, {@code unshare
 * --mount} gives it a mount namespace of its own, where a small script mounts the pod's volumes at the manifest's
 * mount paths, binds the pod's {@code /etc/hosts}, makes the root read-only when the manifest says so, and then execs
 * the container's process as the manifest's user. A mount path whose parent the host lacks is created inside an
 * overlay of its nearest existing ancestor, so the host's file system is never written.
 */
final class PodProcess implements AutoCloseable {
    private final Launch launch;
    private final Process process;
    private final Path log;

    private PodProcess(Launch launch, Process process, Path log) {
        this.launch = launch;
        this.process = process;
        this.log = log;
    }

    static PodProcess start(Launch launch) {
        try {
            Path dir = launch.workDir();
            Files.createDirectories(dir);
            Path script = dir.resolve("pod-init.sh");
            Files.writeString(script, script(launch), StandardCharsets.UTF_8);
            Path hosts = dir.resolve("hosts");
            Files.writeString(hosts, launch.hosts(), StandardCharsets.UTF_8);
            Path log = dir.resolve("container.log");
            List<String> command = new ArrayList<>(List.of(
                    "ip",
                    "netns",
                    "exec",
                    launch.netns(),
                    "unshare",
                    "--mount",
                    "--propagation",
                    "private",
                    "/bin/sh",
                    script.toString()));
            command.addAll(launch.argv());
            ProcessBuilder builder = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            builder.environment().clear();
            builder.environment().put("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            builder.environment().put("HOSTNAME", launch.pod());
            builder.environment().putAll(launch.env());
            return new PodProcess(launch, builder.start(), log);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start pod " + launch.pod(), e);
        }
    }

    /** The mount script: every mount, then {@code exec} of the container's argv (passed as "$@"). */
    static String script(Launch launch) {
        StringBuilder s = new StringBuilder("#!/bin/sh\nset -e\n");
        Path staging = launch.workDir().resolve("rootfs");
        s.append("mkdir -p ").append(q(staging.toString())).append('\n');
        s.append("mount -t tmpfs box-staging ").append(q(staging.toString())).append('\n');
        // mount points missing on the host: an overlay over their nearest existing ancestor, then mkdir inside it
        Set<Path> overlaid = new LinkedHashSet<>();
        List<String> targets = new ArrayList<>(
                launch.mounts().stream().map(Launch.Mount::target).toList());
        targets.add("/etc/hosts");
        int n = 0;
        for (String target : targets) {
            Path path = Path.of(target);
            if (Files.exists(path)) {
                continue;
            }
            Path ancestor = existingAncestor(path);
            if (overlaid.stream().noneMatch(ancestor::startsWith)) {
                overlaid.add(ancestor);
                String upper = staging.resolve("upper" + n).toString();
                String work = staging.resolve("work" + n).toString();
                n++;
                s.append("mkdir -p ")
                        .append(q(upper))
                        .append(' ')
                        .append(q(work))
                        .append('\n');
                s.append("mount -t overlay box-overlay -o lowerdir=")
                        .append(ancestor)
                        .append(",upperdir=")
                        .append(upper)
                        .append(",workdir=")
                        .append(work)
                        .append(' ')
                        .append(q(ancestor.toString()))
                        .append('\n');
            }
        }
        for (Launch.Mount m : launch.mounts()) {
            if (m.source() != null && Files.isRegularFile(m.source())) {
                s.append("[ -e ")
                        .append(q(m.target()))
                        .append(" ] || { mkdir -p \"$(dirname ")
                        .append(q(m.target()))
                        .append(")\"; : > ")
                        .append(q(m.target()))
                        .append("; }\n");
            } else {
                s.append("mkdir -p ").append(q(m.target())).append('\n');
            }
        }
        s.append("mount --bind ")
                .append(q(launch.workDir().resolve("hosts").toString()))
                .append(" /etc/hosts\n");
        // parents before children, as container runtimes order mounts (containerd sorts by destination depth)
        List<Launch.Mount> ordered = launch.mounts().stream()
                .sorted(java.util.Comparator.comparingInt(
                        m -> Path.of(m.target()).getNameCount()))
                .toList();
        for (Launch.Mount m : ordered) {
            if (m.source() == null) {
                s.append("mount -t tmpfs -o mode=1777 box-emptydir ")
                        .append(q(m.target()))
                        .append('\n');
            } else {
                s.append("mount --bind ")
                        .append(q(m.source().toString()))
                        .append(' ')
                        .append(q(m.target()))
                        .append('\n');
                if (m.readOnly()) {
                    s.append("mount -o remount,bind,ro ").append(q(m.target())).append('\n');
                }
            }
        }
        if (launch.readOnlyRoot()) {
            // last, so the volumes above keep their own modes; the mount namespace is private, the host's root stays rw
            s.append("mount -o remount,bind,ro /\n");
            for (Path o : overlaid) {
                s.append("mount -o remount,bind,ro ").append(q(o.toString())).append('\n');
            }
        }
        if (launch.user().isPresent()) {
            String[] ids = launch.user().get().split(":");
            s.append("exec setpriv --reuid=")
                    .append(ids[0])
                    .append(" --regid=")
                    .append(ids[1])
                    .append(" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs -- \"$@\"\n");
        } else {
            s.append("exec \"$@\"\n");
        }
        return s.toString();
    }

    private static Path existingAncestor(Path path) {
        Path p = path.getParent();
        while (p != null && !Files.isDirectory(p)) {
            p = p.getParent();
        }
        try {
            return p == null ? Path.of("/") : p.toRealPath();
        } catch (IOException e) {
            return p;
        }
    }

    private static String q(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    Launch launch() {
        return launch;
    }

    /**
     * The container's JVM: the process itself ({@code ip netns exec}, {@code unshare}, the mount script and
     * {@code setpriv} each exec the next), else the first {@code java} it started.
     */
    long jvmPid() {
        java.util.function.Predicate<ProcessHandle> java =
                h -> h.info().command().map(c -> c.endsWith("/java")).orElse(false);
        if (java.test(process.toHandle())) {
            return process.pid();
        }
        return process.descendants()
                .filter(java)
                .findFirst()
                .map(ProcessHandle::pid)
                .orElseThrow(() -> new IllegalStateException("no JVM in " + launch.pod()));
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** The exit code once the process ended. */
    Optional<Integer> exitCode() {
        return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
    }

    /** Waits for the process to end (a Job's pod); its exit code, or empty after {@code seconds}. */
    Optional<Integer> await(long seconds) throws InterruptedException {
        return process.waitFor(seconds, TimeUnit.SECONDS) ? Optional.of(process.exitValue()) : Optional.empty();
    }

    Path log() {
        return log;
    }

    /** The container log's last {@code n} lines, for failure reports. */
    String lastLines(int n) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /**
     * The grace between SIGTERM and SIGKILL ({@code -Dmeshguard.box.terminationGraceSeconds}, default 10): the
     * kubelet's {@code terminationGracePeriodSeconds} (30 s by default) would outlast surefire's fork exit timeout
     * (30 s), which kills the fork and leaves the box's namespaces behind.
     */
    static final Duration GRACE = Duration.ofSeconds(Long.getLong("meshguard.box.terminationGraceSeconds", 10));

    /** SIGTERM, as the kubelet stops a container, then SIGKILL after the grace period. */
    @Override
    public void close() {
        stopAll(List.of(this), GRACE);
    }

    /**
     * Stops every process at once as the kubelet stops a pod's containers: SIGTERM to each, one shared deadline of
     * {@code grace}, then SIGKILL to what is left and to everything it started (a PostgreSQL postmaster's backends,
     * which a smart shutdown would wait on). Returns the pods that had to be killed.
     */
    static List<String> stopAll(Collection<PodProcess> processes, Duration grace) {
        List<PodProcess> all = List.copyOf(processes);
        all.forEach(p -> p.process.destroy());
        long deadline = System.nanoTime() + grace.toNanos();
        List<String> killed = new ArrayList<>();
        boolean interrupted = false;
        for (PodProcess p : all) {
            try {
                long left = deadline - System.nanoTime();
                if (!interrupted && left > 0 && p.process.waitFor(left, TimeUnit.NANOSECONDS)) {
                    continue;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
            if (p.process.isAlive()) {
                killed.add(p.launch.pod());
                p.process.descendants().forEach(ProcessHandle::destroyForcibly);
                p.process.destroyForcibly();
            }
        }
        long reaped = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        for (PodProcess p : all) {
            try {
                long left = reaped - System.nanoTime();
                if (interrupted || left <= 0 || !p.process.waitFor(left, TimeUnit.NANOSECONDS)) {
                    break;
                }
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return killed;
    }
}
