package io.meshguard.dlpserver;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.dlp.policy.IdentityHeaderNames;
import io.meshguard.dlp.policy.McpApproval;
import io.meshguard.dlpserver.approval.McpToolApprovals;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether an MCP tool call of a profile with {@code mcp_approval:} runs now (docs/agents.md "Two people for high-risk
 * tools"). A call of a held tool without a reference is held: a pending approval bound to the caller, agent, server,
 * tool, argument digest and policy version is opened, and the client is answered 403 with its reference. A retry runs
 * only when {@link McpToolApprovals#redeem} says so. Without an approvals database, or when it does not answer in time,
 * a held tool never runs (503).
 *
 * <p>The caller and agent are read from the identity headers extauthz sets on its allow (and strips from what a client
 * sends): the DLP server must sit behind extauthz on every route whose profile holds tools.
 */
final class ToolApprovalGate implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ToolApprovalGate.class);

    /** The request header a retry carries the approval reference in. */
    static final String REFERENCE_HEADER = "x-mcp-approval";

    /** JSON-RPC error of a held call (implementation-defined server error range). */
    static final int APPROVAL_REQUIRED = -32090;

    /** JSON-RPC error of a retry whose approval does not hold. */
    static final int APPROVAL_REFUSED = -32091;

    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    /**
     * Who calls, as extauthz's identity headers say: their names are dlp.yaml's {@code identity_headers}, which must
     * name the headers authz.yaml's {@code settings.identity_headers} sets.
     */
    record Identity(String caller, String issuer, String agent) {
        static final Identity NONE = new Identity("", "", "");

        static Identity of(Map<String, String> headers, IdentityHeaderNames names) {
            return new Identity(
                    headers.getOrDefault(names.subject(), ""),
                    headers.getOrDefault(names.issuer(), ""),
                    headers.getOrDefault(names.clientId(), ""));
        }
    }

    /** A call that does not run now: the HTTP status, the problem code and the JSON-RPC error body. */
    record Answer(int status, String code, String body) {}

    /**
     * One decision of the gate: done at once when no database is needed, else under way on the gate's own threads.
     * The stream waits for {@link #answer()}; a stream that stops waiting (reset, over its deadline) {@link #abandon}s
     * it, and nothing the lookup started then takes effect (its transaction rolls back).
     */
    static final class Lookup {
        private static final int WAITING = 0;
        private static final int COMMITTING = 1;
        private static final int ABANDONED = 2;

        private final AtomicInteger state = new AtomicInteger(WAITING);
        private final CompletableFuture<Optional<Answer>> answer = new CompletableFuture<>();

        static Lookup done(Optional<Answer> answer) {
            Lookup l = new Lookup();
            l.answer.complete(answer);
            return l;
        }

        /** Empty: the call goes on. */
        CompletableFuture<Optional<Answer>> answer() {
            return answer;
        }

        /** Nobody waits for this decision any more: a transaction not yet committed rolls back. */
        void abandon() {
            state.compareAndSet(WAITING, ABANDONED);
        }

        /** Whether the lookup may commit: only while somebody waits, and from then on nobody can abandon it. */
        private boolean mayCommit() {
            return state.compareAndSet(WAITING, COMMITTING);
        }
    }

    /** Lookups at once: each holds a database connection while it runs. */
    private static final int LOOKUP_THREADS = 4;

    /** Lookups waiting for a thread; more are refused at once (503) rather than queued behind a slow database. */
    private static final int LOOKUP_QUEUE = 64;

    private final Optional<McpToolApprovals> approvals;
    private final MeterRegistry registry;
    private final Duration timeout;
    private final ThreadPoolExecutor lookups;
    private final ScheduledThreadPoolExecutor answers;

    /** Without approvals: every held tool is answered 503. */
    static ToolApprovalGate none(MeterRegistry registry) {
        return new ToolApprovalGate(Optional.empty(), registry, Duration.ofSeconds(1));
    }

    /**
     * @param timeout how long a lookup may take before the call is refused (503): shorter than the body-chunk deadline,
     *     so the caller gets the approval's reason rather than the deadline's 504
     */
    ToolApprovalGate(Optional<McpToolApprovals> approvals, MeterRegistry registry, Duration timeout) {
        this.approvals = approvals;
        this.registry = registry;
        this.timeout = timeout;
        this.lookups = new ThreadPoolExecutor(
                LOOKUP_THREADS,
                LOOKUP_THREADS,
                30,
                TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(LOOKUP_QUEUE),
                daemon("dlp-tool-approval-lookup"));
        lookups.allowCoreThreadTimeOut(true);
        this.answers = new ScheduledThreadPoolExecutor(1, daemon("dlp-tool-approval-answer"));
        answers.setRemoveOnCancelPolicy(true);
        if (approvals.isPresent()) {
            Gauge.builder(
                            "meshguard.dlp.mcp.approval.lookups",
                            lookups,
                            e -> e.getActiveCount() + e.getQueue().size())
                    .description("Tool call approval lookups running or waiting for a thread")
                    .register(registry);
        }
    }

    /**
     * Where a stream picks its answer up: never a lookup thread (a slow database must not delay the answers of
     * lookups that finished), never the gRPC threads of other streams.
     */
    Executor answers() {
        return answers;
    }

    /**
     * Whether the call goes on. Decisions that need no database are done at once; the others run on the gate's
     * threads, so the stream's handler never waits for the database (another component) while it holds the stream.
     *
     * @param whole the request body as the client sent it (the digest is over its arguments)
     * @param scanned the body after the profile's scan (approvers see its arguments: masked, redacted, hashed)
     */
    Lookup decide(
            McpApproval rule,
            String policyVersion,
            String server,
            Identity who,
            String reference,
            byte[] whole,
            byte[] scanned) {
        JsonNode root = read(whole);
        String id = jsonRpcId(root);
        if (!"tools/call".equals(text(root.path("method")))) {
            return Lookup.done(Optional.empty());
        }
        String tool = text(root.path("params").path("name"));
        if (!rule.holds(tool)) {
            return Lookup.done(Optional.empty());
        }
        if (approvals.isEmpty()) {
            count(tool, "unavailable");
            return Lookup.done(Optional.of(refused(
                    503, "mcp_approval_unavailable", id, "tool " + tool + " needs approval; no approvals database")));
        }
        if (who.caller().isEmpty() && who.agent().isEmpty()) {
            count(tool, "anonymous");
            return Lookup.done(Optional.of(refused(
                    403,
                    "mcp_approval_anonymous",
                    id,
                    "tool " + tool + " needs approval of a known caller; the request carries no identity")));
        }
        McpToolApprovals store = approvals.get();
        McpToolApprovals.Call call = new McpToolApprovals.Call(
                who.caller(),
                who.issuer(),
                who.agent(),
                rule.agentOwners().getOrDefault(who.agent(), ""),
                server,
                tool,
                store.digest(Optional.ofNullable(root.path("params").get("arguments"))),
                policyVersion);
        JsonNode masked = read(scanned).path("params").path("arguments");
        JsonNode shown = masked.isMissingNode() ? JSON.createObjectNode() : masked;
        Lookup lookup = new Lookup();
        try {
            lookups.execute(() -> look(lookup, store, call, shown, rule, reference, id));
        } catch (RejectedExecutionException e) {
            count(tool, "busy");
            return Lookup.done(Optional.of(refused(
                    503,
                    "mcp_approval_unavailable",
                    id,
                    "too many tool approvals are being looked up now (the approvals database is slow); retry later")));
        }
        answers.schedule(
                () -> {
                    if (lookup.state.compareAndSet(Lookup.WAITING, Lookup.ABANDONED)) {
                        LOG.warn("MCP tool approval of {} not decided within {}: refused", tool, timeout);
                        answer(
                                lookup,
                                tool,
                                "timeout",
                                Optional.of(refused(
                                        503,
                                        "mcp_approval_unavailable",
                                        id,
                                        "tool approvals did not answer within " + timeout.toMillis()
                                                + " ms; retry later")));
                    }
                },
                timeout.toNanos(),
                TimeUnit.NANOSECONDS);
        return lookup;
    }

    /** On a lookup thread: the database work of one decision. */
    private void look(
            Lookup lookup,
            McpToolApprovals store,
            McpToolApprovals.Call call,
            JsonNode masked,
            McpApproval rule,
            String reference,
            String id) {
        String tool = call.tool();
        try {
            if (reference.isEmpty()) {
                McpToolApprovals.Held held = store.hold(call, masked, rule.expires(), lookup::mayCommit);
                LOG.atInfo()
                        .addKeyValue("event", "mcp_tool_call_held")
                        .addKeyValue("approval_id", held.id())
                        .addKeyValue("tool", tool)
                        .addKeyValue("server", call.server())
                        .log("MCP tool call {} held for two approvers: approval {}", tool, held.id());
                ObjectNode data = JSON.createObjectNode()
                        .put("approval", held.reference())
                        .put("approval_id", held.id())
                        .put("expires_at", held.expiresAt().toString())
                        .put("approvers_needed", 2)
                        .put("retry_header", REFERENCE_HEADER);
                answer(
                        lookup,
                        tool,
                        "held",
                        Optional.of(new Answer(
                                403,
                                "mcp_approval_required",
                                errorBody(
                                        id,
                                        APPROVAL_REQUIRED,
                                        "Tool " + tool + " runs after two people approve this call; retry it unchanged"
                                                + " with header " + REFERENCE_HEADER + " once approved",
                                        Optional.of(data)))));
                return;
            }
            McpToolApprovals.Redemption r = store.redeem(reference, call, lookup::mayCommit);
            if (r instanceof McpToolApprovals.Refused no) {
                answer(lookup, tool, no.code(), Optional.of(refused(403, no.code(), id, no.message())));
                return;
            }
            answer(lookup, tool, "runs", Optional.empty());
        } catch (McpToolApprovals.Abandoned e) {
            // the stream stopped waiting (reset, deadline, timeout): the transaction rolled back, nothing was held or
            // spent
            count(tool, "abandoned");
        } catch (RuntimeException e) {
            // the database is away: a held tool never runs unapproved
            LOG.warn("MCP tool approval of {} not decidable: {}", tool, e.getMessage());
            answer(
                    lookup,
                    tool,
                    "unavailable",
                    Optional.of(refused(
                            503, "mcp_approval_unavailable", id, "tool approvals cannot be read now; retry later")));
        }
    }

    /** Completes {@code lookup} unless it was answered already (a timeout), and counts what happened. */
    private void answer(Lookup lookup, String tool, String result, Optional<Answer> answer) {
        if (lookup.answer.complete(answer)) {
            count(tool, result);
        }
    }

    @Override
    public void close() {
        lookups.shutdownNow();
        answers.shutdownNow();
    }

    private static ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    private void count(String tool, String result) {
        Counter.builder("meshguard.dlp.mcp.approval")
                .description("MCP tool calls of tools held for approval, by what happened to them")
                .tag("tool", tool)
                .tag("result", result)
                .register(registry)
                .increment();
    }

    private static Answer refused(int status, String code, String id, String message) {
        return new Answer(
                status,
                code,
                errorBody(
                        id,
                        APPROVAL_REFUSED,
                        message,
                        Optional.of(JSON.createObjectNode().put("problem", code))));
    }

    private static String errorBody(String id, int code, String message, Optional<ObjectNode> data) {
        ObjectNode error = JSON.createObjectNode().put("code", code).put("message", message);
        data.ifPresent(d -> error.set("data", d));
        return "{\"jsonrpc\":\"2.0\",\"id\":" + id + ",\"error\":" + error + "}";
    }

    /** The body parity already read as one JSON object; a body it could not read is never held here. */
    private static JsonNode read(byte[] body) {
        try {
            JsonNode n = JSON.readTree(body);
            return n == null ? JSON.createObjectNode() : n;
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    private static String jsonRpcId(JsonNode root) {
        JsonNode id = root.get("id");
        return id != null && (id.isTextual() || id.isIntegralNumber()) ? id.toString() : "null";
    }

    private static String text(JsonNode n) {
        return n.isTextual() ? n.asText() : "";
    }
}
