package io.meshguard.envoygateway.apply;

import io.fabric8.kubernetes.client.KubernetesClientException;
import io.meshguard.contract.zone.ZoneWire;
import io.meshguard.contract.zone.v1.ZoneProto;
import io.meshguard.envoygateway.render.EnvoyGatewayPublishCheck;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.envoygateway.render.GatewayRevision;
import io.meshguard.envoygateway.render.RenderedResources;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The zone controller's side of an {@code envoy-gateway} group: each revision central sends is rendered, checked
 * against the bundled CRDs and applied to the cluster ({@link EnvoyGatewayCluster}); a withdrawal deletes the group's
 * resources; a periodic pass reads their status back and looks for hand edits.
 *
 * <p>What it read is reported up as the group's nodes in the zone's echo (one {@code NodeReport} per applied
 * resource: its revision label against the revision the zone applies, its conditions, the first condition that is not
 * {@code True} or a hand edit as the "nack"), so central's fleet view shows an Envoy Gateway group resource by resource
 * without a new wire field; and as {@code meshguard_zone_gateway_resources{kind,condition,status}} on the zone's
 * metrics.
 */
public final class EnvoyGatewayZone implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EnvoyGatewayZone.class);

    /** The {@code client} of a resource's node report: what the fleet view shows as the node's software. */
    public static final String CLIENT = "envoy-gateway";

    private final EnvoyGatewayPublishCheck check;
    private final EnvoyGatewayCluster cluster;
    private final Duration interval;
    private final Clock clock;
    private final MeterRegistry meters;
    private final MultiGauge resources;
    private final Map<String, Applied> applied = new ConcurrentHashMap<>();
    private final Map<String, String> refused = new ConcurrentHashMap<>();
    private final Set<String> withdrawing = ConcurrentHashMap.newKeySet();
    private volatile List<ZoneProto.NodeReport> reports = List.of();
    private volatile Thread loop;

    /**
     * The render the zone applied last for a group, the drift its last pass found, and whether the apply is still to
     * be done (the API server was not reachable: every pass tries again).
     */
    private record Applied(long revision, RenderedResources rendered, Map<ResourceKey, Drift> drift, boolean pending) {}

    /**
     * @param interval how often status is read back and drift looked for
     */
    public EnvoyGatewayZone(
            EnvoyGatewayTemplate template,
            EnvoyGatewayCluster cluster,
            Duration interval,
            MeterRegistry meters,
            Clock clock) {
        this.check = new EnvoyGatewayPublishCheck(template);
        this.cluster = cluster;
        this.interval = interval;
        this.meters = meters;
        this.clock = clock;
        this.resources = MultiGauge.builder("meshguard_zone_gateway_resources")
                .description("Envoy Gateway resources the zone applied, by kind and by the status of each condition"
                        + " their controllers report (Accepted, Programmed, ResolvedRefs; Unknown: not written yet)")
                .register(meters);
    }

    /**
     * Whether the zone keeps {@code group}'s resources on the cluster: a revision of another template kind, or a
     * withdrawal, must take them off.
     */
    public boolean serves(String group) {
        return applied.containsKey(group);
    }

    /**
     * Renders, checks and applies a revision, then prunes what it no longer renders.
     *
     * @return why the revision is not (wholly) on the cluster, when it is not: refused by the renderer or the CRD
     *     check (nothing applied), or by the API server for some resources (the others applied)
     */
    public synchronized Optional<String> revision(GatewayRevision revision) {
        RenderedResources rendered;
        try {
            rendered = check.render(revision);
        } catch (EnvoyGatewayPublishCheck.Refused e) {
            refused.put(revision.group(), e.getMessage());
            return Optional.of(e.getMessage());
        }
        withdrawing.remove(revision.group());
        Optional<String> why = apply(revision.group(), new Applied(revision.revision(), rendered, Map.of(), true));
        refresh();
        return why;
    }

    private Optional<String> apply(String group, Applied wanted) {
        Optional<String> why;
        boolean pending = false;
        try {
            ApplyOutcome outcome = cluster.apply(group, wanted.revision(), wanted.rendered());
            why = outcome.refused().isEmpty()
                    ? Optional.empty()
                    : Optional.of("revision " + wanted.revision() + " applied in part, the API server refused: "
                            + String.join("; ", outcome.refused()));
        } catch (KubernetesClientException e) {
            pending = true;
            why = Optional.of("revision " + wanted.revision() + " not applied yet, the API server did not answer ("
                    + e.getMessage() + "); tried again every pass");
        }
        applied.put(group, new Applied(wanted.revision(), wanted.rendered(), Map.of(), pending));
        why.ifPresentOrElse(w -> refused.put(group, w), () -> refused.remove(group));
        return why;
    }

    /**
     * Per group, why its revision is not (wholly) on the cluster: what the zone's echo reports as refused, so central's
     * fleet view shows it.
     */
    public Map<String, String> refused() {
        return Map.copyOf(refused);
    }

    /** Deletes every resource of a withdrawn group from the cluster. */
    public synchronized void withdrawal(String group) {
        applied.remove(group);
        refused.remove(group);
        withdrawing.add(group);
        try {
            cluster.withdraw(group);
            withdrawing.remove(group);
        } catch (KubernetesClientException e) {
            log.atWarn()
                    .addKeyValue("event", "envoy_gateway_withdrawal_pending")
                    .addKeyValue("group", group)
                    .log(
                            "group {} withdrawn, its resources not deleted yet (tried again every pass): {}",
                            group,
                            e.getMessage());
        }
        refresh();
    }

    /**
     * One pass over every applied group: drift found (and, per {@link DriftMode}, corrected), then status read back
     * into the reports and metrics. Revisions, withdrawals and passes run one at a time: a pass never corrects drift
     * against a render a newer revision just replaced.
     */
    public synchronized void reconcile() {
        for (String group : List.copyOf(withdrawing)) {
            cluster.withdraw(group);
            withdrawing.remove(group);
        }
        for (Map.Entry<String, Applied> e : applied.entrySet()) {
            Applied a = e.getValue();
            if (a.pending()) {
                apply(e.getKey(), a);
                continue;
            }
            List<Drift> found = cluster.drift(e.getKey(), a.revision(), a.rendered());
            for (Drift d : found) {
                Counter.builder("meshguard_zone_gateway_drift_total")
                        .description("Hand edits of resources the zone applied, found by its periodic pass:"
                                + " corrected (re-applied) or reported (left, zone.envoy_gateway.drift: report)")
                        .tags("kind", d.key().kind(), "action", d.corrected() ? "corrected" : "reported")
                        .register(meters)
                        .increment();
            }
            Map<ResourceKey, Drift> open = new TreeMap<>();
            found.stream().filter(d -> !d.corrected()).forEach(d -> open.put(d.key(), d));
            applied.computeIfPresent(
                    e.getKey(),
                    (g, cur) -> cur.revision() == a.revision()
                            ? new Applied(cur.revision(), cur.rendered(), open, cur.pending())
                            : cur);
        }
        refresh();
    }

    /** The applied resources as node reports, for the zone's echo (central's fleet view). */
    public List<ZoneProto.NodeReport> reports() {
        return reports;
    }

    private void refresh() {
        try {
            read();
        } catch (KubernetesClientException e) {
            // the reports keep what was last read; the next pass reads again
            log.atWarn()
                    .addKeyValue("event", "envoy_gateway_status_unread")
                    .log("Envoy Gateway resources' status not read: {}", e.getMessage());
        }
    }

    private void read() {
        Instant now = clock.instant();
        List<ZoneProto.NodeReport> out = new ArrayList<>();
        Map<List<String>, Integer> counts = new TreeMap<>(java.util.Comparator.comparing(List::toString));
        for (Map.Entry<String, Applied> e : new TreeMap<>(applied).entrySet()) {
            Applied a = e.getValue();
            if (a.pending()) {
                continue;
            }
            for (GatewayResourceStatus s : cluster.status(e.getKey())) {
                Map<String, String> summary = s.summary();
                summary.forEach((type, status) -> counts.merge(List.of(s.key().kind(), type, status), 1, Integer::sum));
                ZoneProto.NodeReport.Builder r = ZoneProto.NodeReport.newBuilder()
                        .setNodeId(s.key().toString())
                        .setGroup(e.getKey())
                        .setConnected(true)
                        .setClient(client(summary))
                        .setExpected(a.revision())
                        .setLastSeen(ZoneWire.timestamp(now));
                if (s.revision() > 0) {
                    r.setRevision(s.revision());
                }
                Optional.ofNullable(a.drift().get(s.key()))
                        .map(d -> "edited by hand, left as found (zone.envoy_gateway.drift: report): "
                                + String.join(", ", d.fields()))
                        .or(() -> s.firstProblem()
                                .map(c -> c.type() + "=" + c.status() + " " + c.reason()
                                        + (c.parent().isEmpty() ? "" : " on " + c.parent())
                                        + (c.message().isEmpty() ? "" : ": " + c.message())))
                        .ifPresent(r::setNack);
                out.add(r.build());
            }
            for (Drift d : a.drift().values()) {
                if (d.missing()) {
                    out.add(ZoneProto.NodeReport.newBuilder()
                            .setNodeId(d.key().toString())
                            .setGroup(e.getKey())
                            .setConnected(false)
                            .setClient(CLIENT)
                            .setExpected(a.revision())
                            .setNack("deleted by hand, left as found (zone.envoy_gateway.drift: report)")
                            .setLastSeen(ZoneWire.timestamp(now))
                            .build());
                }
            }
        }
        reports = List.copyOf(out);
        resources.register(
                counts.entrySet().stream()
                        .map(c -> MultiGauge.Row.of(
                                Tags.of(
                                        "kind", c.getKey().get(0),
                                        "condition", c.getKey().get(1),
                                        "status", c.getKey().get(2)),
                                c.getValue()))
                        .collect(Collectors.toList()),
                true);
    }

    private static String client(Map<String, String> summary) {
        if (summary.isEmpty()) {
            return CLIENT;
        }
        return CLIENT + " "
                + summary.entrySet().stream()
                        .map(s -> s.getKey() + "=" + s.getValue())
                        .collect(Collectors.joining(","));
    }

    /** Starts the periodic pass (status and drift every {@code interval}). */
    public EnvoyGatewayZone start() {
        loop = Thread.ofVirtual().name("zone-envoy-gateway").start(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    Thread.sleep(interval);
                    reconcile();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // the API server away or refusing: the next pass tries again, what is applied stays
                    log.atWarn()
                            .addKeyValue("event", "envoy_gateway_pass_failed")
                            .log("Envoy Gateway status and drift pass failed: {}", e.getMessage());
                }
            }
        });
        return this;
    }

    @Override
    public void close() {
        Thread t = loop;
        if (t != null) {
            t.interrupt();
        }
    }
}
