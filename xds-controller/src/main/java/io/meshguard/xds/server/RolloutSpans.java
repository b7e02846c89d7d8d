package io.meshguard.xds.server;

import io.meshguard.runtime.tracing.Tracing;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * One INTERNAL span per served revision of a group, {@code meshguard.xds.publish}: from the moment a revision is
 * served until every node of the group connected then has ACKed it or NACKed, or until a timeout. It carries the
 * group, the revision and the counts (nodes, acked, nacked, pending) and ends with an outcome: {@code acked},
 * {@code nacked}, {@code timeout}, {@code superseded} (a newer revision came first) or {@code no_nodes}. A NACK adds
 * an event naming the node and the resource type (not Envoy's error text, which quotes configuration).
 *
 * <p>Off when tracing is off: no timer thread, no bookkeeping.
 */
public final class RolloutSpans implements AutoCloseable {
    static final AttributeKey<String> GROUP = AttributeKey.stringKey("meshguard.xds.group");
    static final AttributeKey<Long> REVISION = AttributeKey.longKey("meshguard.xds.revision");
    static final AttributeKey<Long> NODES = AttributeKey.longKey("meshguard.xds.nodes");
    static final AttributeKey<Long> ACKED = AttributeKey.longKey("meshguard.xds.acked");
    static final AttributeKey<Long> NACKED = AttributeKey.longKey("meshguard.xds.nacked");
    static final AttributeKey<Long> PENDING = AttributeKey.longKey("meshguard.xds.pending");
    static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("meshguard.xds.outcome");
    private static final int MAX_NACK_EVENTS = 16;

    private final Tracing tracing;
    private final Duration timeout;
    private final Clock clock;
    private final Optional<ScheduledExecutorService> timer;
    private final Map<String, Rollout> open = new ConcurrentHashMap<>();

    /** @param timeout how long a rollout waits for the fleet's answers before its span ends as {@code timeout} */
    public RolloutSpans(Tracing tracing, Duration timeout, Clock clock) {
        this.tracing = tracing;
        this.timeout = timeout;
        this.clock = clock;
        this.timer = tracing.enabled()
                ? Optional.of(Executors.newSingleThreadScheduledExecutor(
                        Thread.ofPlatform().name("xds-rollout-spans").daemon().factory()))
                : Optional.empty();
    }

    /** Tracing off. */
    public static RolloutSpans disabled() {
        return new RolloutSpans(Tracing.disabled(), Duration.ofMinutes(1), Clock.systemUTC());
    }

    /** A revision of {@code group} is now served; {@code fleet} is who is connected right now. */
    void served(String group, long revision, List<NodeStatus> fleet) {
        if (!tracing.enabled()) {
            return;
        }
        Set<NodeStatus.Key> waiting = new HashSet<>();
        for (NodeStatus node : fleet) {
            if (node.group().equals(group) && node.connected()) {
                waiting.add(node.key());
            }
        }
        Span span = tracing.tracer()
                .spanBuilder("meshguard.xds.publish")
                .setSpanKind(SpanKind.INTERNAL)
                .setAttribute(GROUP, group)
                .setAttribute(REVISION, revision)
                .setAttribute(NODES, (long) waiting.size())
                .startSpan();
        Rollout rollout = new Rollout(span, revision, clock.instant(), waiting);
        Rollout previous = open.put(group, rollout);
        if (previous != null) {
            previous.end("superseded");
        }
        if (waiting.isEmpty()) {
            open.remove(group, rollout);
            rollout.end("no_nodes");
            return;
        }
        timer.ifPresent(t -> t.schedule(
                () -> {
                    if (open.remove(group, rollout)) {
                        rollout.end("timeout");
                    }
                },
                timeout.toMillis(),
                TimeUnit.MILLISECONDS));
    }

    /** A node's status changed (a Fleet sink: on the ADS threads, must not block). */
    public void changed(NodeStatus status) {
        Rollout rollout = open.get(status.group());
        if (rollout == null) {
            return;
        }
        if (rollout.answer(status) && open.remove(status.group(), rollout)) {
            rollout.end(rollout.nacked > 0 ? "nacked" : "acked");
        }
    }

    @Override
    public void close() {
        open.values().forEach(r -> r.end("shutdown"));
        open.clear();
        timer.ifPresent(ScheduledExecutorService::shutdownNow);
    }

    private static final class Rollout {
        private final Span span;
        private final long revision;
        private final Instant started;
        private final Set<NodeStatus.Key> waiting;
        private final int nodes;
        private int acked;
        private int nacked;
        private boolean ended;

        Rollout(Span span, long revision, Instant started, Set<NodeStatus.Key> waiting) {
            this.span = span;
            this.revision = revision;
            this.started = started;
            this.waiting = waiting;
            this.nodes = waiting.size();
        }

        /** Counts the node's answer; true when every node has answered. */
        synchronized boolean answer(NodeStatus status) {
            if (ended || !waiting.contains(status.key())) {
                return false;
            }
            if (status.revision().filter(r -> r == revision).isPresent()) {
                waiting.remove(status.key());
                acked++;
            } else {
                Optional<NodeStatus.Nack> nack = status.lastNack().filter(n -> !n.at().isBefore(started));
                if (nack.isPresent()) {
                    waiting.remove(status.key());
                    if (nacked++ < MAX_NACK_EVENTS) {
                        span.addEvent(
                                "meshguard.xds.nack",
                                Attributes.of(
                                        AttributeKey.stringKey("meshguard.xds.node"),
                                        status.nodeId(),
                                        AttributeKey.stringKey("meshguard.xds.type_url"),
                                        nack.get().typeUrl()));
                    }
                }
            }
            return waiting.isEmpty();
        }

        synchronized void end(String outcome) {
            if (ended) {
                return;
            }
            ended = true;
            span.setAttribute(OUTCOME, outcome);
            span.setAttribute(ACKED, (long) acked);
            span.setAttribute(NACKED, (long) nacked);
            span.setAttribute(PENDING, (long) (nodes - acked - nacked));
            if (outcome.equals("nacked") || outcome.equals("timeout")) {
                span.setStatus(StatusCode.ERROR, outcome);
            }
            span.end();
        }
    }
}
