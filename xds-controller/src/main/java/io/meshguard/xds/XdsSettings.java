package io.meshguard.xds;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigException;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigProblem;
import io.meshguard.xds.policy.PolicyFileSet;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.validate.GatewayEgress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The controller's own settings (the status HTTP port and the database come from {@code http.*} and {@code db.*}).
 *
 * @param adminTokenFile file with the admin API bearer token(s); without it the admin API refuses every call
 * @param adsPeers who may open an ADS stream and read which gateway group ({@code xds.ads.peer_identity} and friends)
 * @param egress where upstreams lie for the gateway's NetworkPolicy ({@code xds.egress.*}); checked at publish when the
 *     cluster's ranges are set
 */
public record XdsSettings(
        String adsBind,
        int adsPort,
        Optional<Path> adminTokenFile,
        FilterTargets filterTargets,
        Optional<String> defaultGroup,
        Duration notifyDebounce,
        Duration reconcileInterval,
        Duration drainTimeout,
        String controllerName,
        AdsPeerPolicy adsPeers,
        Optional<String> vhdsCluster,
        GatewayEgress egress) {

    /**
     * One controller on this machine, as the tests and benchmarks start it: ADS on a free loopback port open to any
     * local peer (no mesh identity), the default filter targets, no default group, a 10 ms debounce, a one-minute
     * reconcile and no drain.
     */
    public static XdsSettings onLoopback(String controllerName, Optional<Path> adminTokenFile) {
        return new XdsSettings(
                "127.0.0.1",
                0,
                adminTokenFile,
                FilterTargets.DEFAULTS,
                Optional.empty(),
                Duration.ofMillis(10),
                Duration.ofMinutes(1),
                Duration.ZERO,
                controllerName,
                AdsPeerPolicy.localDevelopment(),
                Optional.empty(),
                GatewayEgress.UNCHECKED);
    }

    // A group's gateway template kind is stored with the group (gateway_group.template_kind, docs/envoy-gateway.md),
    // not a setting: the key xds.envoy_gateway.groups that named such groups before is gone, and a file still naming
    // it fails the start as an unknown key.

    public static final int DEFAULT_ADS_PORT = 18000;
    public static final int DEFAULT_HTTP_PORT = 9103;

    public static final ConfigKey<String> ADS_BIND =
            ConfigKey.string("xds.ads.bind", "0.0.0.0", "Address the ADS gRPC port binds to.");
    public static final ConfigKey<Integer> ADS_PORT = ConfigKey.integer(
            "xds.ads.port",
            DEFAULT_ADS_PORT,
            0,
            65535,
            "ADS (aggregated xDS) gRPC port Envoy and proxyless gRPC clients connect to (0 picks a free port).");
    public static final ConfigKey<String> ADS_PEER_IDENTITY = ConfigKey.oneOf(
            "xds.ads.peer_identity",
            "xfcc",
            List.of("xfcc", "local-development"),
            "How an ADS stream's peer is identified. xfcc: the SPIFFE ID the "
                    + "controller's Istio sidecar writes in x-forwarded-client-cert (set proxyHeaders.forwardedClientCert: "
                    + "SANITIZE_SET on the controller pod), from xds.ads.trusted_proxies only. local-development: no "
                    + "identity, every peer reads every group; only with a loopback xds.ads.bind (meshguard up).");
    public static final ConfigKey<List<String>> ADS_TRUSTED_PROXIES = ConfigKey.stringList(
            "xds.ads.trusted_proxies",
            AdsPeerPolicy.ISTIO_INBOUND_SOURCES,
            "Source IPs of the controller's own sidecar toward the app (Istio "
                    + "binds inbound clusters to 127.0.0.6 and ::6); an ADS connection from elsewhere is refused.");
    public static final ConfigKey<List<String>> ADS_GROUP_IDENTITIES = ConfigKey.stringList(
            "xds.ads.group_identities",
            List.of(),
            "Which peers may read which gateway group, as "
                    + "group=spiffe://<trust domain>/ns/<namespace>/sa/<service account> entries ('*' stands for one "
                    + "whole path segment). A stream whose node names a group its identity is not granted is refused "
                    + "(PERMISSION_DENIED). Empty: every stream is refused (xfcc).");
    public static final ConfigKey<Boolean> ADS_LOCAL_DEVELOPMENT_ANY_PEER = ConfigKey.bool(
            "xds.ads.local_development_any_peer",
            false,
            "With xds.ads.peer_identity=local-development only: serve "
                    + "every group to any peer on the network, not just loopback (deploy/local's compose stack, where "
                    + "the gateway is another container). UNPROTECTED; refused inside Kubernetes.");
    public static final ConfigKey<Optional<Path>> ADMIN_TOKEN_FILE = ConfigKey.optionalPath(
            "xds.admin.token_file",
            "File with the admin API bearer token, one per line as 'name:token' (the name is the audited actor) "
                    + "or a bare token (actor 'admin'). Unset: the admin API answers 503 to everything.");
    public static final ConfigKey<String> EXTAUTHZ_TARGET = ConfigKey.string(
            "xds.extauthz.target",
            "127.0.0.1:9001",
            "host:port of extauthz-server that gateways' ext_authz filter calls.");
    public static final ConfigKey<String> DLP_TARGET = ConfigKey.string(
            "xds.dlp.target",
            "127.0.0.1:9002",
            "host:port of extproc-dlp-server that gateways' ext_proc filter calls.");
    public static final ConfigKey<String> ACCESS_LOG_TARGET = ConfigKey.string(
            "xds.access_log.target",
            "127.0.0.1:9002",
            "host:port of the audit access-log (ALS) receiver gateways stream logs to (in "
                    + "Kubernetes the DLP pod's access-log port, audit.als.port 9003).");
    public static final ConfigKey<Integer> GATEWAY_XFF_TRUSTED_HOPS = ConfigKey.integer(
            "xds.gateway.xff_num_trusted_hops",
            0,
            0,
            10,
            "Load balancers in front of the gateway that append the "
                    + "client to x-forwarded-for: the gateway HCM's xff_num_trusted_hops (on Envoy Gateway, the "
                    + "ClientTrafficPolicy's clientIPDetection.xForwardedFor.numTrustedHops). Envoy picks the client "
                    + "address with it and extauthz takes that verdict (x-envoy-external-address); 0: the peer.");
    public static final ConfigKey<Duration> FILTER_TIMEOUT = ConfigKey.duration(
            "xds.filter_timeout",
            Duration.ofSeconds(2),
            "Timeout of one ext_authz Check at the gateway (an error or a timeout denies "
                    + "with 503) and on proxyless clients; ext_proc has no per-message timeout under "
                    + "FULL_DUPLEX_STREAMED.");
    public static final ConfigKey<String> DEFAULT_GROUP = ConfigKey.string(
            "xds.default_group",
            "",
            "Gateway group of nodes that name none (node.cluster and metadata meshguard.group empty); "
                    + "empty: such nodes get no configuration.");
    public static final ConfigKey<Duration> NOTIFY_DEBOUNCE = ConfigKey.duration(
            "xds.notify_debounce",
            Duration.ofMillis(20),
            "Wait after a publish notification before reading, to coalesce bursts.");
    public static final ConfigKey<Duration> RECONCILE_INTERVAL = ConfigKey.duration(
            "xds.reconcile_interval",
            Duration.ofSeconds(30),
            "How often the newest revisions are re-read in case a notification was lost.");
    public static final ConfigKey<Duration> DRAIN_TIMEOUT = ConfigKey.duration(
            "xds.drain_timeout",
            Duration.ofSeconds(5),
            "How long ADS streams get to close on shutdown before they are cut.");
    public static final ConfigKey<Optional<Path>> AUTHZ_POLICY_FILE = ConfigKey.optionalPath(
            "xds.policies.authz_file",
            "The authz.yaml extauthz-server loads (in Kubernetes the mounted policy "
                    + "ConfigMap). With xds.policies.dlp_file: publishes naming an authz rule or DLP profile they lack "
                    + "are refused, and a policy change removing one a served route uses is reported. Unset: not "
                    + "checked.");
    public static final ConfigKey<Optional<Path>> DLP_POLICY_FILE = ConfigKey.optionalPath(
            "xds.policies.dlp_file",
            "The dlp.yaml extproc-dlp-server loads; set together with xds.policies.authz_file.");
    public static final ConfigKey<String> VHDS_CLUSTER = ConfigKey.string(
            "xds.envoy.vhds_cluster",
            "",
            "Serve Envoy gateways' virtual hosts over VHDS (delta xDS), each its own resource, through this static "
                    + "cluster of their bootstrap (the one to the controller: meshguard-xds), so a one-route change "
                    + "sends that virtual host instead of the whole route table. Empty: virtual hosts stay inside the "
                    + "route tables (RDS), for a gateway whose bootstrap has no such cluster. The manifests, the "
                    + "compose stack and `meshguard up` set `meshguard-xds`. Proxyless gRPC clients always get whole "
                    + "tables.");
    public static final ConfigKey<List<String>> EGRESS_CLUSTER_CIDRS = ConfigKey.stringList(
            "xds.egress.cluster_cidrs",
            List.of(),
            "The cluster's own pod and Service ranges (CIDRs). Set: a publish whose upstream is a DNS name outside "
                    + "the cluster with no pinned addresses is refused (MG-UPSTREAM-019), since the gateway's "
                    + "NetworkPolicy cannot allow it; IP literals outside these ranges need the rendered egress policy "
                    + "(meshguard xds render --egress-policy). Empty: not checked.");
    public static final ConfigKey<List<String>> EGRESS_EXTERNAL_HOSTS = ConfigKey.stringList(
            "xds.egress.external_hosts",
            List.of(),
            "DNS names outside the cluster pinned to their addresses, as host=CIDR|CIDR entries (what the name's "
                    + "ServiceEntry declares in addresses or STATIC endpoints): upstreams may name them, and the "
                    + "rendered egress policy allows those ranges on the upstream's port.");
    public static final ConfigKey<String> CONTROLLER_NAME = ConfigKey.string(
            "xds.controller_name", "", "Name of this replica in node_status.controller; empty: the host name.");

    /**
     * Whether the controller applies pending migrations at start. The manifests turn it off: there the servers' role
     * has DML only and the migrate Job, as the schema owner, applies them before the controller rolls.
     */
    public static final ConfigKey<Boolean> MIGRATE_ON_START = ConfigKey.bool(
            "xds.migrate_on_start",
            true,
            "Apply pending schema migrations at start (needs the schema owner's role). false: refuse to start while any"
                    + " is pending, naming them; for servers whose database role has DML only (`meshguard db migrate`"
                    + " applies them).");

    /** The {@code xds.*} keys and how to read them. */
    public static ConfigGroup<XdsSettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(
                        MIGRATE_ON_START,
                        ADS_BIND,
                        ADS_PORT,
                        ADMIN_TOKEN_FILE,
                        EXTAUTHZ_TARGET,
                        DLP_TARGET,
                        ACCESS_LOG_TARGET,
                        FILTER_TIMEOUT,
                        GATEWAY_XFF_TRUSTED_HOPS,
                        DEFAULT_GROUP,
                        NOTIFY_DEBOUNCE,
                        RECONCILE_INTERVAL,
                        DRAIN_TIMEOUT,
                        CONTROLLER_NAME,
                        VHDS_CLUSTER,
                        AUTHZ_POLICY_FILE,
                        DLP_POLICY_FILE,
                        ADS_PEER_IDENTITY,
                        ADS_TRUSTED_PROXIES,
                        ADS_GROUP_IDENTITIES,
                        ADS_LOCAL_DEVELOPMENT_ANY_PEER,
                        EGRESS_CLUSTER_CIDRS,
                        EGRESS_EXTERNAL_HOSTS);
            }

            @Override
            public XdsSettings read(Config config) {
                String name = config.get(CONTROLLER_NAME);
                if (name.isBlank()) {
                    name = hostName();
                }
                String group = config.get(DEFAULT_GROUP);
                return new XdsSettings(
                        config.get(ADS_BIND),
                        config.get(ADS_PORT),
                        config.get(ADMIN_TOKEN_FILE),
                        new FilterTargets(
                                config.get(EXTAUTHZ_TARGET),
                                config.get(DLP_TARGET),
                                config.get(ACCESS_LOG_TARGET),
                                config.get(FILTER_TIMEOUT),
                                config.get(GATEWAY_XFF_TRUSTED_HOPS)),
                        group.isBlank() ? Optional.empty() : Optional.of(group),
                        config.get(NOTIFY_DEBOUNCE),
                        config.get(RECONCILE_INTERVAL),
                        config.get(DRAIN_TIMEOUT),
                        name,
                        adsPeers(config),
                        Optional.of(config.get(VHDS_CLUSTER)).filter(c -> !c.isBlank()),
                        GatewayEgress.parse(config.get(EGRESS_CLUSTER_CIDRS), config.get(EGRESS_EXTERNAL_HOSTS)));
            }
        };
    }

    /**
     * The ADS peer policy from its three keys.
     *
     * @throws IllegalArgumentException naming the key when a grant or an address is malformed (the server does not
     *     start)
     */
    public static AdsPeerPolicy adsPeers(Config config) {
        try {
            return AdsPeerPolicy.of(
                    config.get(ADS_PEER_IDENTITY),
                    config.get(ADS_TRUSTED_PROXIES),
                    config.get(ADS_GROUP_IDENTITIES),
                    config.get(ADS_LOCAL_DEVELOPMENT_ANY_PEER),
                    System.getenv());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    ADS_GROUP_IDENTITIES.name() + " / " + ADS_TRUSTED_PROXIES.name() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The policy files publishes are checked against: both keys, or neither.
     *
     * @throws ConfigException when only one is set
     */
    public static Optional<PolicyFileSet> policyFiles(Config config) throws ConfigException {
        Optional<Path> authz = config.get(AUTHZ_POLICY_FILE);
        Optional<Path> dlp = config.get(DLP_POLICY_FILE);
        if (authz.isPresent() != dlp.isPresent()) {
            throw new ConfigException(List.of(new ConfigProblem(
                    authz.isPresent() ? DLP_POLICY_FILE.name() : AUTHZ_POLICY_FILE.name(),
                    "set xds.policies.authz_file and xds.policies.dlp_file together "
                            + "(route profiles are checked against both)")));
        }
        return authz.map(a -> new PolicyFileSet(a, dlp.get()));
    }

    private static String hostName() {
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (java.net.UnknownHostException e) {
            return "xds-controller";
        }
    }
}
