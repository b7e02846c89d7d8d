package io.meshguard.deploy.box;

import java.util.ArrayList;
import java.util.List;
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
        Shell.inNetns(nodeNetns, "ip", "link", "add", "veth" + host, "type", "veth", "peer", "name", "eth0",
                "netns", netns);
        Shell.inNetns(nodeNetns, "ip", "link", "set", "veth" + host, "master", "cbr0", "up");
        Shell.inNetns(netns, "ip", "link", "set", "lo", "up");
        Shell.inNetns(netns, "ip", "addr", "add", address + "/24", "dev", "eth0");
        Shell.inNetns(netns, "ip", "link", "set", "eth0", "up");
        Shell.inNetns(netns, "ip", "route", "add", "default", "via", nodeAddress());
        return netns;
    }

    @Override
    public synchronized void close() {
        for (String netns : podNetnses) {
            deleteQuietly(netns);
        }
        deleteQuietly(nodeNetns);
    }

    private static void deleteQuietly(String netns) {
        try {
            Shell.run("ip", "netns", "del", netns);
        } catch (IllegalStateException e) {
            // already gone
        }
    }
}
