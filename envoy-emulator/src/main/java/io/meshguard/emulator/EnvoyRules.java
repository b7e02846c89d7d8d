package io.meshguard.emulator;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LbEndpoint;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.config.listener.v3.Filter;
import io.envoyproxy.envoy.config.listener.v3.FilterChain;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.config.route.v3.Route;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.config.route.v3.WeightedCluster;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The checks Envoy makes when it receives a resource, which turn a response into a NACK. Each names the Envoy source
 * file (envoyproxy/envoy) that makes it. Only rules whose behaviour we know from source are here.
 */
final class EnvoyRules {
    static final String ROUTER = "envoy.filters.http.router";

    private EnvoyRules() {}

    /** CDS: problems of the clusters of one response (each one NACKs the whole response). */
    static List<String> clusters(Map<String, Cluster> clusters) {
        List<String> problems = new ArrayList<>();
        for (Cluster c : clusters.values()) {
            switch (c.getType()) {
                // ClusterImplBase::resolveProtoAddress refuses names for STATIC (and EDS, below): "malformed IP
                // address ... Consider setting resolver_name or setting cluster type to 'STRICT_DNS' or
                // 'LOGICAL_DNS'" (source/common/upstream/upstream_impl.cc)
                case STATIC -> ipOnly("cluster " + c.getName(), c.getLoadAssignment(), problems);
                case STRICT_DNS, LOGICAL_DNS -> {
                    // (source/extensions/clusters/dns/dns_cluster.cc) a DNS cluster needs its hosts inline
                    if (c.getLoadAssignment().getEndpointsCount() == 0) {
                        problems.add("cluster " + c.getName() + ": DNS cluster without load_assignment endpoints");
                    }
                    if (c.getType() == Cluster.DiscoveryType.LOGICAL_DNS && countHosts(c.getLoadAssignment()) != 1) {
                        problems.add("cluster " + c.getName() + ": LOGICAL_DNS clusters must have a single host");
                    }
                }
                case EDS -> {
                    if (!c.getEdsClusterConfig().getEdsConfig().hasAds()) {
                        problems.add("cluster " + c.getName() + ": EDS config source is not ADS (not modelled)");
                    }
                }
                default -> problems.add("cluster " + c.getName() + ": discovery type " + c.getType() + " not modelled");
            }
        }
        return problems;
    }

    /** EDS: endpoint addresses must be IP literals (source/common/upstream/upstream_impl.cc, resolveProtoAddress). */
    static List<String> endpoints(Map<String, ClusterLoadAssignment> assignments) {
        List<String> problems = new ArrayList<>();
        assignments.values().forEach(cla -> ipOnly("load assignment " + cla.getClusterName(), cla, problems));
        return problems;
    }

    /** LDS: listener addresses, HCM filter order, ext_proc processing-mode rules. */
    static List<String> listeners(Map<String, Listener> listeners) {
        List<String> problems = new ArrayList<>();
        for (Listener l : listeners.values()) {
            if (l.hasApiListener()) {
                continue; // ignored by Envoy's LDS, see AdsSubscription
            }
            SocketAddress sa = l.getAddress().getSocketAddress();
            // Network::Address::resolveProtoSocketAddress: listener addresses are IPs
            // (source/common/network/resolver_impl.cc)
            if (!IpLiteral.is(sa.getAddress())) {
                problems.add("listener " + l.getName() + ": malformed IP address: " + sa.getAddress());
            }
            for (FilterChain chain : l.getFilterChainsList()) {
                for (Filter f : chain.getFiltersList()) {
                    try {
                        Message config = ModelledFields.unpack(f.getTypedConfig());
                        if (config instanceof HttpConnectionManager hcm) {
                            problems.addAll(hcm(l.getName(), hcm));
                        }
                    } catch (InvalidProtocolBufferException unknownType) {
                        // a network filter the emulator does not know: reported by the field walk, not a NACK
                    }
                }
            }
        }
        return problems;
    }

    private static List<String> hcm(String listener, HttpConnectionManager hcm) {
        List<String> problems = new ArrayList<>();
        List<HttpFilter> filters = hcm.getHttpFiltersList();
        // "terminal filter named ... must be the last filter" / "non-terminal filter ... is the last filter":
        // Config::Utility::validateTerminalFilters (source/common/config/utility.h), called from
        // source/extensions/filters/network/http_connection_manager/config.cc
        if (filters.isEmpty() || !filters.getLast().getName().equals(ROUTER)) {
            problems.add("listener " + listener + ": the router must be the last HTTP filter");
        }
        for (int i = 0; i < filters.size() - 1; i++) {
            if (filters.get(i).getName().equals(ROUTER)) {
                problems.add("listener " + listener + ": terminal filter named " + ROUTER + " is not the last filter");
            }
        }
        for (HttpFilter f : filters) {
            Message config;
            try {
                config = ModelledFields.unpack(f.getTypedConfig());
            } catch (InvalidProtocolBufferException unknownType) {
                continue; // Envoy may know it; the field walk reports it as unmodelled
            }
            if (config instanceof ExternalProcessor p) {
                problems.addAll(extProc(listener, p));
            }
        }
        return problems;
    }

    /**
     * source/extensions/filters/http/ext_proc/config.cc (verifyProcessingModeConfig): "If the ext_proc filter has the
     * request_body_mode set to FULL_DUPLEX_STREAMED, then the request_trailer_mode has to be set to SEND" (same for the
     * response side); and in Envoy 1.34/1.35 FULL_DUPLEX_STREAMED cannot be combined with failure_mode_allow.
     */
    static List<String> extProc(String where, ExternalProcessor p) {
        List<String> problems = new ArrayList<>();
        ProcessingMode m = p.getProcessingMode();
        boolean duplex = false;
        if (m.getRequestBodyMode() == ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED) {
            duplex = true;
            if (m.getRequestTrailerMode() != ProcessingMode.HeaderSendMode.SEND) {
                problems.add(where + ": FULL_DUPLEX_STREAMED request body needs request_trailer_mode SEND");
            }
        }
        if (m.getResponseBodyMode() == ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED) {
            duplex = true;
            if (m.getResponseTrailerMode() != ProcessingMode.HeaderSendMode.SEND) {
                problems.add(where + ": FULL_DUPLEX_STREAMED response body needs response_trailer_mode SEND");
            }
        }
        if (duplex && p.getFailureModeAllow()) {
            problems.add(where + ": FULL_DUPLEX_STREAMED with failure_mode_allow true is rejected");
        }
        return problems;
    }

    /**
     * RDS, checked against the accepted clusters: with {@code validate_clusters} every named cluster must exist
     * ("route: unknown weighted cluster"/"unknown cluster", source/common/router/config_impl.cc); domains are unique
     * across virtual hosts ("Only unique values for domains are permitted", same file); weighted clusters weigh
     * more than zero; regexes compile in RE2 (source/common/common/regex.cc).
     */
    static List<String> routes(Map<String, RouteConfiguration> routes, Set<String> clusters) {
        List<String> problems = new ArrayList<>();
        for (RouteConfiguration rc : routes.values()) {
            boolean validate =
                    rc.hasValidateClusters() && rc.getValidateClusters().getValue();
            Set<String> domains = new HashSet<>();
            for (VirtualHost vh : rc.getVirtualHostsList()) {
                for (String d : vh.getDomainsList()) {
                    if (!domains.add(d.toLowerCase(java.util.Locale.ROOT))) {
                        problems.add("route config " + rc.getName() + ": Only unique values for domains are permitted. "
                                + "Duplicate entry of domain " + d);
                    }
                }
                problems.addAll(
                        RouteTable.corsRegexProblems("virtual host " + vh.getName(), vh.getTypedPerFilterConfigMap()));
                for (Route r : vh.getRoutesList()) {
                    String where = "route " + r.getName();
                    if (r.hasRoute()) {
                        List<String> named = new ArrayList<>();
                        if (r.getRoute().hasWeightedClusters()) {
                            WeightedCluster wc = r.getRoute().getWeightedClusters();
                            long total = wc.getClustersList().stream()
                                    .mapToLong(c -> c.getWeight().getValue())
                                    .sum();
                            if (total == 0) {
                                problems.add(where + ": Sum of weights in the weighted_cluster must be greater than 0");
                            }
                            wc.getClustersList().forEach(c -> named.add(c.getName()));
                        } else {
                            named.add(r.getRoute().getCluster());
                        }
                        for (String c : named) {
                            if (validate && !clusters.contains(c)) {
                                problems.add(where + ": unknown cluster '" + c + "'");
                            }
                        }
                    }
                    problems.addAll(RouteTable.regexProblems(where, r.getMatch()));
                    problems.addAll(RouteTable.corsRegexProblems(where, r.getTypedPerFilterConfigMap()));
                }
            }
        }
        return problems;
    }

    private static void ipOnly(String where, ClusterLoadAssignment cla, List<String> problems) {
        for (LocalityLbEndpoints locality : cla.getEndpointsList()) {
            for (LbEndpoint e : locality.getLbEndpointsList()) {
                String address = e.getEndpoint().getAddress().getSocketAddress().getAddress();
                if (!IpLiteral.is(address)) {
                    problems.add(
                            where + ": malformed IP address: " + address
                                    + ". Consider setting resolver_name or setting cluster type to 'STRICT_DNS' or 'LOGICAL_DNS'");
                }
            }
        }
    }

    private static int countHosts(ClusterLoadAssignment cla) {
        return cla.getEndpointsList().stream()
                .mapToInt(LocalityLbEndpoints::getLbEndpointsCount)
                .sum();
    }
}
