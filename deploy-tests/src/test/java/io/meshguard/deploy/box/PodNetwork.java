package io.meshguard.deploy.box;

import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PodTemplateSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The box's pod network: one node network namespace holding a Linux bridge with the node's address, and one network
 * namespace per pod joined to the bridge by a veth pair, with an address from the pod range and a default route via
 * the node. Nothing here touches the host's own interfaces or routes: the bridge lives inside the node namespace.
 * A second cluster (a zone) gets a {@code PodNetwork} of its own, with its own range, on its own node.
 */
final class PodNetwork implements AutoCloseable {
    private final String prefix;
    private final String range;
    private final String nodeNetns;
    private final AtomicInteger nextHost = new AtomicInteger(10);
    private final List<String> podNetnses = new ArrayList<>();

    /**
     * @param prefix unique per run, prefixes every namespace name
     * @param range the first three octets of the /24 pod range, e.g. {@code 10.244.0}
     */
    PodNetwork(String prefix, String range) {
        this.prefix = prefix;
        this.range = range;
        this.nodeNetns = prefix + "-node";
        Shell.run("ip", "netns", "add", nodeNetns);
        Shell.inNetns(nodeNetns, "ip", "link", "set", "lo", "up");
        Shell.inNetns(nodeNetns, "ip", "link", "add", "cbr0", "type", "bridge");
        Shell.inNetns(nodeNetns, "ip", "addr", "add", nodeAddress() + "/24", "dev", "cbr0");
        Shell.inNetns(nodeNetns, "ip", "link", "set", "cbr0", "up");
    }

    String nodeNetns() {
        return nodeNetns;
    }

    /** A pod without annotations, given the next address of the range and its own namespace (no subdomain). */
    BoxPod pod(String name, String namespace, Map<String, String> labels, PodSpec spec, String owner) {
        String ip = allocate();
        return new BoxPod(name, namespace, labels, Map.of(), ip, attach(ip), spec, owner, Optional.empty());
    }

    /** A pod of {@code template} owned by {@code owner}, given the next address of the range and its own namespace. */
    BoxPod pod(ObjectMeta owner, PodTemplateSpec template, String ownerName, String name, Optional<String> subdomain) {
        String ip = allocate();
        String ns = Optional.ofNullable(owner.getNamespace()).orElse("default");
        return BoxPod.of(name, ns, template, ip, attach(ip), ownerName, subdomain);
    }

    /**
     * Starts the {@link NodeAgent} in the node's namespace, serving {@code socket}, and returns its process once the
     * socket is there; {@code who} names the agent in the error when it dies or stays silent for 30 seconds.
     */
    Process startNodeAgent(Path socket, Path log, String who) throws IOException, InterruptedException {
        Process agent = new ProcessBuilder(
                        "ip",
                        "netns",
                        "exec",
                        nodeNetns,
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx64m",
                        "-cp",
                        Path.of(NodeAgent.class
                                        .getProtectionDomain()
                                        .getCodeSource()
                                        .getLocation()
                                        .getPath())
                                .toString(),
                        NodeAgent.class.getName(),
                        socket.toString())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.exists(socket)) {
            if (!agent.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException(who + " did not start: " + Files.readString(log));
            }
            Thread.sleep(50);
        }
        return agent;
    }

    /** The node's address on the bridge: where the kubelet's probes and port-forwards come from. */
    String nodeAddress() {
        return range + ".1";
    }

    String cidr() {
        return range + ".0/24";
    }

    /** The next free pod address. */
    String allocate() {
        int host = nextHost.getAndIncrement();
        if (host > 250) {
            throw new IllegalStateException("pod range " + cidr() + " is full");
        }
        return range + "." + host;
    }

    /** Creates the pod's network namespace with {@code address} on its eth0; returns the namespace's name. */
    synchronized String attach(String address) {
        String host = address.substring(address.lastIndexOf('.') + 1);
        String netns = prefix + "-p" + host;
        Shell.run("ip", "netns", "add", netns);
        podNetnses.add(netns);
        Shell.inNetns(
                nodeNetns, "ip", "link", "add", "veth" + host, "type", "veth", "peer", "name", "eth0", "netns", netns);
        Shell.inNetns(nodeNetns, "ip", "link", "set", "veth" + host, "master", "cbr0", "up");
        Shell.inNetns(netns, "ip", "link", "set", "lo", "up");
        Shell.inNetns(netns, "ip", "addr", "add", address + "/24", "dev", "eth0");
        Shell.inNetns(netns, "ip", "link", "set", "eth0", "up");
        Shell.inNetns(netns, "ip", "route", "add", "default", "via", nodeAddress());
        return netns;
    }

    /** The namespaces this network made, its node's last. */
    synchronized List<String> namespaces() {
        List<String> all = new ArrayList<>(podNetnses);
        all.add(nodeNetns);
        return all;
    }

    @Override
    public synchronized void close() {
        delete(namespaces());
    }

    /**
     * Deletes network namespaces (their veths, addresses and nftables tables go with them), after SIGKILL to whatever
     * still runs in them: a process left in a namespace keeps it alive after {@code ip netns del} removed its name.
     */
    static void delete(List<String> netnses) {
        if (netnses.isEmpty()) {
            return;
        }
        for (String netns : netnses) {
            for (long pid : pids(netns)) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        // one ip process for all of them; -force goes on past a namespace that is already gone
        StringBuilder batch = new StringBuilder();
        netnses.forEach(n -> batch.append("netns del ").append(n).append('\n'));
        try {
            Shell.run(List.of("ip", "-force", "-batch", "-"), batch.toString());
        } catch (IllegalStateException e) {
            // some were already gone: what is left is checked by the callers' tests (NamespaceLeftoversTest)
        }
    }

    /** The processes in a network namespace ({@code ip netns pids}); none when it is gone. */
    static List<Long> pids(String netns) {
        try {
            return Shell.run("ip", "netns", "pids", netns)
                    .lines()
                    .map(String::strip)
                    .filter(l -> !l.isEmpty())
                    .map(Long::parseLong)
                    .toList();
        } catch (IllegalStateException e) {
            return List.of();
        }
    }

    /** The box's network namespaces on this machine now ({@code ip netns list}), by name. */
    static List<String> boxNamespaces() {
        return Shell.run("ip", "netns", "list")
                .lines()
                .map(l -> l.split("\\s+")[0])
                .filter(n -> BOX_NETNS.matcher(n).matches())
                .toList();
    }

    /**
     * The box names its namespaces {@code mgbox<pid>-…} (central), {@code mgz<pid>-…} (a zone) and {@code
     * mgprobe<pid>-…} ({@link BoxShutdownProbe}) after the test JVM that made them; nothing else on the machine is
     * touched.
     */
    static final java.util.regex.Pattern BOX_NETNS =
            java.util.regex.Pattern.compile("(mgbox|mgz|mgprobe)(\\d+)-(node|p\\d+)");

    /**
     * Removes what an earlier run left behind when it was killed before its shutdown ended (surefire's fork timeout,
     * SIGKILL, a crash): the box's namespaces whose JVM no longer runs, with their processes. Namespaces of a JVM that
     * still runs (another box on this machine) stay. Returns the namespaces removed.
     */
    static List<String> sweepLeftovers() {
        List<String> orphaned = boxNamespaces().stream()
                .filter(n -> {
                    java.util.regex.Matcher m = BOX_NETNS.matcher(n);
                    return m.matches()
                            && ProcessHandle.of(Long.parseLong(m.group(2)))
                                    .filter(ProcessHandle::isAlive)
                                    .isEmpty();
                })
                .toList();
        delete(orphaned);
        return orphaned;
    }

    /**
     * Takes a node down as the kubelet and the cluster's deletion would: every pod of {@code processes} at once with
     * one grace for all (one by one, the servers' graceful drains added up past surefire's 30 s exit limit and the
     * fork was killed mid-close, leaving pods, sidecars and namespaces behind), then the node's port-forwards and agent
     * (either may be absent: the box failed before it started them), then {@code network}; the time goes to the
     * shutdown log as {@code what}.
     */
    static void tearDown(
            String what,
            java.util.Map<String, PodProcess> processes,
            NodePorts node,
            Process agent,
            PodNetwork network) {
        long closing = System.nanoTime();
        java.util.List<String> killed = PodProcess.stopAll(processes.values(), PodProcess.GRACE);
        if (node != null) {
            node.close();
        }
        if (agent != null) {
            agent.destroy();
        }
        network.close();
        ShutdownLog.record(what, closing, processes.size(), killed);
    }
}
