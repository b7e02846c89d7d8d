package io.meshguard.console;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.meshguard.xds.server.NodeStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Fleet: every node with the revision it ACKed against the one its group serves, its last NACK, its client, and a
 * status computed from its last-seen time at each render — never a stored flag, which would keep saying
 * "connected" for a node that vanished (Kong's sync_status pitfall, ../shared/reference/control-plane-peers.md §4).
 * Live updates are server-sent events carrying re-rendered rows.
 */
public final class FleetScreen {
    /** A connected node heard from less recently than this is shown as stale. */
    static final Duration STALE_AFTER = Duration.ofMinutes(5);
    /** How often the event stream sends rows, and how long one stream lasts before the browser reconnects. */
    static final Duration TICK = Duration.ofSeconds(2);

    static final Duration STREAM_LIFETIME = Duration.ofSeconds(25);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Supplier<List<NodeStatus>> nodes;
    private final Function<String, Optional<Long>> servedRevision;
    private final Clock clock;
    private volatile boolean closed;

    public FleetScreen(Supplier<List<NodeStatus>> nodes, Function<String, Optional<Long>> servedRevision, Clock clock) {
        this.nodes = nodes;
        this.servedRevision = servedRevision;
        this.clock = clock;
    }

    Views.Fleet page(Views.Chrome chrome) {
        Instant now = clock.instant();
        return new Views.Fleet(chrome, rows(now), RevisionsScreen.time(now));
    }

    /** Every node, by group and node id, with its status as of {@code now}. */
    public List<Views.NodeRow> rows(Instant now) {
        return nodes.get().stream()
                .sorted(Comparator.comparing(NodeStatus::group).thenComparing(NodeStatus::nodeId))
                .map(n -> row(n, now))
                .toList();
    }

    private Views.NodeRow row(NodeStatus n, Instant now) {
        Optional<Long> published = servedRevision.apply(n.group());
        Duration age = Duration.between(n.lastSeen(), now);
        String status;
        if (!n.connected()) {
            status = "disconnected";
        } else if (age.compareTo(STALE_AFTER) > 0) {
            status = "stale";
        } else if (n.revision().isPresent() && n.revision().equals(published)) {
            status = "in sync";
        } else if (n.lastNack().isPresent()) {
            status = "rejected";
        } else {
            status = "behind";
        }
        String agent = n.userAgent();
        int slash = agent.indexOf('/');
        return new Views.NodeRow(
                n.peerIdentity().isEmpty() ? "—" : n.peerIdentity(),
                n.group(),
                n.nodeId(),
                status,
                status.replace(' ', '-'),
                ago(age) + " (" + RevisionsScreen.time(n.lastSeen()) + ")",
                n.revision().map(String::valueOf).orElse("none"),
                published.map(String::valueOf).orElse("none"),
                n.lastNack().map(x -> x.version() + ": " + x.error()).orElse(""),
                slash > 0 ? agent.substring(0, slash) : agent,
                slash > 0 ? agent.substring(slash + 1) : "");
    }

    static String ago(Duration d) {
        long s = Math.max(0, d.toSeconds());
        if (s < 90) {
            return s + " s ago";
        }
        if (s < 90 * 60) {
            return (s / 60) + " min ago";
        }
        return (s / 3600) + " h ago";
    }

    /**
     * The event stream: the rows every {@link #TICK} for {@link #STREAM_LIFETIME}, then the stream ends and the
     * browser's EventSource reconnects (through the gate again: a revoked person stops getting updates).
     */
    void stream(HttpExchange ex, Pages pages) throws IOException {
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.sendResponseHeaders(200, 0);
        Instant end = clock.instant().plus(STREAM_LIFETIME);
        try (OutputStream out = ex.getResponseBody()) {
            out.write("retry: 2000\n\n".getBytes(StandardCharsets.UTF_8));
            while (!closed && clock.instant().isBefore(end)) {
                Instant now = clock.instant();
                String rows = pages.text("fleet-rows.jte", Map.of("nodes", rows(now)));
                String data = JSON.writeValueAsString(Map.of("rows", rows, "at", RevisionsScreen.time(now)));
                out.write(("event: fleet\ndata: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
                out.flush();
                Thread.sleep(TICK.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException e) {
            // the browser went away
        }
    }

    /** Ends the open event streams within a tick (the admin port is stopping). */
    public void close() {
        closed = true;
    }
}
