package io.meshguard.emulator;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.route.v3.RouteAction;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Upstream selection: the weighted-cluster pick of a route (source/common/router/config_impl.cc,
 * WeightedClusterEntry: a random value modulo the total weight, walked through the clusters in order) with a seedable
 * random source, the hosts of a cluster (EDS: the load assignment's IPs; STRICT_DNS: the inline endpoints resolved
 * with the JDK resolver, every address a host, source/extensions/clusters/dns/dns_cluster.cc) and the load-balancing
 * pick (ROUND_ROBIN, the default, and RANDOM; source/common/upstream/load_balancer_impl.cc). gRPC channels for the
 * filter clusters (ext_authz, ext_proc, access log) are kept per address.
 */
final class Clusters implements AutoCloseable {
    private final SplittableRandom random;
    private final Map<String, AtomicLong> roundRobin = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, ManagedChannel> channels = new ConcurrentHashMap<>();

    Clusters(long seed) {
        this.random = new SplittableRandom(seed);
    }

    synchronized String pick(RouteAction action) {
        if (action.hasWeightedClusters()) {
            WeightedCluster wc = action.getWeightedClusters();
            long total = wc.getClustersList().stream()
                    .mapToLong(c -> c.getWeight().getValue())
                    .sum();
            long value = Math.floorMod(random.nextLong(), total);
            long begin = 0;
            for (WeightedCluster.ClusterWeight c : wc.getClustersList()) {
                long end = begin + c.getWeight().getValue();
                if (value >= begin && value < end) {
                    return c.getName();
                }
                begin = end;
            }
            throw new IllegalStateException("weighted cluster pick out of range");
        }
        return switch (action.getClusterSpecifierCase()) {
            case CLUSTER -> action.getCluster();
            default -> throw new UnmodelledException("cluster specifier " + action.getClusterSpecifierCase());
        };
    }

    /** The hosts of a cluster as Envoy would have them, in order. */
    static List<InetSocketAddress> hosts(XdsResources xds, String clusterName) throws UnknownHostException {
        Cluster c = xds.clusters().get(clusterName);
        if (c == null) {
            return List.of();
        }
        List<InetSocketAddress> hosts = new ArrayList<>();
        switch (c.getType()) {
            case EDS -> {
                String service = c.getEdsClusterConfig().getServiceName().isEmpty()
                        ? c.getName()
                        : c.getEdsClusterConfig().getServiceName();
                ClusterLoadAssignment cla = xds.endpoints().get(service);
                if (cla != null) {
                    for (SocketAddress sa : addresses(cla)) {
                        hosts.add(new InetSocketAddress(InetAddress.getByName(sa.getAddress()), sa.getPortValue()));
                    }
                }
            }
            case STRICT_DNS -> {
                for (SocketAddress sa : addresses(c.getLoadAssignment())) {
                    for (InetAddress a : resolve(sa.getAddress(), c.getDnsLookupFamily())) {
                        hosts.add(new InetSocketAddress(a, sa.getPortValue()));
                    }
                }
            }
            // one host: the first address of the answer (source/extensions/clusters/logical_dns/logical_dns_cluster.cc)
            case LOGICAL_DNS -> {
                SocketAddress sa = addresses(c.getLoadAssignment()).getFirst();
                List<InetAddress> answer = resolve(sa.getAddress(), c.getDnsLookupFamily());
                if (!answer.isEmpty()) {
                    hosts.add(new InetSocketAddress(answer.getFirst(), sa.getPortValue()));
                }
            }
            default -> throw new UnmodelledException("cluster type " + c.getType() + " on the request path");
        }
        return hosts;
    }

    /**
     * A DNS answer from the JDK resolver, filtered and ordered by {@code dns_lookup_family} (cluster.proto):
     * V4_ONLY/V6_ONLY keep one family, V4_PREFERRED/AUTO take that family's addresses when there are any, else the
     * other's, ALL keeps both.
     */
    static List<InetAddress> resolve(String name, Cluster.DnsLookupFamily family) throws UnknownHostException {
        List<InetAddress> all = List.of(InetAddress.getAllByName(name));
        List<InetAddress> v4 =
                all.stream().filter(a -> a instanceof java.net.Inet4Address).toList();
        List<InetAddress> v6 =
                all.stream().filter(a -> a instanceof java.net.Inet6Address).toList();
        return switch (family) {
            case V4_ONLY -> v4;
            case V6_ONLY -> v6;
            case V4_PREFERRED -> v4.isEmpty() ? v6 : v4;
            case AUTO -> v6.isEmpty() ? v4 : v6;
            case ALL -> all;
            default -> throw new UnmodelledException("dns_lookup_family " + family);
        };
    }

    InetSocketAddress host(XdsResources xds, String clusterName) throws UnknownHostException {
        List<InetSocketAddress> hosts = hosts(xds, clusterName);
        if (hosts.isEmpty()) {
            return null;
        }
        Cluster c = xds.clusters().get(clusterName);
        return switch (c.getLbPolicy()) {
            case ROUND_ROBIN ->
                hosts.get((int) Math.floorMod(
                        roundRobin
                                .computeIfAbsent(clusterName, k -> new AtomicLong())
                                .getAndIncrement(),
                        hosts.size()));
            case RANDOM -> {
                synchronized (this) {
                    yield hosts.get(random.nextInt(hosts.size()));
                }
            }
            default -> throw new UnmodelledException("lb_policy " + c.getLbPolicy());
        };
    }

    /** A gRPC channel to the cluster an {@code envoy_grpc} service names. */
    ManagedChannel grpc(XdsResources xds, String clusterName) throws UnknownHostException {
        InetSocketAddress address = host(xds, clusterName);
        if (address == null) {
            throw new UnknownHostException("cluster " + clusterName + " has no hosts");
        }
        return channels.computeIfAbsent(
                address, a -> ManagedChannelBuilder.forAddress(a.getAddress().getHostAddress(), a.getPort())
                        .usePlaintext()
                        .build());
    }

    private static List<SocketAddress> addresses(ClusterLoadAssignment cla) {
        List<SocketAddress> out = new ArrayList<>();
        for (LocalityLbEndpoints l : cla.getEndpointsList()) {
            for (LbEndpoint e : l.getLbEndpointsList()) {
                out.add(e.getEndpoint().getAddress().getSocketAddress());
            }
        }
        return out;
    }

    @Override
    public void close() {
        channels.values().forEach(ManagedChannel::shutdownNow);
    }
}
