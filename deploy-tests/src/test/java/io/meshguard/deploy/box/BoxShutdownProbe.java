package io.meshguard.deploy.box;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A box in miniature for {@link BoxShutdownTest}, run in a JVM of its own as surefire runs a fork: a pod network with
 * three pods whose containers behave as real ones do at shutdown (one ends on SIGTERM, one ignores it, one's shell
 * ends and leaves its child running in the pod's namespace), closed by the same shutdown hook and code as the box's.
 * Prints each pod's process ids, then {@code ready}, then exits (normal JVM exit: the hook runs).
 */
public final class BoxShutdownProbe {
    private BoxShutdownProbe() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        PodNetwork network = new PodNetwork("mgprobe" + ProcessHandle.current().pid(), "10.254.7");
        List<List<String>> containers = List.of(
                List.of("sleep", "1000"),
                List.of("sh", "-c", "trap '' TERM; while :; do sleep 1; done"),
                List.of("sh", "-c", "sleep 1000 & wait"));
        List<PodProcess> pods = new ArrayList<>();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            long closing = System.nanoTime();
            List<String> killed = PodProcess.stopAll(pods, PodProcess.GRACE);
            network.close();
            ShutdownLog.record("shutdown probe", closing, pods.size(), killed);
        }));
        for (int i = 0; i < containers.size(); i++) {
            String ip = network.allocate();
            String netns = network.attach(ip);
            pods.add(PodProcess.start(new Launch(
                    "probe-" + i,
                    netns,
                    List.of(),
                    "127.0.0.1 localhost\n",
                    false,
                    Optional.empty(),
                    Map.of(),
                    containers.get(i),
                    dir.resolve("probe-" + i))));
        }
        // the shells' children exist once the shells ran; the probe reports them all
        Thread.sleep(500);
        for (String netns : network.namespaces()) {
            System.out.println("netns " + netns + " " + PodNetwork.pids(netns));
        }
        System.out.println("ready");
        System.out.flush();
        if (args.length > 1 && args[1].equals("wait")) {
            Thread.sleep(Long.MAX_VALUE);
        }
    }
}
