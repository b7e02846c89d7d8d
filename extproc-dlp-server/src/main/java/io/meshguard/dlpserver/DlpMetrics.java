package io.meshguard.dlpserver;

import io.meshguard.contract.ProfileLabels;
import io.meshguard.dlp.detect.Simd;
import io.meshguard.dlp.policy.Direction;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The processor's meters; every name is {@code meshguard_dlp_*} with low-cardinality labels. The meters touched for
 * every body chunk (chunk timer, scanned and unscanned bytes) are looked up once per label set and kept: building a
 * meter id and finding it in the registry per chunk cost more than the counting.
 */
public final class DlpMetrics {
    private final MeterRegistry registry;
    private final AtomicInteger activeStreams = new AtomicInteger();
    private final ConcurrentHashMap<String, Timer> chunkTimers = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> scannedCounters = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Counter> unscannedCounters = new ConcurrentHashMap<>();
    private final ProfileLabels unknownProfileLabels = new ProfileLabels(32);
    private final ConcurrentHashMap<String, Counter> unknownProfiles = new ConcurrentHashMap<>();
    private final Counter unknownProfileStreams;

    public DlpMetrics(MeterRegistry registry) {
        this.registry = registry;
        io.micrometer.core.instrument.Gauge.builder("meshguard_dlp_streams_active", activeStreams, AtomicInteger::get)
                .description("DLP streams (ext_proc Process calls) open now")
                .register(registry);
        // 0 means the portable searches: a JVM started without --add-modules jdk.incubator.vector scans ~18 % slower.
        io.micrometer.core.instrument.Gauge.builder("meshguard_dlp_vector_bytes", () -> Simd.LANES)
                .description("bytes per step of the scan's vector searches; 0 when the portable paths run")
                .register(registry);
        // Counters of rare events are registered at zero for every label value they can take, so that a dashboard
        // or an alert sees the series (at 0) before the first event: a series that appears only with its first
        // increment makes rate() and increase() miss that first event (Prometheus docs, instrumentation practices,
        // "Avoid missing metrics").
        for (Direction d : Direction.values()) {
            decoderLimitCounter(d.id());
        }
        for (ProcessingSession.Phase phase : ProcessingSession.Phase.values()) {
            overDeadlineCounter(phase.label, phase.directionId());
        }
        for (String kind : PROTOCOL_ERRORS) {
            protocolErrorCounter(kind);
        }
        policyReloadCounter(true);
        policyReloadCounter(false);
        for (Direction d : Direction.values()) {
            for (String reason : UNSCANNED_REASONS) {
                unscannedBytes(d.id(), reason);
            }
        }
        this.unknownProfileStreams = Counter.builder("meshguard_dlp_unknown_profile_streams_total")
                .description("Streams refused because their route named a DLP profile the policy does not define, "
                        + "all names together (registered at start, so an alert sees the first one; the per-name "
                        + "series is meshguard_dlp_unknown_profile_total)")
                .register(registry);
        // A name's own series is born with its first stream; the overflow label's exists from start, so the per-name
        // series has a sample at zero before any event (the dashboards' panel breaks it down by profile).
        unknownProfiles.computeIfAbsent(ProfileLabels.OTHER, this::unknownProfileCounter);
        localReplyStreams = Counter.builder("meshguard_dlp_local_reply_streams_total")
                .description("Response-only streams Envoy opened for a local reply of an earlier filter (ext_authz "
                        + "denials): scanned, but written to no api_call row")
                .register(registry);
    }

    private final Counter localReplyStreams;

    /** A stream that carried only a local reply's response (no request headers). */
    void localReplyStream() {
        localReplyStreams.increment();
    }

    /**
     * The reasons bytes pass unscanned (DirectionState, ProcessingSession), registered at zero per direction; a reason
     * outside this list still counts, from its first event on.
     */
    static final java.util.List<String> UNSCANNED_REASONS = java.util.List.of(
            "no_profile",
            "no_rules",
            "grpc",
            "non_text",
            "unknown_encoding",
            "decoder_limit",
            "oversize",
            "blocked",
            "websocket");

    /** The kinds {@link #protocolError} is called with (ProcessingSession). */
    static final java.util.List<String> PROTOCOL_ERRORS = java.util.List.of(
            "observability_mode", "unknown_message", "internal", "streamed_tail_at_trailers", "phase_out_of_order");

    public MeterRegistry registry() {
        return registry;
    }

    /** Streams currently open. */
    public int activeStreams() {
        return activeStreams.get();
    }

    void streamOpened() {
        activeStreams.incrementAndGet();
    }

    void streamClosed() {
        activeStreams.decrementAndGet();
    }

    /** Route names come from the gateway's route config (bounded); streams without one count as "none". */
    void finding(String detector, String action, String direction, String profile, String route) {
        Counter.builder("meshguard_dlp_findings_total")
                .description("Decided findings")
                .tag("detector", detector)
                .tag("action", action)
                .tag("direction", direction)
                .tag("profile", profile.isEmpty() ? "none" : profile)
                .tag("route", route.isEmpty() ? "none" : route)
                .register(registry)
                .increment();
    }

    /**
     * Counts a stream refused because its route named a profile the policy lacks; the name is escaped and at most 32
     * names get their own label. Returns the label, so the caller can log it safely.
     */
    String unknownProfile(String profile) {
        String label = unknownProfileLabels.label(profile);
        unknownProfileStreams.increment();
        unknownProfiles.computeIfAbsent(label, this::unknownProfileCounter).increment();
        return label;
    }

    private Counter unknownProfileCounter(String label) {
        return Counter.builder("meshguard_dlp_unknown_profile_total")
                .description("Streams refused because their route named a DLP profile the policy does not define")
                .tag("profile", label)
                .register(registry);
    }

    void scanned(String direction, String kind, long bytes) {
        scannedBytes(direction, kind).increment(bytes);
    }

    /** The scanned-bytes counter of one direction and content kind (kept by the caller for its chunks). */
    Counter scannedBytes(String direction, String kind) {
        return scannedCounters.computeIfAbsent(
                direction + '/' + kind, k -> Counter.builder("meshguard_dlp_scanned_bytes_total")
                        .description("Body bytes scanned (after decoding)")
                        .tag("direction", direction)
                        .tag("content", kind)
                        .register(registry));
    }

    void unscanned(String direction, String reason, long bytes) {
        unscannedBytes(direction, reason).increment(bytes);
    }

    /** The unscanned-bytes counter of one direction and reason. */
    Counter unscannedBytes(String direction, String reason) {
        return unscannedCounters.computeIfAbsent(
                direction + '/' + reason, k -> Counter.builder("meshguard_dlp_unscanned_bytes_total")
                        .description("Body bytes passed without scanning because the policy says so")
                        .tag("direction", direction)
                        .tag("reason", reason)
                        .register(registry));
    }

    void blocked(String direction, String reason) {
        Counter.builder("meshguard_dlp_blocks_total")
                .description("Bodies or streams the DLP server blocked, by direction and reason")
                .tag("direction", direction)
                .tag("reason", reason)
                .register(registry)
                .increment();
    }

    void decoderLimit(String direction) {
        decoderLimitCounter(direction).increment();
    }

    private Counter decoderLimitCounter(String direction) {
        return Counter.builder("meshguard_dlp_decoder_limit_total")
                .description(
                        "Compressed bodies (br, zstd) refused a decoder because as many as the heap allows were busy")
                .tag("direction", direction)
                .register(registry);
    }

    void malformed(String direction, String what) {
        Counter.builder("meshguard_dlp_malformed_bodies_total")
                .description(
                        "Bodies whose declared format did not parse (scanned as text instead), by direction and kind")
                .tag("direction", direction)
                .tag("kind", what)
                .register(registry)
                .increment();
    }

    Timer chunkTimer(String direction, String mode) {
        return chunkTimers.computeIfAbsent(direction + '/' + mode, k -> Timer.builder("meshguard_dlp_chunk_seconds")
                .description("Time to process one body message (added latency per chunk)")
                .tag("direction", direction)
                .tag("mode", mode)
                .publishPercentiles(0.5, 0.99)
                .register(registry));
    }

    /** A stream the server ended because one phase (or the whole stream) ran over its deadline. */
    void overDeadline(String phase, String direction) {
        overDeadlineCounter(phase, direction).increment();
    }

    private Counter overDeadlineCounter(String phase, String direction) {
        return Counter.builder("meshguard_dlp_streams_over_deadline_total")
                .description("DLP streams ended by the server's own deadline (Envoy times nothing out in "
                        + "FULL_DUPLEX_STREAMED): 504 before the response started, a reset after")
                .tag("phase", phase)
                .tag("direction", direction)
                .register(registry);
    }

    /** The age of the oldest open bounded stream, read at each scrape. */
    void oldestStream(java.util.function.DoubleSupplier seconds) {
        io.micrometer.core.instrument.Gauge.builder("meshguard_dlp_stream_oldest_seconds", seconds::getAsDouble)
                .description("Seconds the oldest open DLP stream has been open (event streams and WebSocket "
                        + "upgrades excepted: they last as long as the conversation)")
                .register(registry);
    }

    /** An upgrade request (WebSocket): refused, or passed with its frames unscanned. */
    void websocket(String profile, String decision) {
        Counter.builder("meshguard_dlp_websocket_upgrades_total")
                .description("Protocol upgrades (WebSocket) by the profile's decision: block, pass (frames go on "
                        + "unscanned and unchanged), or no_profile")
                .tag("profile", profile)
                .tag("decision", decision)
                .register(registry)
                .increment();
    }

    /** An MCP request body held to its headers: {@code result} match or mismatch (refused 400, -32020). */
    void mcpParity(boolean matched) {
        Counter.builder("meshguard_dlp_mcp_parity_total")
                .description("MCP request bodies held to their Mcp-* headers, by result (mismatch is refused)")
                .tag("result", matched ? "match" : "mismatch")
                .register(registry)
                .increment();
    }

    /**
     * A tool held to its pin: {@code changed} or {@code not_pinned} (dropped from a tools/list answer),
     * {@code mcp_tool_not_pinned} or {@code mcp_arguments_invalid} (a tools/call refused 400, -32602).
     */
    void mcpToolPin(String result) {
        Counter.builder("meshguard_dlp_mcp_tool_pins_total")
                .description("MCP tools held to their pins: listed tools dropped (changed, not_pinned) and tool calls "
                        + "refused (mcp_tool_not_pinned, mcp_arguments_invalid)")
                .tag("result", result)
                .register(registry)
                .increment();
    }

    void protocolError(String what) {
        protocolErrorCounter(what).increment();
    }

    private Counter protocolErrorCounter(String what) {
        return Counter.builder("meshguard_dlp_protocol_errors_total")
                .description("ext_proc messages or states the DLP server refused as protocol errors, by kind")
                .tag("kind", what)
                .register(registry);
    }

    void policyReload(boolean ok) {
        policyReloadCounter(ok).increment();
    }

    private Counter policyReloadCounter(boolean ok) {
        return Counter.builder("meshguard_dlp_policy_reloads_total")
                .description("Edits of dlp.yaml: accepted (ok) or refused with the last valid policy kept (invalid)")
                .tag("result", ok ? "ok" : "invalid")
                .register(registry);
    }
}
