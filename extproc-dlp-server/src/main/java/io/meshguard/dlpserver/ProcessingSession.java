package io.meshguard.dlpserver;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.BodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.GrpcStatus;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.HeadersResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ImmediateResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.StreamedBodyResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.TrailersResponse;
import io.envoyproxy.envoy.type.v3.HttpStatus;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.meshguard.dlp.content.JsonText;
import io.meshguard.dlp.content.SseTransformer;
import io.meshguard.dlp.content.Transformers;
import io.meshguard.dlp.mcp.McpParity;
import io.meshguard.dlp.policy.Direction;
import io.meshguard.dlp.policy.DirectionPolicy;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.MediaTypes;
import io.meshguard.dlp.policy.ProfilePath;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ValueHasher;
import io.micrometer.core.instrument.Timer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code Process} stream, i.e. one HTTP request and its response, driven exactly as Envoy drives it: headers,
 * body chunks and trailers per direction, directions interleaved. Every message gets exactly one answer of the
 * matching type, except in FULL_DUPLEX_STREAMED, where body pieces are sent when decided (held-back text waits,
 * and the last piece carries end_of_stream only when the body ended with it).
 */
final class ProcessingSession implements StreamObserver<ProcessingRequest> {
    private static final Logger log = LoggerFactory.getLogger(ProcessingSession.class);
    static final int MAX_PIECE = 64 * 1024;

    private final DlpPolicy policy;
    private final byte[] masterKey;
    private final String keyId;
    private final StreamObserver<ProcessingResponse> responses;
    private final DlpMetrics metrics;
    private final DlpAuditSink audit;
    private final ToolApprovalGate approvals;
    private final Runnable onClose;
    private final StreamSpan trace;
    /** The gRPC status the stream ended with (for the span). */
    private int grpcStatus;

    private BodySendMode requestMode = BodySendMode.UNRECOGNIZED;
    private BodySendMode responseMode = BodySendMode.UNRECOGNIZED;
    private boolean sawFirst;
    private String host = "";
    private String path = "";
    /** The canonical path profiles are chosen on (the one extauthz authorises), or why it is refused. */
    private ProfilePath profilePath = ProfilePath.NONE;

    private String method = "";
    private String requestId = "";
    private String traceId = "";
    private String tenant = "";
    private int status;
    /** Request headers came: false for a stream Envoy opened in ext_proc's encodeHeaders for a local reply. */
    private boolean requestSeen;

    private ValueHasher hasher;
    private DirectionState request;
    private DirectionState response;
    private String requestProfile = "";
    private String responseProfile = "";
    private final Map<String, Integer> findingCounts = new TreeMap<>();
    /**
     * An MCP request's body, held whole until it is held to its MCP headers ({@link McpParity}): no byte of it goes on
     * before; null when the request is not MCP.
     */
    private java.io.ByteArrayOutputStream mcpBody;

    private Map<String, List<String>> mcpHeaders = Map.of();
    /**
     * On a {@code tools/list} whose route lists its tools: the tools extauthz's allow says the caller may call
     * ({@link io.meshguard.contract.OwnedHeaderNames#MCP_TOOLS}), trusted as the identity headers are. Its answer is
     * held whole and listed with those tools only.
     */
    private Optional<String> callableTools = Optional.empty();
    /** The {@code tools/list} answer held until its end, to be cut down to {@link #callableTools}; null otherwise. */
    private java.io.ByteArrayOutputStream toolList;
    /**
     * On a {@code tools/list} (read from its body) of a profile that pins its tools: its answer lists only the tools
     * exactly as pinned.
     */
    private Optional<PinnedListing> pinnedListing = Optional.empty();
    /** The tools a pinned listing dropped, for the decision row ({@link PinnedListing#note()}). */
    private String pinNote = "";

    private String outcome = "pass";
    private String blockNote = "";
    /** The retry's approval reference ({@link ToolApprovalGate#REFERENCE_HEADER}), empty on a first call. */
    private String approvalReference = "";

    private ToolApprovalGate.Identity identity = ToolApprovalGate.Identity.NONE;
    /** An immediate_response was sent: the HTTP stream is over, nothing more is processed. */
    private boolean done;
    /** Response headers were answered in STREAMED/FULL_DUPLEX: the client has them, a local reply is too late. */
    private volatile boolean responseStarted;
    /** The response was blocked after it started: every later response body chunk is swallowed. */
    private boolean responseBlocked;
    /** The last bytes of response body released to the client (to start an error event on a fresh line). */
    private final byte[] releasedTail = new byte[4];

    private int releasedTailLen;
    /** Guarded by {@link #wire}. */
    private boolean closed;

    private final DecoderBudget decoders;
    /** The Envoy route's name, when its config hands one over (empty otherwise). */
    private final String routeName;
    /** The profile the route asks for (empty: chosen by host and path). */
    private final Optional<String> routeProfile;
    /** The route asked for a profile this policy lacks: the stream is refused at its first message. */
    private final Optional<String> unknownProfile;

    private Timer requestTimer;
    private Timer responseTimer;
    private final Transformers.Factory transformers;
    /** The request asked to switch protocols and its profile lets upgrades pass: decided at the response headers. */
    private boolean upgradeRequested;

    private String upgradeProfile = "";
    /** For the audit row: "pass" once frames flow unscanned, "blocked" when the upgrade was refused. */
    private String websocketNote = "";
    /** A gRPC request: local replies carry a grpc-status too. */
    private volatile boolean grpcRequest;

    /** When the stream opened ({@link System#nanoTime}). */
    private final long openedAt = System.nanoTime();
    /** The message being dealt with now (null when idle) and since when: read by {@link StreamDeadlines}. */
    private volatile Phase busyPhase;

    private volatile long busySince;
    /** Set once, by the deadline watch: the phase that ran over, and the stream is over. */
    private volatile Phase expired;
    /** An event-stream response or an upgrade: open as long as the conversation, no whole-stream bound. */
    private volatile boolean longLived;
    /**
     * The tool call approval this stream waits for (under {@link #handling}), looked up on the gate's threads: the
     * handler never holds the stream while the database works. Envoy's messages that come meanwhile wait in
     * {@link #waiting} and are handled in order after the answer; {@link #busyPhase} stays that of the message being
     * decided, so the deadline watch bounds the wait.
     */
    private ToolApprovalGate.Lookup awaiting;

    private final java.util.ArrayDeque<ProcessingRequest> waiting = new java.util.ArrayDeque<>();
    /** Envoy half-closed while an approval was looked up: the stream completes after its answer. */
    private boolean completeAfterAnswer;

    /** Envoy waits for the answer to the body: it has little more to send meanwhile; more is not Envoy's stream. */
    static final int MAX_WAITING = 64;

    /** Every StreamObserver callback holds it: the deadline watch finishes a stream only when no handler runs. */
    private final ReentrantLock handling = new ReentrantLock();
    /** Guards {@link #closed} and every call on {@link #responses} (the handler and the deadline watch both send). */
    private final Object wire = new Object();

    /** What the server is doing for Envoy; the deadline that bounds it. */
    enum Phase {
        REQUEST_HEADERS("headers", Direction.REQUEST),
        REQUEST_BODY("body", Direction.REQUEST),
        REQUEST_TRAILERS("trailers", Direction.REQUEST),
        RESPONSE_HEADERS("headers", Direction.RESPONSE),
        RESPONSE_BODY("body", Direction.RESPONSE),
        RESPONSE_TRAILERS("trailers", Direction.RESPONSE),
        STREAM("stream", null);

        final String label;
        final Direction direction;

        Phase(String label, Direction direction) {
            this.label = label;
            this.direction = direction;
        }

        long limitNanos(PhaseDeadlines d) {
            return switch (label) {
                case "headers" -> d.headers().toNanos();
                case "body" -> d.bodyChunk().toNanos();
                case "trailers" -> d.trailers().toNanos();
                default -> d.stream().toNanos();
            };
        }

        String directionId() {
            return direction == null ? "none" : direction.id();
        }

        /** The audit note: {@code request_body}, {@code stream}, … */
        String note() {
            return direction == null ? label : direction.id() + "_" + label;
        }

        static Phase of(ProcessingRequest req) {
            return switch (req.getRequestCase()) {
                case REQUEST_HEADERS -> REQUEST_HEADERS;
                case REQUEST_BODY -> REQUEST_BODY;
                case REQUEST_TRAILERS -> REQUEST_TRAILERS;
                case RESPONSE_HEADERS -> RESPONSE_HEADERS;
                case RESPONSE_BODY -> RESPONSE_BODY;
                case RESPONSE_TRAILERS -> RESPONSE_TRAILERS;
                default -> null;
            };
        }
    }

    ProcessingSession(
            DlpPolicy policy,
            RouteHint hint,
            byte[] masterKey,
            StreamObserver<ProcessingResponse> responses,
            DlpMetrics metrics,
            DlpAuditSink audit,
            DecoderBudget decoders,
            Transformers.Factory transformers,
            Runnable onClose,
            StreamSpan trace,
            ToolApprovalGate approvals) {
        this.trace = trace;
        this.approvals = approvals;
        this.policy = policy;
        this.transformers = transformers;
        this.decoders = decoders;
        this.routeName = hint.route();
        // A route naming a profile this dlp.yaml lacks (deployed ahead of the policy, or a typo) is refused, never
        // scanned by host and path instead: the route's owner chose that profile (docs/route-contract.md).
        this.unknownProfile = hint.profile().filter(p -> !policy.hasProfile(p));
        this.routeProfile = hint.profile();
        this.masterKey = masterKey;
        this.keyId = keyId(masterKey);
        this.responses = responses;
        this.metrics = metrics;
        this.audit = audit;
        this.onClose = onClose;
        metrics.streamOpened();
    }

    /** The headers phases this stream has seen (each comes once, the request's first): under {@link #handling}. */
    private boolean sawRequestHeaders;

    private boolean sawResponseHeaders;

    @Override
    public void onNext(ProcessingRequest req) {
        handling.lock();
        try {
            if (expired != null) {
                return; // a deadline ended this stream: what Envoy sent before it saw that is not processed
            }
            if (awaiting != null) {
                keepForAfterAnswer(req);
                return;
            }
            handleTimed(req);
        } finally {
            if (awaiting == null) {
                busyPhase = null;
            }
            handling.unlock();
        }
        finishIfExpired(); // the watch answered Envoy while this thread was stalled: clean up now
    }

    /** A message that came while an approval is looked up: handled after the answer, in order. */
    private void keepForAfterAnswer(ProcessingRequest req) {
        if (waiting.size() >= MAX_WAITING) {
            metrics.protocolError("too_many_while_waiting");
            log.warn(
                    "ext_proc sent {} messages while a tool approval was looked up request_id={}",
                    MAX_WAITING,
                    requestId);
            fail(Status.RESOURCE_EXHAUSTED.withDescription("too many messages while a tool approval is looked up"));
            return;
        }
        waiting.add(req);
    }

    private void handleTimed(ProcessingRequest req) {
        Phase phase = Phase.of(req);
        if (phase != null) {
            busySince = System.nanoTime();
            busyPhase = phase;
        }
        handle(req);
    }

    /**
     * On the gate's answer thread: the approval {@code lookup} decided. The stream answers the message it was decided
     * for, then what Envoy sent meanwhile, in order. A stream that ended meanwhile (reset, deadline, failure) answers
     * nothing: it abandoned the lookup when it ended, whose transaction rolled back.
     */
    private void resume(ToolApprovalGate.Lookup lookup, Runnable answer) {
        handling.lock();
        try {
            if (awaiting != lookup) {
                return;
            }
            awaiting = null;
            try {
                answer.run();
            } catch (RuntimeException e) {
                log.error("ext_proc stream failed request_id={}", requestId, e);
                metrics.protocolError("internal");
                outcome = "error";
                fail(Status.INTERNAL.withDescription("DLP processing failed"));
            }
            while (awaiting == null && expired == null && !waiting.isEmpty()) {
                handleTimed(waiting.poll());
            }
            if (awaiting == null && expired == null && completeAfterAnswer) {
                complete();
            }
        } finally {
            if (awaiting == null) {
                busyPhase = null;
            }
            handling.unlock();
        }
        finishIfExpired();
    }

    /**
     * Finishes a stream the deadline watch ended, from whichever thread gets the handling lock after the watch's
     * answer: the handler that was stalled (after it let go of the lock), or the watch itself when no handler runs.
     * Both look after their own write (the watch: {@link #expired}; the handler: the unlock), so one of them does it.
     */
    private void finishIfExpired() {
        if (expired != null && handling.tryLock()) {
            try {
                finish("deadline");
            } finally {
                handling.unlock();
            }
        }
    }

    private void handle(ProcessingRequest req) {
        if (!sawFirst) {
            sawFirst = true;
            if (req.hasProtocolConfig()) {
                requestMode = req.getProtocolConfig().getRequestBodyMode();
                responseMode = req.getProtocolConfig().getResponseBodyMode();
            }
        }
        if (req.getObservabilityMode()) {
            metrics.protocolError("observability_mode");
            return; // answers are ignored in observability mode; DLP cannot mask there
        }
        if (headersOutOfOrder(req)) {
            // Envoy sends each direction's headers once, the request's before the response's. Anything else is not
            // Envoy's stream: answering it would re-select the profile mid-stream (or answer a phase Envoy is not
            // waiting for, which Envoy up to 1.34 ignores and resumes unprocessed), so the stream fails closed.
            metrics.protocolError("phase_out_of_order");
            log.warn("ext_proc headers out of order request_id={}: failing the stream", requestId);
            fail(Status.INVALID_ARGUMENT.withDescription("headers phase out of order"));
            return;
        }
        if (done) {
            // After a block: FULL_DUPLEX bodies are swallowed; trailers still get their answer.
            if (req.hasRequestTrailers()) {
                send(ProcessingResponse.newBuilder()
                        .setRequestTrailers(TrailersResponse.getDefaultInstance())
                        .build());
            } else if (req.hasResponseTrailers()) {
                send(ProcessingResponse.newBuilder()
                        .setResponseTrailers(TrailersResponse.getDefaultInstance())
                        .build());
            }
            return;
        }
        if (unknownProfile.isPresent()) {
            if (req.hasRequestHeaders()) {
                readRequest(headers(req.getRequestHeaders()));
            }
            refuseUnknownProfile(unknownProfile.get());
            return;
        }
        if (responseBlocked && (req.hasResponseBody() || req.hasResponseTrailers())) {
            swallowResponse(req);
            return;
        }
        try {
            switch (req.getRequestCase()) {
                case REQUEST_HEADERS -> requestHeaders(req.getRequestHeaders());
                case RESPONSE_HEADERS -> responseHeaders(req.getResponseHeaders());
                case REQUEST_BODY -> body(Direction.REQUEST, req.getRequestBody());
                case RESPONSE_BODY -> body(Direction.RESPONSE, req.getResponseBody());
                case REQUEST_TRAILERS -> trailers(Direction.REQUEST);
                case RESPONSE_TRAILERS -> trailers(Direction.RESPONSE);
                default -> {
                    metrics.protocolError("unknown_message");
                    fail(Status.INVALID_ARGUMENT.withDescription("unknown ProcessingRequest"));
                }
            }
        } catch (RuntimeException e) {
            // Fail closed: Envoy turns a gRPC error into a local reply (failure_mode_allow must be off for DLP).
            log.error("ext_proc stream failed request_id={}", requestId, e);
            metrics.protocolError("internal");
            outcome = "error";
            fail(Status.INTERNAL.withDescription("DLP processing failed"));
        }
    }

    /** True for a second headers message of one direction, or the request's headers after the response's. */
    private boolean headersOutOfOrder(ProcessingRequest req) {
        if (req.hasRequestHeaders()) {
            if (sawRequestHeaders || sawResponseHeaders) {
                return true;
            }
            sawRequestHeaders = true;
        } else if (req.hasResponseHeaders()) {
            if (sawResponseHeaders) {
                return true;
            }
            sawResponseHeaders = true;
        }
        return false;
    }

    private void requestHeaders(HttpHeaders h) {
        Map<String, String> headers = headers(h);
        readRequest(headers);
        hasher = ValueHasher.forTenant(masterKey, tenant);
        String contentType = headers.getOrDefault("content-type", "");
        grpcRequest = MediaTypes.isGrpc(contentType);
        if (profilePath.refused() && routeProfile.isEmpty()) {
            refuseInvalidPath(profilePath.problem().get());
            return;
        }
        var selected = policy.select(Direction.REQUEST, routeProfile, host, profilePath.path(), contentType);
        requestProfile = selected.map(p -> p.profile()).orElse("");
        request = new DirectionState(
                Direction.REQUEST,
                selected,
                contentType,
                headers.getOrDefault("content-encoding", ""),
                headers.containsKey("content-length"),
                hasher,
                listener(Direction.REQUEST),
                metrics,
                decoders,
                transformers);
        if (!h.getEndOfStream()) {
            request.bodyFollows();
            mcpHeaders = mcpHeaders(h);
            if (!mcpHeaders.isEmpty() || policy.servesMcp(routeProfile, host, profilePath.path())) {
                mcpBody = new java.io.ByteArrayOutputStream();
            }
            if (listsTools(mcpHeaders)) {
                callableTools = Optional.ofNullable(headers.get(io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS));
            }
        }
        if (UpgradeRequest.isUpgrade(h)) {
            Optional<DlpPolicy.Profile> profile = policy.upgradeProfile(routeProfile, host, profilePath.path());
            upgradeProfile = profile.map(DlpPolicy.Profile::name).orElse("none");
            if (profile.isPresent() && profile.get().websocket() == DirectionPolicy.Disposition.BLOCK) {
                metrics.websocket(upgradeProfile, "block");
                websocketNote = "blocked";
                block(Direction.REQUEST, BlockDecision.because("websocket"), At.HEADERS, false);
                return;
            }
            // Until the upstream agrees (101), this is an ordinary request: anything before that is scanned.
            upgradeRequested = true;
        }
        Optional<BlockDecision> block = h.getEndOfStream() ? Optional.empty() : request.headerBlock();
        if (block.isPresent()) {
            block(Direction.REQUEST, block.get(), At.HEADERS, false);
            return;
        }
        HeaderMutation.Builder mutation = HeaderMutation.newBuilder();
        if (!h.getEndOfStream() && request.scans()) {
            bodyHeaderMutations(request, requestMode, mutation);
        }
        if (policy.scansResponses(routeProfile, host, profilePath.path())
                || callableTools.isPresent()
                || toolPins().isPresent()) {
            // Ask the upstream for an identity response so the response body can be scanned as it streams.
            mutation.addSetHeaders(header("accept-encoding", "identity"));
        }
        if (headers.containsKey(io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS)) {
            // extauthz's list of the caller's callable tools is for this server: the MCP server learns nothing of
            // the caller's grants from it
            mutation.addRemoveHeaders(io.meshguard.contract.OwnedHeaderNames.MCP_TOOLS);
        }
        send(ProcessingResponse.newBuilder()
                .setRequestHeaders(HeadersResponse.newBuilder()
                        .setResponse(CommonResponse.newBuilder().setHeaderMutation(mutation)))
                .build());
    }

    /** What the audit rows and logs say about the request. */
    private void readRequest(Map<String, String> headers) {
        requestSeen = true;
        trace.requestHeaders(headers);
        host = headers.getOrDefault(":authority", headers.getOrDefault("host", ""));
        path = headers.getOrDefault(":path", "");
        profilePath = ProfilePath.of(path);
        method = headers.getOrDefault(":method", "");
        requestId = headers.getOrDefault("x-request-id", "");
        approvalReference = headers.getOrDefault(ToolApprovalGate.REFERENCE_HEADER, "");
        identity = ToolApprovalGate.Identity.of(headers, policy.identityHeaders());
        traceId = traceId(headers);
        tenant = headers.getOrDefault(policy.tenantHeader(), "");
    }

    private void responseHeaders(HttpHeaders h) {
        Map<String, String> headers = headers(h);
        if (hasher == null) {
            hasher = ValueHasher.forTenant(masterKey, tenant);
        }
        try {
            status = Integer.parseInt(headers.getOrDefault(":status", "0"));
        } catch (NumberFormatException e) {
            status = 0;
        }
        if (upgradeRequested && switchedProtocols(status)) {
            // No header change at all: the 101 goes to the client as the upstream sent it.
            send(ProcessingResponse.newBuilder()
                    .setResponseHeaders(HeadersResponse.getDefaultInstance())
                    .build());
            responseStarted = true;
            return;
        }
        String contentType = headers.getOrDefault("content-type", "");
        var selected = policy.select(Direction.RESPONSE, routeProfile, host, profilePath.path(), contentType);
        responseProfile = selected.map(p -> p.profile()).orElse("");
        if (MediaTypes.kind(contentType) == MediaTypes.Kind.EVENT_STREAM) {
            longLived = true;
        }
        response = new DirectionState(
                Direction.RESPONSE,
                selected,
                contentType,
                headers.getOrDefault("content-encoding", ""),
                headers.containsKey("content-length"),
                hasher,
                listener(Direction.RESPONSE),
                metrics,
                decoders,
                transformers);
        if (!h.getEndOfStream()) {
            response.bodyFollows();
        }
        Optional<BlockDecision> block = h.getEndOfStream() ? Optional.empty() : response.headerBlock();
        if (block.isPresent()) {
            block(Direction.RESPONSE, block.get(), At.HEADERS, false);
            return;
        }
        HeaderMutation.Builder mutation = HeaderMutation.newBuilder();
        if (!h.getEndOfStream() && response.scans()) {
            bodyHeaderMutations(response, responseMode, mutation);
        }
        if (!h.getEndOfStream() && mcpBody != null && toolPins().isPresent()) {
            // an answer before its request was read: whether it lists tools is not known, so it is not passed
            block(Direction.RESPONSE, BlockDecision.because("mcp_tools_list"), At.HEADERS, false);
            return;
        }
        if (!h.getEndOfStream() && (callableTools.isPresent() || pinnedListing.isPresent())) {
            toolList = new java.io.ByteArrayOutputStream();
            if (!mutation.getRemoveHeadersList().contains("content-length")) {
                // the listed tools are fewer than the answer's: its length changes
                mutation.addRemoveHeaders("content-length");
            }
        }
        send(ProcessingResponse.newBuilder()
                .setResponseHeaders(HeadersResponse.newBuilder()
                        .setResponse(CommonResponse.newBuilder().setHeaderMutation(mutation)))
                .build());
        // In STREAMED and FULL_DUPLEX_STREAMED Envoy sends the headers on to the client with this answer (BUFFERED
        // and BUFFERED_PARTIAL hold them for the body): from now on a block can no longer be a clean local reply.
        responseStarted = responseMode == BodySendMode.STREAMED || responseMode == BodySendMode.FULL_DUPLEX_STREAMED;
    }

    /**
     * The upstream accepted the upgrade: 101 Switching Protocols (HTTP/1.1, and what Envoy hands over for an HTTP/2
     * extended CONNECT too), or a 2xx to a CONNECT. From here both directions carry frames, not bodies: they go on
     * unscanned and unchanged, counted. Any other status is an ordinary response and is scanned as one.
     */
    private boolean switchedProtocols(int status) {
        if (status != 101 && !(method.equalsIgnoreCase("CONNECT") && status >= 200 && status < 300)) {
            return false;
        }
        longLived = true;
        websocketNote = "pass";
        metrics.websocket(upgradeProfile, upgradeProfile.equals("none") ? "no_profile" : "pass");
        request.close();
        request = DirectionState.passing(Direction.REQUEST, "websocket", metrics, decoders);
        response = DirectionState.passing(Direction.RESPONSE, "websocket", metrics, decoders);
        return true;
    }

    /**
     * Header changes a scanned body needs before its first byte goes out. A compressed body (gzip, deflate, br,
     * zstd) goes on decoded, as identity, never re-encoded: content-encoding is removed, and so is content-length
     * (a BUFFERED body gets the new length set with its body instead). Re-compressing would cost CPU on every chunk
     * and hold bytes back in the encoder; the client that wants compression gets it from Envoy's compressor filter
     * placed before ext_proc, and upstreams were asked for identity anyway ({@code accept-encoding}).
     */
    private static void bodyHeaderMutations(DirectionState state, BodySendMode mode, HeaderMutation.Builder m) {
        // A body decoded from its declared charset goes on as UTF-8, and says so.
        state.rewrittenContentType().ifPresent(ct -> m.addSetHeaders(header("content-type", ct)));
        if (state.decodes()) {
            m.addRemoveHeaders("content-encoding");
            m.addRemoveHeaders("content-length");
        } else if (mode != BodySendMode.BUFFERED) {
            // Streamed bodies may change length; BUFFERED sets the new length with the body instead.
            m.addRemoveHeaders("content-length");
        }
    }

    private void body(Direction d, HttpBody body) {
        DirectionState state = d == Direction.REQUEST ? request : response;
        BodySendMode mode = d == Direction.REQUEST ? requestMode : responseMode;
        if (state == null) {
            // Body without headers (header mode SKIP): scan as text with the host/path-independent profile.
            state = new DirectionState(
                    d,
                    policy.select(d, routeProfile, host, profilePath.path(), ""),
                    "",
                    "",
                    false,
                    hasher == null ? ValueHasher.forTenant(masterKey, tenant) : hasher,
                    listener(d),
                    metrics,
                    decoders,
                    transformers);
            if (d == Direction.REQUEST) {
                request = state;
            } else {
                response = state;
            }
        }
        if (d == Direction.REQUEST && mcpBody != null) {
            mcpRequestBody(state, mode, body);
            return;
        }
        if (d == Direction.RESPONSE && toolList != null) {
            toolListBody(state, mode, body);
            return;
        }
        if (!state.scans()) {
            passThrough(d, state, mode, body);
            return;
        }
        boolean duplex = mode == BodySendMode.FULL_DUPLEX_STREAMED;
        boolean wholeBody = mode == BodySendMode.BUFFERED;
        // BUFFERED_PARTIAL: a message without end_of_stream means Envoy's buffer limit was reached, and the rest of
        // the body goes on without passing here. This message is all we will see: it is scanned to its end (nothing
        // held back, which would be lost), and the unseen rest is oversize as far as the policy is concerned.
        boolean cut = mode == BodySendMode.BUFFERED_PARTIAL && !body.getEndOfStream();
        if (cut) {
            Optional<BlockDecision> refuse = state.cutByEnvoy();
            if (refuse.isPresent()) {
                block(d, refuse.get(), At.BODY, false);
                return;
            }
        }
        boolean end = body.getEndOfStream() || wholeBody || cut;
        long started = System.nanoTime();
        byte[] out;
        try {
            out = state.body(body.getBody(), end);
        } catch (BlockedException e) {
            block(d, e.decision(), At.BODY, body.getEndOfStream());
            return;
        } finally {
            chunkTimer(d, mode).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        }
        if (duplex) {
            sendPieces(d, out, body.getEndOfStream());
            return;
        }
        CommonResponse.Builder common = CommonResponse.newBuilder();
        {
            // This message was scanned (a body sniffed as binary may stop scanning after it, but its own output
            // still replaces it). out is a new array nobody changes afterwards: wrapping it saves a copy per chunk.
            common.setBodyMutation(BodyMutation.newBuilder().setBody(UnsafeByteOperations.unsafeWrap(out)));
            if (end && !cut && state.hadContentLength && mode != BodySendMode.STREAMED && state.changed()) {
                // BUFFERED with header mode SEND keeps content-length: it must match the new body exactly.
                common.setHeaderMutation(HeaderMutation.newBuilder()
                        .addSetHeaders(header("content-length", Integer.toString(out.length))));
            }
        }
        if (d == Direction.RESPONSE) {
            released(out, 0, out.length);
        }
        BodyResponse br = BodyResponse.newBuilder().setResponse(common).build();
        send(
                d == Direction.REQUEST
                        ? ProcessingResponse.newBuilder().setRequestBody(br).build()
                        : ProcessingResponse.newBuilder().setResponseBody(br).build());
    }

    /**
     * An MCP request body: held until its end (each earlier chunk answered with nothing), then held to the request's
     * MCP headers — a disagreement is answered 400 with JSON-RPC error -32020 and nothing reaches the server — and
     * only then scanned with the route's profile like any JSON body (tool arguments are its text fields) and sent on
     * whole with the last chunk's answer.
     */
    private void mcpRequestBody(DirectionState state, BodySendMode mode, HttpBody body) {
        boolean cut = mode == BodySendMode.BUFFERED_PARTIAL && !body.getEndOfStream();
        if (cut || mcpBody.size() + body.getBody().size() > MAX_MCP_BODY) {
            mcpBody = null;
            metrics.mcpParity(false);
            refuseMcp(new McpParity.Verdict(Optional.of("the body is too large to hold to its headers"), "null"));
            return;
        }
        mcpBody.writeBytes(body.getBody().toByteArray());
        boolean end = body.getEndOfStream() || mode == BodySendMode.BUFFERED;
        if (!end) {
            if (mode != BodySendMode.FULL_DUPLEX_STREAMED) {
                send(ProcessingResponse.newBuilder()
                        .setRequestBody(BodyResponse.newBuilder()
                                .setResponse(CommonResponse.newBuilder()
                                        .setBodyMutation(
                                                BodyMutation.newBuilder().setBody(ByteString.EMPTY))))
                        .build());
            }
            return;
        }
        byte[] whole = mcpBody.toByteArray();
        mcpBody = null;
        long started = System.nanoTime();
        McpParity.Verdict verdict = McpParity.check(mcpHeaders, whole);
        if (!verdict.passes()) {
            metrics.mcpParity(false);
            refuseMcp(verdict);
            return;
        }
        metrics.mcpParity(true);
        Optional<io.meshguard.dlp.mcp.ToolPins> pins = toolPins();
        if (pins.isPresent()) {
            // before the scan: the arguments the agent sent are what the schema judges, not their masked form
            Optional<io.meshguard.dlp.mcp.ToolPins.Refusal> refused = pins.get().check(whole);
            if (refused.isPresent()) {
                metrics.mcpToolPin(refused.get().code());
                refuseToolCall(refused.get());
                return;
            }
            if (io.meshguard.dlp.mcp.ToolPins.listsTools(whole)) {
                pinnedListing = Optional.of(new PinnedListing(pins.get()));
            }
        }
        Optional<byte[]> scanned = heldBody(state, Direction.REQUEST, mode, whole, started);
        if (scanned.isEmpty()) {
            return;
        }
        byte[] out = scanned.get();
        Optional<DlpPolicy.Profile> profile = policy.upgradeProfile(routeProfile, host, profilePath.path());
        if (profile.flatMap(DlpPolicy.Profile::mcpApproval).isPresent()) {
            ToolApprovalGate.Lookup lookup = approvals.decide(
                    profile.get().mcpApproval().get(),
                    policy.version(),
                    routeName.isEmpty() ? host + profilePath.path() : routeName,
                    identity,
                    approvalReference,
                    whole,
                    out);
            int wholeLength = whole.length;
            if (!lookup.answer().isDone()) {
                awaiting = lookup;
                lookup.answer()
                        .whenCompleteAsync(
                                (held, error) -> resume(lookup, () -> {
                                    if (error != null) {
                                        throw new IllegalStateException("tool approval lookup failed", error);
                                    }
                                    approvalDecided(held, state, mode, wholeLength, out);
                                }),
                                approvals.answers());
                return;
            }
            approvalDecided(lookup.answer().join(), state, mode, wholeLength, out);
            return;
        }
        forwardMcpBody(state, mode, whole.length, out);
    }

    private void approvalDecided(
            Optional<ToolApprovalGate.Answer> held,
            DirectionState state,
            BodySendMode mode,
            int wholeLength,
            byte[] out) {
        if (held.isPresent()) {
            refuseHeldCall(held.get());
            return;
        }
        forwardMcpBody(state, mode, wholeLength, out);
    }

    /** The MCP request body, held to its headers and scanned, goes on whole with the last chunk's answer. */
    private void forwardMcpBody(DirectionState state, BodySendMode mode, int wholeLength, byte[] out) {
        if (mode == BodySendMode.FULL_DUPLEX_STREAMED) {
            sendPieces(Direction.REQUEST, out, true);
            return;
        }
        CommonResponse.Builder common = CommonResponse.newBuilder()
                .setBodyMutation(BodyMutation.newBuilder().setBody(UnsafeByteOperations.unsafeWrap(out)));
        if (state.hadContentLength && mode == BodySendMode.BUFFERED && out.length != wholeLength) {
            common.setHeaderMutation(
                    HeaderMutation.newBuilder().addSetHeaders(header("content-length", Integer.toString(out.length))));
        }
        send(ProcessingResponse.newBuilder()
                .setRequestBody(BodyResponse.newBuilder().setResponse(common))
                .build());
    }

    /**
     * A body held whole, scanned with its direction's profile (or counted as passed where the profile does not scan);
     * empty when the scan blocked it (the block is answered). {@code started}: when the work on it began, for the chunk
     * timer.
     */
    private Optional<byte[]> heldBody(
            DirectionState state, Direction d, BodySendMode mode, byte[] whole, long started) {
        if (!state.scans()) {
            state.passed(whole.length, true);
            return Optional.of(whole);
        }
        try {
            return Optional.of(state.body(whole, true));
        } catch (BlockedException e) {
            block(d, e.decision(), At.BODY, true);
            return Optional.empty();
        } finally {
            chunkTimer(d, mode).record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        }
    }

    /** Whether the request is an MCP {@code tools/list} (its method header, which parity holds to the body). */
    private static boolean listsTools(Map<String, List<String>> mcpHeaders) {
        List<String> method = mcpHeaders.getOrDefault(io.meshguard.contract.McpHeaders.METHOD, List.of());
        return method.size() == 1
                && io.meshguard.contract.McpHeaders.decode(method.get(0))
                        .filter("tools/list"::equals)
                        .isPresent();
    }

    /**
     * A {@code tools/list} answer: held until its end (each earlier chunk answered with nothing), scanned with the
     * response's profile, then sent on listing only the tools the caller may call. An answer that cannot be cut down
     * for certain (not JSON-RPC, too large, an unreadable allowed list) is refused: the client sees no tool of it.
     */
    private void toolListBody(DirectionState state, BodySendMode mode, HttpBody body) {
        boolean cut = mode == BodySendMode.BUFFERED_PARTIAL && !body.getEndOfStream();
        if (cut || toolList.size() + body.getBody().size() > MAX_MCP_BODY) {
            toolList = null;
            block(Direction.RESPONSE, BlockDecision.because("mcp_tools_list"), At.BODY, body.getEndOfStream());
            return;
        }
        toolList.writeBytes(body.getBody().toByteArray());
        boolean end = body.getEndOfStream() || mode == BodySendMode.BUFFERED;
        if (!end) {
            if (mode != BodySendMode.FULL_DUPLEX_STREAMED) {
                sendEmptyBody(false);
            }
            return;
        }
        byte[] whole = toolList.toByteArray();
        toolList = null;
        Optional<byte[]> scanned = heldBody(state, Direction.RESPONSE, mode, whole, System.nanoTime());
        if (scanned.isEmpty()) {
            return;
        }
        Optional<Set<String>> allowed = callableTools.isPresent()
                ? io.meshguard.dlp.mcp.McpToolList.allowed(callableTools.get())
                : Optional.empty();
        Optional<byte[]> listed = callableTools.isPresent() && allowed.isEmpty()
                ? Optional.empty()
                : io.meshguard.dlp.mcp.McpToolList.filter(
                        scanned.get(), state.kind == MediaTypes.Kind.EVENT_STREAM, tool -> {
                            // every tool is held to its pin, also one the caller may not see: a changed tool is news
                            boolean pinned =
                                    pinnedListing.map(p -> p.shows(tool)).orElse(true);
                            return pinned
                                    && allowed.map(a ->
                                                    a.contains(tool.get("name").textValue()))
                                            .orElse(true);
                        });
        pinnedListing.ifPresent(this::pinnedToolsDropped);
        if (listed.isEmpty()) {
            log.warn("dlp refused a tools/list answer it cannot list the caller's tools of request_id={}", requestId);
            block(Direction.RESPONSE, BlockDecision.because("mcp_tools_list"), At.BODY, true);
            return;
        }
        byte[] out = listed.get();
        if (mode == BodySendMode.FULL_DUPLEX_STREAMED) {
            sendPieces(Direction.RESPONSE, out, true);
            return;
        }
        released(out, 0, out.length);
        replaceResponseChunk(out);
    }

    /** Answers a STREAMED or BUFFERED response chunk with {@code out} in its place (a new array nobody changes). */
    private void replaceResponseChunk(byte[] out) {
        send(ProcessingResponse.newBuilder()
                .setResponseBody(BodyResponse.newBuilder()
                        .setResponse(CommonResponse.newBuilder()
                                .setBodyMutation(
                                        BodyMutation.newBuilder().setBody(UnsafeByteOperations.unsafeWrap(out)))))
                .build());
    }

    /** Each tool a pinned listing dropped: logged (names and digests), counted, and noted on the decision row. */
    private void pinnedToolsDropped(PinnedListing listing) {
        for (io.meshguard.dlp.mcp.ToolPins.Review r : listing.dropped()) {
            metrics.mcpToolPin(PinnedListing.standing(r));
            log.warn(
                    "event=mcp_tool_changed dlp dropped a tool listed {} tool={} pinned={} listed={} route={} request_id={}",
                    r.standing() == io.meshguard.dlp.mcp.ToolPins.Standing.CHANGED ? "unlike its pin" : "without a pin",
                    r.tool(),
                    r.pinned().orElse("none"),
                    r.listed(),
                    routeName,
                    requestId);
        }
        pinNote = listing.note();
    }

    /** The profile's pinned tools, when it pins them. */
    private Optional<io.meshguard.dlp.mcp.ToolPins> toolPins() {
        return policy.upgradeProfile(routeProfile, host, profilePath.path()).flatMap(DlpPolicy.Profile::mcpPins);
    }

    /** An MCP request body larger than this is refused: JSON-RPC requests are small, and the whole body is held. */
    static final int MAX_MCP_BODY = 4 * 1024 * 1024;

    /** 400 with a JSON-RPC HeaderMismatch error: the MCP server behind never sees the request's body. */
    private void refuseMcp(McpParity.Verdict verdict) {
        log.warn(
                "dlp refused MCP request: {} route={} request_id={}",
                verdict.problem().orElse(""),
                routeName,
                requestId);
        refuseMcpRequest("mcp_header_mismatch", 400, verdict.errorBody());
    }

    /**
     * A tool call that does not run now: held for approval (403 with the reference), or a retry whose approval does not
     * hold. Nothing of the body reaches the MCP server; the stream's decision row carries the code.
     */
    private void refuseHeldCall(ToolApprovalGate.Answer answer) {
        log.warn("dlp held MCP tool call: {} route={} request_id={}", answer.code(), routeName, requestId);
        refuseMcpRequest(answer.code(), answer.status(), answer.body());
    }

    /**
     * 400 with JSON-RPC "Invalid params": a call of a tool the profile does not pin, or with arguments its pinned schema
     * refuses. The MCP server never sees the body.
     */
    private void refuseToolCall(io.meshguard.dlp.mcp.ToolPins.Refusal refusal) {
        log.warn("dlp refused MCP tool call: {} route={} request_id={}", refusal.problem(), routeName, requestId);
        refuseMcpRequest(refusal.code(), 400, refusal.errorBody());
    }

    /**
     * Answers an MCP request in Envoy's place with a JSON-RPC error body: the request is blocked with {@code code} (its
     * decision row, metric and span say so) and no byte of its body goes on.
     */
    private void refuseMcpRequest(String code, int status, String jsonRpcError) {
        done = true;
        outcome = "blocked";
        blockNote = "request:" + code;
        metrics.blocked(Direction.REQUEST.id(), code);
        trace.blocked(Direction.REQUEST, code, "");
        send(ProcessingResponse.newBuilder()
                .setImmediateResponse(ImmediateResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCodeValue(status))
                        .setHeaders(
                                HeaderMutation.newBuilder().addSetHeaders(header("content-type", "application/json")))
                        .setBody(ByteString.copyFromUtf8(jsonRpcError))
                        .setDetails("meshguard_dlp_" + code))
                .build());
    }

    /** Every MCP header line of the request, by lower-case name, all values in order (repeats must be seen). */
    static Map<String, List<String>> mcpHeaders(HttpHeaders h) {
        Map<String, List<String>> out = null;
        for (HeaderValue v : h.getHeaders().getHeadersList()) {
            String key = v.getKey().toLowerCase(Locale.ROOT);
            if (!io.meshguard.contract.McpHeaders.isMcpHeader(key)) {
                continue;
            }
            if (out == null) {
                out = new TreeMap<>();
            }
            out.computeIfAbsent(key, k -> new java.util.ArrayList<>(1))
                    .add(
                            v.getRawValue().isEmpty()
                                    ? v.getValue()
                                    : v.getRawValue().toStringUtf8());
        }
        return out == null ? Map.of() : out;
    }

    /**
     * A body this direction does not scan (non-text or gRPC passed by policy, WebSocket frames, no profile) goes on
     * with the least work: its size is counted, nothing is decoded or copied. Under FULL_DUPLEX_STREAMED Envoy still
     * sends every chunk here, because it ignores {@code mode_override} in that mode ("Mode override is not supported
     * if the body send mode is FULL_DUPLEX_STREAMED", {@code source/extensions/filters/http/ext_proc/ext_proc.cc}),
     * so the chunk is answered with the very bytes that came (the same ByteString: only the protobuf's own
     * serialisation touches them). In the other modes an answer without a mutation lets Envoy send its own copy.
     */
    private void passThrough(Direction d, DirectionState state, BodySendMode mode, HttpBody body) {
        if (state.plan() == DirectionState.Plan.BLOCK) {
            // A body after headers that were refused can only come from a confused peer: refused again.
            block(d, state.headerBlock().orElse(BlockDecision.because("non_text")), At.BODY, body.getEndOfStream());
            return;
        }
        state.passed(body.getBody().size(), body.getEndOfStream());
        BodyResponse br;
        if (mode == BodySendMode.FULL_DUPLEX_STREAMED) {
            if (body.getBody().isEmpty() && !body.getEndOfStream()) {
                return; // nothing to hand on
            }
            br = BodyResponse.newBuilder()
                    .setResponse(CommonResponse.newBuilder()
                            .setBodyMutation(BodyMutation.newBuilder()
                                    .setStreamedResponse(StreamedBodyResponse.newBuilder()
                                            .setBody(body.getBody())
                                            .setEndOfStream(body.getEndOfStream()))))
                    .build();
        } else {
            br = PASS_BODY;
        }
        send(
                d == Direction.REQUEST
                        ? ProcessingResponse.newBuilder().setRequestBody(br).build()
                        : ProcessingResponse.newBuilder().setResponseBody(br).build());
    }

    private static final BodyResponse PASS_BODY = BodyResponse.newBuilder()
            .setResponse(CommonResponse.getDefaultInstance())
            .build();

    /** Remembers the end of what the client has been sent of the response body: {@code b[off, off + len)}. */
    private void released(byte[] b, int off, int len) {
        int n = Math.min(len, releasedTail.length);
        if (n == 0) {
            return;
        }
        int keep = Math.min(releasedTailLen, releasedTail.length - n);
        System.arraycopy(releasedTail, releasedTailLen - keep, releasedTail, 0, keep);
        System.arraycopy(b, off + len - n, releasedTail, keep, n);
        releasedTailLen = keep + n;
    }

    /** The chunk timer of a direction, looked up once per stream (the mode is fixed by the first message). */
    private Timer chunkTimer(Direction d, BodySendMode mode) {
        if (d == Direction.REQUEST) {
            if (requestTimer == null) {
                requestTimer = metrics.chunkTimer(d.id(), modeName(mode));
            }
            return requestTimer;
        }
        if (responseTimer == null) {
            responseTimer = metrics.chunkTimer(d.id(), modeName(mode));
        }
        return responseTimer;
    }

    /** True when the released response body ends between two SSE events (or nothing was released). */
    private boolean releasedAtEventBoundary() {
        if (releasedTailLen == 0) {
            return true;
        }
        String t = new String(releasedTail, 0, releasedTailLen, StandardCharsets.ISO_8859_1);
        return t.endsWith("\n\n") || t.endsWith("\r\r") || t.endsWith("\r\n\r\n");
    }

    /**
     * After a block of a started response: the rest of the body never reaches the client. Each later chunk is
     * answered with an empty body (STREAMED needs one answer per chunk; in FULL_DUPLEX the empty piece carries
     * end_of_stream when Envoy's chunk did, which ends the client's stream cleanly), trailers get their answer.
     */
    private void swallowResponse(ProcessingRequest req) {
        if (req.hasResponseTrailers()) {
            send(ProcessingResponse.newBuilder()
                    .setResponseTrailers(TrailersResponse.getDefaultInstance())
                    .build());
            return;
        }
        HttpBody body = req.getResponseBody();
        if (response != null) {
            metrics.unscanned(Direction.RESPONSE.id(), "blocked", body.getBody().size());
        }
        sendEmptyBody(body.getEndOfStream());
    }

    private void sendEmptyBody(boolean endOfStream) {
        if (responseMode == BodySendMode.FULL_DUPLEX_STREAMED) {
            // FULL_DUPLEX takes any number of pieces; one empty piece per swallowed chunk keeps the answers in step
            // with upstream, and the last one carries end_of_stream exactly when Envoy's chunk did.
            BodyResponse br = BodyResponse.newBuilder()
                    .setResponse(CommonResponse.newBuilder()
                            .setBodyMutation(BodyMutation.newBuilder()
                                    .setStreamedResponse(
                                            StreamedBodyResponse.newBuilder().setEndOfStream(endOfStream))))
                    .build();
            send(ProcessingResponse.newBuilder().setResponseBody(br).build());
        } else {
            send(ProcessingResponse.newBuilder()
                    .setResponseBody(BodyResponse.newBuilder()
                            .setResponse(CommonResponse.newBuilder()
                                    .setBodyMutation(BodyMutation.newBuilder().setBody(ByteString.EMPTY))))
                    .build());
        }
    }

    private void sendPieces(Direction d, byte[] out, boolean endOfStream) {
        if (out.length == 0 && !endOfStream) {
            return; // nothing decided yet: FULL_DUPLEX needs no answer per message
        }
        int at = 0;
        do {
            int n = Math.min(MAX_PIECE, out.length - at);
            boolean last = at + n == out.length;
            // out is a new array nobody changes afterwards: pieces wrap it instead of copying.
            StreamedBodyResponse piece = StreamedBodyResponse.newBuilder()
                    .setBody(UnsafeByteOperations.unsafeWrap(out, at, n))
                    .setEndOfStream(last && endOfStream)
                    .build();
            if (d == Direction.RESPONSE) {
                released(out, at, n);
            }
            BodyResponse br = BodyResponse.newBuilder()
                    .setResponse(CommonResponse.newBuilder()
                            .setBodyMutation(BodyMutation.newBuilder().setStreamedResponse(piece)))
                    .build();
            send(
                    d == Direction.REQUEST
                            ? ProcessingResponse.newBuilder().setRequestBody(br).build()
                            : ProcessingResponse.newBuilder()
                                    .setResponseBody(br)
                                    .build());
            at += n;
        } while (at < out.length);
    }

    private void trailers(Direction d) {
        if (d == Direction.REQUEST && mcpBody != null) {
            // JSON-RPC over HTTP has no trailers; a body that ends in them was never seen whole here
            mcpBody = null;
            metrics.mcpParity(false);
            refuseMcp(new McpParity.Verdict(Optional.of("the body ends in trailers"), "null"));
            return;
        }
        if (d == Direction.RESPONSE && toolList != null) {
            // a tools/list answer that ends in trailers was never seen whole: none of its tools reaches the client
            toolList = null;
            if (!block(d, BlockDecision.because("mcp_tools_list"), At.TRAILERS, false)) {
                return;
            }
        }
        DirectionState state = d == Direction.REQUEST ? request : response;
        BodySendMode mode = d == Direction.REQUEST ? requestMode : responseMode;
        if (state != null && !state.finished()) {
            if (mode == BodySendMode.FULL_DUPLEX_STREAMED) {
                try {
                    sendPieces(d, state.body(new byte[0], true), false);
                } catch (BlockedException e) {
                    if (!block(d, e.decision(), At.TRAILERS, false)) {
                        return;
                    }
                }
            } else if (state.heldBack() > 0) {
                // STREAMED cannot add bytes after the last chunk's answer: refusing beats truncating silently.
                metrics.protocolError("streamed_tail_at_trailers");
                if (!block(d, BlockDecision.because("incomplete_scan"), At.TRAILERS, false)) {
                    return;
                }
            } else {
                try {
                    state.body(new byte[0], true);
                } catch (BlockedException e) {
                    if (!block(d, e.decision(), At.TRAILERS, false)) {
                        return;
                    }
                }
            }
        }
        TrailersResponse tr = TrailersResponse.getDefaultInstance();
        send(
                d == Direction.REQUEST
                        ? ProcessingResponse.newBuilder().setRequestTrailers(tr).build()
                        : ProcessingResponse.newBuilder()
                                .setResponseTrailers(tr)
                                .build());
    }

    /**
     * Refuses a message. Before the client has anything: an immediate_response with the configured 4xx and a JSON
     * body. Once a streamed response has started (its headers went out with our answer), a local reply makes Envoy
     * reset the stream. An event stream is ended cleanly instead: an {@code event: error} event in the answer to the
     * current chunk, the held-back tail dropped, every later chunk swallowed ({@link #swallowResponse}). Any other
     * body is reset on purpose: a text or JSON body that simply stopped would look whole to the client, and a
     * reset is the only signal left once the headers are out that it is not.
     *
     * @param at which message is being answered
     * @param endOfStream whether the message being answered ended the body (FULL_DUPLEX: the piece carries it)
     * @return true when the stream goes on (the caller still owes Envoy a trailers answer), false when it is over
     */
    private boolean block(Direction d, BlockDecision decision, At at, boolean endOfStream) {
        metrics.blocked(d.id(), decision.reason());
        outcome = "blocked";
        String detector = decision.finding().map(Finding::detector).orElse("");
        trace.blocked(d, decision.reason(), detector);
        // STREAMED answers the trailers without a body: a block decided there has no way to send the event.
        boolean endsWithErrorEvent = d == Direction.RESPONSE
                && responseStarted
                && response != null
                && response.kind == MediaTypes.Kind.EVENT_STREAM
                && (responseMode == BodySendMode.FULL_DUPLEX_STREAMED || at == At.BODY);
        blockNote = d.id() + ":" + decision.reason() + (detector.isEmpty() ? "" : ":" + detector)
                + (endsWithErrorEvent
                        ? ":after_response_started"
                        : responseStarted ? ":after_response_started:reset" : "");
        log.warn(
                "dlp block direction={} reason={} detector={} route={} request_id={} response_started={}",
                d.id(),
                decision.reason(),
                detector,
                path,
                requestId,
                responseStarted);
        if (endsWithErrorEvent) {
            responseBlocked = true;
            response.close();
            // A fresh event: if what went out so far stops inside an event (only possible after the SSE scanner
            // fell back to plain text), a blank line closes it first.
            byte[] event = SseTransformer.errorEvent(policy.block().message());
            byte[] tail = releasedAtEventBoundary() ? event : concat("\n\n".getBytes(StandardCharsets.US_ASCII), event);
            if (responseMode == BodySendMode.FULL_DUPLEX_STREAMED) {
                // Pieces may follow the trailers' arrival, before their answer; end_of_stream only if Envoy's did.
                sendPieces(d, tail, endOfStream);
            } else {
                // STREAMED: the answer to this chunk.
                replaceResponseChunk(tail);
            }
            return true;
        }
        done = true;
        String body = "{\"error\":\"dlp_blocked\",\"message\":"
                + JsonText.quote(policy.block().message())
                + ",\"reason\":" + JsonText.quote(decision.reason())
                + (detector.isEmpty() ? "" : ",\"detector\":" + JsonText.quote(detector))
                + (requestId.isEmpty() ? "" : ",\"request_id\":" + JsonText.quote(requestId)) + "}";
        ImmediateResponse.Builder ir = ImmediateResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCodeValue(policy.block().status()))
                .setHeaders(HeaderMutation.newBuilder().addSetHeaders(header("content-type", "application/json")))
                .setBody(ByteString.copyFrom(body, StandardCharsets.UTF_8))
                .setDetails("meshguard_dlp_" + decision.reason());
        if (grpcRequest) {
            // A gRPC client reads grpc-status, not the HTTP status: 403 maps to PERMISSION_DENIED (7), as in
            // gRPC's doc/http-grpc-status-mapping.md.
            ir.setGrpcStatus(GrpcStatus.newBuilder().setStatus(7));
        }
        send(ProcessingResponse.newBuilder().setImmediateResponse(ir).build());
        return false;
    }

    /**
     * Fails the stream closed: the first message Envoy sends (normally the request headers, so nothing has reached the
     * upstream yet) is answered with a 503 local reply; the api_call audit row records the profile.
     */
    private void refuseUnknownProfile(String profile) {
        done = true;
        outcome = "blocked";
        String label = metrics.unknownProfile(profile);
        blockNote = "unknown_profile:" + label;
        trace.blocked(Direction.REQUEST, "unknown_profile", "");
        log.warn(
                "dlp refused stream: route {} names DLP profile '{}', which the policy does not define request_id={}",
                routeName.isEmpty() ? "(unnamed)" : io.meshguard.contract.ProfileLabels.escape(routeName),
                label,
                requestId);
        String body = "{\"error\":\"dlp_unavailable\",\"reason\":\"unknown_profile\","
                + "\"message\":\"the route names a DLP profile the policy does not define\""
                + (requestId.isEmpty() ? "" : ",\"request_id\":" + JsonText.quote(requestId)) + "}";
        send(ProcessingResponse.newBuilder()
                .setImmediateResponse(ImmediateResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCodeValue(503))
                        .setHeaders(
                                HeaderMutation.newBuilder().addSetHeaders(header("content-type", "application/json")))
                        .setBody(ByteString.copyFromUtf8(body))
                        .setDetails("meshguard_dlp_unknown_profile"))
                .build());
    }

    /**
     * Refuses a request whose path extauthz refuses too (400 {@code invalid_path}: dot segments, encoded separators,
     * empty segments, …, see {@link io.meshguard.contract.CanonicalPath}) when no route named its profile: choosing a
     * profile by a path that an upstream may resolve to another route could pick a weaker profile than that route's.
     * A sidecar without extauthz in front still refuses it here.
     */
    private void refuseInvalidPath(io.meshguard.contract.CanonicalPath.Problem problem) {
        done = true;
        outcome = "blocked";
        blockNote = "request:invalid_path:" + problem.code();
        metrics.blocked(Direction.REQUEST.id(), "invalid_path");
        trace.blocked(Direction.REQUEST, "invalid_path", "");
        log.warn("dlp refused request: path refused ({}) request_id={}", problem.code(), requestId);
        String body = "{\"error\":\"invalid_path\",\"reason\":" + JsonText.quote(problem.code())
                + ",\"message\":" + JsonText.quote(problem.description())
                + (requestId.isEmpty() ? "" : ",\"request_id\":" + JsonText.quote(requestId)) + "}";
        ImmediateResponse.Builder ir = ImmediateResponse.newBuilder()
                .setStatus(HttpStatus.newBuilder().setCodeValue(400))
                .setHeaders(HeaderMutation.newBuilder().addSetHeaders(header("content-type", "application/json")))
                .setBody(ByteString.copyFromUtf8(body))
                .setDetails("meshguard_dlp_invalid_path");
        if (grpcRequest) {
            ir.setGrpcStatus(
                    GrpcStatus.newBuilder().setStatus(13)); // 400 maps to INTERNAL (http-grpc-status-mapping.md)
        }
        send(ProcessingResponse.newBuilder().setImmediateResponse(ir).build());
    }

    /** The message a block answers. */
    private enum At {
        HEADERS,
        BODY,
        TRAILERS
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    private io.meshguard.dlp.content.FindingListener listener(Direction d) {
        return (f, location) -> {
            String profile = d == Direction.REQUEST ? requestProfile : responseProfile;
            findingCounts.merge(f.detector(), 1, Integer::sum);
            if (outcome.equals("pass")) {
                outcome = "rewritten";
            }
            metrics.finding(f.detector(), f.action().id(), d.id(), profile, routeName);
            trace.finding(f.detector(), f.action().id(), d);
            audit.finding(new DlpAuditSink.FindingEvent(
                    Instant.now(),
                    requestId,
                    traceId,
                    tenant,
                    host,
                    routeOf(path),
                    routeName,
                    profile,
                    d,
                    f.detector(),
                    f.action().id(),
                    location,
                    f.length(),
                    f.valueHmac(),
                    keyId,
                    f.confidence()));
        };
    }

    /** Names a master key without revealing it: "dlp-" and 8 hex digits of its SHA-256. */
    static String keyId(byte[] masterKey) {
        try {
            byte[] d = java.security.MessageDigest.getInstance("SHA-256").digest(masterKey);
            return "dlp-" + java.util.HexFormat.of().formatHex(d, 0, 4);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String routeOf(String path) {
        int q = path.indexOf('?');
        return q >= 0 ? path.substring(0, q) : path;
    }

    private static String modeName(BodySendMode mode) {
        return mode == BodySendMode.UNRECOGNIZED ? "unknown" : mode.name().toLowerCase(Locale.ROOT);
    }

    private static String traceId(Map<String, String> headers) {
        String tp = headers.get("traceparent");
        if (tp != null && tp.length() >= 35) {
            return tp.substring(3, 35);
        }
        return headers.getOrDefault("x-b3-traceid", "");
    }

    /**
     * The headers by lower-cased name; the first value wins, except for the two that decide how a body is read.
     * Envoy hands repeated header lines over as separate entries (HeaderMap in {@code external_processor.proto}),
     * and upstream frameworks differ on which one they believe, so a sender could label a body twice and have
     * meshguard read it one way and the upstream another: repeated {@code content-encoding} values are joined into
     * one list (RFC 9110 §8.4: codings apply in order), and {@code content-type} values that disagree leave the body
     * without a label (scanned as text, the strictest reading).
     */
    static Map<String, String> headers(HttpHeaders h) {
        Map<String, String> out = new HashMap<>();
        for (HeaderValue v : h.getHeaders().getHeadersList()) {
            String value =
                    v.getRawValue().isEmpty() ? v.getValue() : v.getRawValue().toStringUtf8();
            String key = v.getKey().toLowerCase(Locale.ROOT);
            String before = out.putIfAbsent(key, value);
            if (before != null) {
                if (key.equals("content-encoding")) {
                    out.put(key, before + ", " + value);
                } else if (key.equals("content-type") && !before.trim().equalsIgnoreCase(value.trim())) {
                    out.put(key, "");
                }
            }
        }
        return out;
    }

    private static HeaderValueOption header(String key, String value) {
        return HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(key).setRawValue(ByteString.copyFromUtf8(value)))
                .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD)
                .build();
    }

    private void send(ProcessingResponse r) {
        synchronized (wire) {
            if (!closed) {
                responses.onNext(r);
            }
        }
    }

    private void fail(Status s) {
        synchronized (wire) {
            if (closed) {
                return;
            }
            closed = true;
            grpcStatus = s.getCode().value();
            responses.onError(s.asRuntimeException());
        }
        finish("error");
    }

    @Override
    public void onError(Throwable t) {
        // Envoy cancelled (client went away, stream reset): drop all state.
        handling.lock();
        try {
            synchronized (wire) {
                closed = true;
            }
            grpcStatus = io.grpc.Status.Code.CANCELLED.value();
            finish("cancelled");
        } finally {
            handling.unlock();
        }
    }

    @Override
    public void onCompleted() {
        handling.lock();
        try {
            if (awaiting != null) {
                completeAfterAnswer = true; // the answer Envoy waits for still goes out first
                return;
            }
            complete();
        } finally {
            handling.unlock();
        }
    }

    /** Under {@link #handling}: Envoy half-closed and nothing is owed. */
    private void complete() {
        synchronized (wire) {
            if (closed) {
                return;
            }
            closed = true;
        }
        // recorded before the stream ends, so whoever sees the end (Envoy, a test) also finds the summary row
        finish(outcome);
        synchronized (wire) {
            responses.onCompleted();
        }
    }

    long openedAt() {
        return openedAt;
    }

    boolean longLived() {
        return longLived;
    }

    /**
     * Called by the deadline watch: ends this stream when the message being dealt with has taken longer than its
     * phase allows, or when a bounded stream has been open longer than the whole-stream bound.
     */
    void enforce(PhaseDeadlines deadlines, long now) {
        if (expired != null) {
            return;
        }
        Phase phase = busyPhase;
        long since = busySince;
        if (phase != null && now - since > phase.limitNanos(deadlines)) {
            expire(phase);
        } else if (!deadlines.stream().isZero()
                && !longLived
                && now - openedAt > deadlines.stream().toNanos()) {
            expire(Phase.STREAM);
        }
    }

    /**
     * Fails the stream closed from the deadline watch's thread. Before the client has any of the response, an
     * immediate_response (504, JSON body) that Envoy sends as a local reply; after, a gRPC error, which Envoy turns
     * into a reset of the HTTP stream ({@code failure_mode_allow: false}). Either way no unscanned byte goes on: the
     * stalled handler's later answers are dropped ({@link #closed}), and Envoy gets nothing for the stalled message.
     */
    private void expire(Phase phase) {
        synchronized (wire) {
            if (closed || expired != null) {
                return;
            }
            expired = phase;
            closed = true;
            metrics.overDeadline(phase.label, phase.directionId());
            log.warn(
                    "dlp stream over its {} deadline direction={} route={} request_id={} response_started={}",
                    phase.label,
                    phase.directionId(),
                    path,
                    requestId,
                    responseStarted);
            if (responseStarted) {
                grpcStatus = io.grpc.Status.Code.DEADLINE_EXCEEDED.value();
                responses.onError(Status.DEADLINE_EXCEEDED
                        .withDescription("meshguard DLP: " + phase.note() + " over its deadline")
                        .asRuntimeException());
            } else {
                String body = "{\"error\":\"dlp_timeout\",\"message\":\"The data-loss-prevention check did not "
                        + "finish in time.\",\"phase\":" + JsonText.quote(phase.note())
                        + (requestId.isEmpty() ? "" : ",\"request_id\":" + JsonText.quote(requestId)) + "}";
                ImmediateResponse.Builder ir = ImmediateResponse.newBuilder()
                        .setStatus(HttpStatus.newBuilder().setCodeValue(504))
                        .setHeaders(
                                HeaderMutation.newBuilder().addSetHeaders(header("content-type", "application/json")))
                        .setBody(ByteString.copyFrom(body, StandardCharsets.UTF_8))
                        .setDetails("meshguard_dlp_deadline_" + phase.note());
                if (grpcRequest) {
                    ir.setGrpcStatus(GrpcStatus.newBuilder().setStatus(14)); // 504 maps to UNAVAILABLE
                }
                responses.onNext(
                        ProcessingResponse.newBuilder().setImmediateResponse(ir).build());
                responses.onCompleted();
            }
        }
        // The stream's state belongs to its handler thread: finish here only when none is running (an idle stream
        // over the whole-stream bound); a stalled handler finishes it when it returns (see onNext).
        finishIfExpired();
    }

    private boolean finished;

    private void finish(String how) {
        if (finished) {
            return;
        }
        finished = true;
        if (awaiting != null) {
            awaiting.abandon(); // nobody waits for its answer: what it started rolls back
            awaiting = null;
        }
        waiting.clear();
        metrics.streamClosed();
        Map<String, String> notes = new TreeMap<>();
        if (request != null && !request.note().isEmpty()) {
            notes.put("request", request.note());
        }
        if (response != null && !response.note().isEmpty()) {
            notes.put("response", response.note());
        }
        if (!blockNote.isEmpty()) {
            notes.put("block", blockNote);
        }
        if (!websocketNote.isEmpty()) {
            notes.put("websocket", websocketNote);
        }
        if (!pinNote.isEmpty()) {
            notes.put("mcp_tool_changed", pinNote);
        }
        if (expired != null) {
            notes.put("deadline", expired.note());
        }
        String result = expired != null ? "deadline" : how.equals("cancelled") || how.equals("error") ? how : outcome;
        if (!requestSeen && status != 0) {
            // A response-only stream: Envoy opens one in ext_proc's encodeHeaders for a local reply sent by a filter
            // before it (an ext_authz denial, a CORS preflight), whose decodeHeaders never ran (envoyproxy/envoy
            // source/extensions/filters/http/ext_proc/ext_proc.cc encodeHeaders → mergePerRouteConfig). The reply is
            // still scanned, but it gets no api_call row: the request never reached an upstream, extauthz's decision
            // log already records it, and a flood of unauthenticated requests must not turn into one PostgreSQL row
            // each.
            metrics.localReplyStream();
        } else {
            audit.apiCall(new DlpAuditSink.ApiCallEvent(
                    Instant.now(),
                    requestId,
                    traceId,
                    tenant,
                    host,
                    method,
                    routeOf(path),
                    routeName,
                    status,
                    response != null && response.kind == MediaTypes.Kind.EVENT_STREAM,
                    result,
                    findingCounts,
                    request == null ? 0 : request.received(),
                    response == null ? 0 : response.received(),
                    notes));
        }
        trace.end(result, routeName, requestProfile, responseProfile, grpcStatus);
        if (request != null) {
            request.close();
        }
        if (response != null) {
            response.close();
        }
        request = null;
        response = null;
        onClose.run();
    }
}
