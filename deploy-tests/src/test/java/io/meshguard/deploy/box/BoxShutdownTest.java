package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The box's shutdown in a JVM of its own ({@link BoxShutdownProbe}), as surefire's fork ends: it must end within
 * surefire's fork exit timeout (30 s; after it surefire kills the fork mid-shutdown) and leave no network namespace
 * and no process of its pods behind, a container that ignores SIGTERM and an orphan in a pod's namespace included. A
 * run killed before its shutdown leaves its namespaces; the next box's start-up sweep removes them, and only them.
 */
@Tag("cluster")
class BoxShutdownTest {
    private static final Duration SUREFIRE_FORK_EXIT_TIMEOUT = Duration.ofSeconds(30);
    private static final Pattern NETNS_LINE = Pattern.compile("netns (\\S+) \\[([0-9, ]*)\\]");

    @TempDir
    Path dir;

    @Test
    void shutdown_endsWithinSurefiresForkTimeout_andLeavesNoNamespaceOrProcess() throws Exception {
        Probe probe = Probe.start(dir, false);
        long exiting = System.nanoTime();
        assertThat(probe.process.waitFor(SUREFIRE_FORK_EXIT_TIMEOUT.toSeconds(), TimeUnit.SECONDS))
                .as("the probe's shutdown ended within surefire's fork exit timeout")
                .isTrue();
        Duration took = Duration.ofNanos(System.nanoTime() - exiting);
        assertThat(took)
                .as("a grace of %s, then SIGKILL", PodProcess.GRACE)
                .isLessThan(PodProcess.GRACE.plusSeconds(10));
        assertThat(PodNetwork.boxNamespaces())
                .as("namespaces left by pid %d", probe.pid())
                .noneMatch(n -> n.startsWith("mgprobe" + probe.pid() + "-"));
        // a killed orphan is reparented to init, which reaps it a moment later
        assertThat(probe.pids).as("the pods' processes").allSatisfy(pid -> assertThat(waitGone(pid))
                .as("pid %d gone", pid)
                .isTrue());
        assertThat(Files.readString(ShutdownLog.FILE)).contains("shutdown probe (pid " + probe.pid() + ")");
    }

    @Test
    void startupSweep_removesTheNamespacesOfAKilledRun_andKeepsALiveRunsOwn() throws Exception {
        Probe probe = Probe.start(dir, true);
        probe.process.destroyForcibly();
        assertThat(probe.process.waitFor(10, TimeUnit.SECONDS)).isTrue();
        // what surefire's kill of a fork leaves: the namespaces and the processes in them
        assertThat(PodNetwork.boxNamespaces()).containsAll(probe.netnses);
        // this JVM's own probe network stands for a box still running (not this JVM's box: its names are mgbox<pid>)
        PodNetwork live = new PodNetwork("mgprobe" + ProcessHandle.current().pid(), "10.254.8");
        try {
            String liveNetns = live.attach(live.allocate());
            List<String> swept = PodNetwork.sweepLeftovers();
            assertThat(swept).containsAll(probe.netnses).doesNotContain(liveNetns, live.nodeNetns());
            assertThat(PodNetwork.boxNamespaces())
                    .doesNotContainAnyElementsOf(probe.netnses)
                    .contains(liveNetns, live.nodeNetns());
            assertThat(probe.pids).as("the killed run's pod processes").allSatisfy(pid -> assertThat(waitGone(pid))
                    .as("pid %d gone", pid)
                    .isTrue());
        } finally {
            live.close();
        }
        assertThat(PodNetwork.boxNamespaces())
                .noneMatch(n -> n.startsWith("mgprobe" + ProcessHandle.current().pid() + "-"));
    }

    private static boolean waitGone(long pid) throws InterruptedException {
        for (int i = 0; i < 50; i++) {
            if (ProcessHandle.of(pid).filter(ProcessHandle::isAlive).isEmpty()) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** The probe JVM once it printed {@code ready}: its namespaces and the pods' process ids. */
    private record Probe(Process process, List<String> netnses, List<Long> pids) {
        long pid() {
            return process.pid();
        }

        static Probe start(Path dir, boolean wait) throws Exception {
            List<String> argv = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Dmeshguard.box.terminationGraceSeconds=3",
                    "-cp",
                    System.getProperty("java.class.path"),
                    BoxShutdownProbe.class.getName(),
                    dir.toString()));
            if (wait) {
                argv.add("wait");
            }
            Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            List<String> netnses = new ArrayList<>();
            List<Long> pids = new ArrayList<>();
            StringBuilder seen = new StringBuilder();
            for (String line = out.readLine(); line != null && !line.equals("ready"); line = out.readLine()) {
                seen.append(line).append('\n');
                Matcher m = NETNS_LINE.matcher(line);
                if (m.matches()) {
                    netnses.add(m.group(1));
                    for (String pid : m.group(2).split(",\\s*")) {
                        if (!pid.isBlank()) {
                            pids.add(Long.parseLong(pid.strip()));
                        }
                    }
                }
            }
            assertThat(netnses).as("the probe's output:\n%s", seen).hasSize(4);
            // three containers and the orphan-to-be: the sleeping shell's child
            assertThat(pids).as("the probe's output:\n%s", seen).hasSizeGreaterThanOrEqualTo(4);
            // drain the rest, so the probe never blocks on a full pipe while it shuts down
            Thread.ofVirtual().start(() -> out.lines().forEach(l -> {}));
            return new Probe(p, netnses, pids);
        }
    }
}
