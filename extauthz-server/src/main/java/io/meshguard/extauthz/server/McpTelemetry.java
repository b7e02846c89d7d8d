package io.meshguard.extauthz.server;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.McpRoute;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.McpCall;
import io.meshguard.contract.McpHeaders;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What an MCP request's Check adds to its span, named as OpenTelemetry's MCP conventions name it
 * ({@code mcp.method.name}, {@code mcp.protocol.version}, {@code gen_ai.operation.name}, {@code gen_ai.tool.name}),
 * and to the counter {@code meshguard_authz_mcp_requests_total} by route, method, tool and decision. Every value is
 * bounded by the MCP spec or the policy, never a client's free text: a method the spec does not define is
 * {@value #OTHER}, a tool is named only when the route's rule lists it ({@value #OTHER} otherwise), and a protocol
 * version only once it passed the date-form check.
 */
final class McpTelemetry {
    /** The conventions' word for a value outside the known set. */
    static final String OTHER = "_OTHER";

    static final AttributeKey<String> METHOD = AttributeKey.stringKey("mcp.method.name");
    static final AttributeKey<String> PROTOCOL_VERSION = AttributeKey.stringKey("mcp.protocol.version");
    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> TOOL = AttributeKey.stringKey("gen_ai.tool.name");

    /**
     * The requests and notifications a client sends to a server over Streamable HTTP (2025 and 2026-07-28 eras): these
     * and the methods that name their target in {@code Mcp-Name} ({@link McpHeaders#NAMED_METHODS}).
     */
    private static final Set<String> METHODS = java.util.stream.Stream.concat(
                    McpHeaders.NAMED_METHODS.stream(),
                    java.util.stream.Stream.of(
                            "initialize",
                            "ping",
                            "server/discover",
                            "tools/list",
                            "resources/list",
                            "resources/templates/list",
                            "resources/subscribe",
                            "resources/unsubscribe",
                            "prompts/list",
                            "completion/complete",
                            "logging/setLevel",
                            "subscriptions/listen",
                            "tasks/list",
                            "tasks/result",
                            "notifications/initialized",
                            "notifications/cancelled",
                            "notifications/progress",
                            "notifications/roots/list_changed"))
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    private final MeterRegistry registry;
    private final Map<Labels, Counter> counters = new ConcurrentHashMap<>();

    McpTelemetry(MeterRegistry registry) {
        this.registry = registry;
    }

    private record Labels(String route, String method, String tool, String decision) {}

    /** Records a decided request that sent MCP headers; a request without any is left alone. */
    void record(McpCall call, Decision decision, Optional<AuthzPolicy> policy, Span span) {
        if (!call.any()) {
            return;
        }
        String method =
                call.method().filter(METHODS::contains).orElse(call.method().isPresent() ? OTHER : "");
        String tool = "";
        if ("tools/call".equals(method)) {
            tool = call.name()
                    .filter(name -> listedTool(decision, policy, name))
                    .orElse(OTHER);
        }
        Labels labels = new Labels(decision.route().orElse(""), method, tool, decision.allowed() ? "allow" : "deny");
        counters.computeIfAbsent(labels, this::counter).increment();
        if (!span.isRecording()) {
            return;
        }
        if (!method.isEmpty()) {
            span.setAttribute(METHOD, method);
        }
        call.protocolVersion().ifPresent(v -> span.setAttribute(PROTOCOL_VERSION, v));
        if (!tool.isEmpty()) {
            span.setAttribute(OPERATION, "execute_tool");
            span.setAttribute(TOOL, tool);
        }
    }

    private static boolean listedTool(Decision decision, Optional<AuthzPolicy> policy, String name) {
        return decision.route()
                .flatMap(route -> policy.flatMap(p -> p.routeNamed(route)))
                .flatMap(route -> route.access().mcp())
                .flatMap((McpRoute mcp) -> mcp.tool(name))
                .isPresent();
    }

    private Counter counter(Labels l) {
        return Counter.builder("meshguard_authz_mcp_requests_total")
                .description("Checks of MCP requests by policy route, MCP method and listed tool (_OTHER: not in the"
                        + " MCP spec or not listed by the route) and decision")
                .tag("route", l.route())
                .tag("method", l.method())
                .tag("tool", l.tool())
                .tag("decision", l.decision())
                .register(registry);
    }
}
