package io.meshguard.xds;

import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.envoygateway.apply.EnvoyGatewayZone;
import io.meshguard.xds.envoygateway.EnvoyGatewayRevisions;
import io.meshguard.xds.model.TemplateKind;
import io.meshguard.xds.server.AdsPeerPolicy;
import io.meshguard.xds.server.NodeStatus;
import io.meshguard.xds.server.RolloutSpans;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.snapshot.GroupResources;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.zone.CentralLink;
import io.meshguard.xds.zone.ZoneRevisions;
import io.meshguard.xds.zone.ZoneSettings;
import io.meshguard.xds.zone.ZoneSubscriptionState;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The xDS controller in zone mode: serves its cluster's Envoys and proxyless clients over ADS (the same server code
 * as central) from the revisions central sent, kept in the state directory, and its cluster's extauthz replicas the
 * subscription state central sent, kept there too ({@link ZoneSubscriptionState}). It serves them from start, before and
 * without central; it follows central over one outbound stream ({@link CentralLink}); it reports each node's ACKed
 * revision up. Nothing it holds is removed except by a withdrawal from central.
 */
public final class ZoneController implements AutoCloseable, CentralLink.Zone {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ZoneController.class);
    private final ZoneRevisions revisions;
    private final XdsCore core;
    private final CentralLink link;
    private final ZoneSubscriptionState subscriptions;
    private final Map<String, String> refused = new ConcurrentHashMap<>();
    private final Optional<EnvoyGatewayZone> envoyGateway;

    /**
     * @param adsBind where the zone's Envoys and proxyless clients connect
     * @param targets the cluster's ext_authz and ext_proc addresses the revisions are built against
     * @param peers who may open an ADS stream in the cluster
     */
    public ZoneController(
            ZoneSettings settings,
            InetSocketAddress adsBind,
            FilterTargets targets,
            Optional<String> defaultGroup,
            AdsPeerPolicy peers,
            MeterRegistry meters) {
        this(settings, adsBind, targets, defaultGroup, peers, meters, Optional.empty(), Optional.empty());
    }

    /**
     * @param envoyGateway the cluster's Envoy Gateway, for the groups whose template is of kind {@code envoy-gateway}:
     *     their revisions are also applied to it as Gateway API resources, and those resources reported as the groups'
     *     nodes (docs/envoy-gateway.md)
     * @param vhdsCluster when present, the cluster's Envoy gateways get their virtual hosts over VHDS through this
     *     cluster of their bootstrap, as central's do (docs/gateway-envoy-config.md §11)
     */
    public ZoneController(
            ZoneSettings settings,
            InetSocketAddress adsBind,
            FilterTargets targets,
            Optional<String> defaultGroup,
            AdsPeerPolicy peers,
            MeterRegistry meters,
            Optional<EnvoyGatewayZone> envoyGateway,
            Optional<String> vhdsCluster) {
        this.envoyGateway = envoyGateway;
        this.revisions = new ZoneRevisions(settings.stateDir().resolve("revisions"));
        // the zone validates nothing: central validated every revision before storing it
        this.core = new XdsCore(
                adsBind,
                targets,
                revisions,
                defaultGroup,
                status -> {},
                meters,
                Clock.systemUTC(),
                new ConfigValidator(),
                RolloutSpans.disabled(),
                peers,
                vhdsCluster.map(XdsCore.Vhds::through));
        this.subscriptions = new ZoneSubscriptionState(settings.stateDir(), core.subscriptionState());
        this.link = new CentralLink(settings, this);
        io.micrometer.core.instrument.Gauge.builder(
                        "meshguard_xds_zone_link_connected",
                        link,
                        l -> l.state().connected() && core.watchdog().healthy() ? 1 : 0)
                .description("1 while central answers on the zone's stream and the zone serves what it is sent (it"
                        + " follows central), 0 otherwise")
                .register(meters);
        io.micrometer.core.instrument.Gauge.builder("meshguard_xds_zone_config_age_seconds", link, l -> l.state()
                        .lastMessage()
                        .map(t -> (double) java.time.Duration.between(t, java.time.Instant.now())
                                        .toMillis()
                                / 1000)
                        .orElse(Double.NaN))
                .description("Seconds since central last sent anything: what the zone serves is central's as of then"
                        + " (NaN before central ever answered)")
                .register(meters);
    }

    /** Serves the stored revisions on the ADS port, then dials central. */
    public ZoneController start() throws IOException {
        subscriptions.restore();
        core.start();
        envoyGateway.ifPresent(eg -> {
            // what the zone held before a restart is put back on the cluster (server-side apply: a no-op when there)
            revisions.latestPerGroup().values().stream()
                    .filter(r -> onEnvoyGateway(r.group()))
                    .forEach(r -> applyToEnvoyGateway(eg, r.group(), r.id()));
            eg.start();
        });
        link.start();
        return this;
    }

    /** Applies the group's held revision to the cluster's Envoy Gateway; the reason it could not, when it could not. */
    private Optional<String> applyToEnvoyGateway(EnvoyGatewayZone eg, String group, long id) {
        // the reason also stays in eg.refused() until a later pass applies it: the echo reports it from there
        return Optional.ofNullable(revisions.latestPerGroup().get(group))
                .flatMap(r -> eg.revision(EnvoyGatewayRevisions.of(r.config(), group, id)));
    }

    /** Whether the group's held revision is of template kind {@code envoy-gateway} (the kind is published with it). */
    private boolean onEnvoyGateway(String group) {
        return Optional.ofNullable(revisions.latestPerGroup().get(group))
                .flatMap(r -> r.config().group(group))
                .filter(g -> g.templateKind() == TemplateKind.ENVOY_GATEWAY)
                .isPresent();
    }

    public int adsPort() {
        return core.adsPort();
    }

    public XdsCore core() {
        return core;
    }

    public CentralLink.State link() {
        return link.state();
    }

    @Override
    public Optional<String> revision(ZoneProto.GroupRevision revision) {
        boolean taken;
        try {
            taken = revisions.accept(revision);
        } catch (RuntimeException e) {
            // One revision this zone cannot read must not end the stream to central: that would drop every later
            // message, and each reconnect would replay the same revision first. Its group keeps what it serves,
            // central hears the refusal in the next echo, every other group goes on.
            log.error(
                    "revision {} of group {} is unreadable, keeping what the group serves: {}",
                    revision.getRevision(),
                    revision.getGroup(),
                    e.getMessage());
            String why = "revision " + revision.getRevision() + " is unreadable here (see the zone's log)";
            refused.put(revision.getGroup(), why);
            return Optional.of(why);
        }
        if (!taken) {
            return Optional.empty(); // held already: commands are idempotent
        }
        core.publisher().applyLatest();
        if (envoyGateway.isPresent()) {
            EnvoyGatewayZone eg = envoyGateway.get();
            if (onEnvoyGateway(revision.getGroup())) {
                return applyToEnvoyGateway(eg, revision.getGroup(), revision.getRevision());
            }
            if (eg.serves(revision.getGroup())) {
                // the group moved back to meshguard's gateway: its Gateway API resources leave the cluster
                eg.withdrawal(revision.getGroup());
            }
        }
        if (core.publisher()
                .servedRevision(revision.getGroup())
                .filter(r -> r == revision.getRevision())
                .isPresent()) {
            refused.remove(revision.getGroup());
            return Optional.empty();
        }
        String why = "revision " + revision.getRevision() + " does not build here (see the zone's log)";
        refused.put(revision.getGroup(), why);
        return Optional.of(why);
    }

    @Override
    public void withdrawal(ZoneProto.Withdrawal withdrawal) {
        // the cluster's resources go even when this zone lost its state: they carry the group's labels
        envoyGateway
                .filter(eg -> eg.serves(withdrawal.getGroup()) || onEnvoyGateway(withdrawal.getGroup()))
                .ifPresent(eg -> eg.withdrawal(withdrawal.getGroup()));
        if (revisions.withdraw(withdrawal.getGroup())) {
            // the explicit withdrawal is the one thing that makes the group's nodes drop their configuration
            core.snapshots()
                    .serve(
                            WITHDRAWN,
                            new GroupResources(withdrawal.getGroup(), List.of(), List.of(), List.of(), List.of()));
            refused.remove(withdrawal.getGroup());
        }
    }

    /** The revision number a withdrawn group serves (nothing). */
    static final long WITHDRAWN = 0;

    @Override
    public Optional<String> subscriptionState(ZoneProto.SubscriptionState state) {
        return subscriptions.accept(state);
    }

    @Override
    public Map<String, Long> held() {
        return revisions.latestIds();
    }

    @Override
    public ZoneProto.Echo echo(long sequence) {
        ZoneProto.Echo.Builder echo = ZoneProto.Echo.newBuilder()
                .setSequence(sequence)
                .putAllApplied(revisions.latestIds())
                .putAllRefused(Map.copyOf(refused));
        core.fleet().nodes().forEach(n -> echo.addNodes(report(n)));
        // an envoy-gateway group's "nodes" are its resources on the cluster (revision label, conditions, hand edits)
        envoyGateway.ifPresent(eg -> echo.addAllNodes(eg.reports()).putAllRefused(eg.refused()));
        return echo.build();
    }

    private ZoneProto.NodeReport report(NodeStatus n) {
        ZoneProto.NodeReport.Builder b = ZoneProto.NodeReport.newBuilder()
                .setNodeId(n.nodeId())
                .setGroup(n.group())
                .setConnected(n.connected())
                .setClient(n.userAgent());
        n.revision().ifPresent(b::setRevision);
        core.publisher().servedRevision(n.group()).filter(r -> r != WITHDRAWN).ifPresent(b::setExpected);
        n.lastNack().ifPresent(x -> b.setNack(x.typeUrl() + " " + x.version() + ": " + x.error()));
        if (n.lastSeen() != null) {
            b.setLastSeen(ZoneWire.timestamp(n.lastSeen()));
        }
        return b.build();
    }

    @Override
    public void close() throws InterruptedException {
        envoyGateway.ifPresent(EnvoyGatewayZone::close);
        link.close();
        core.close();
    }
}
