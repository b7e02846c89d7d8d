package io.meshguard.extauthz.exchange;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.authz.decision.AuthzEngine;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.McpRoute;
import io.meshguard.authz.policy.McpTokenExchange;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What extauthz does after the policy allowed a request on an MCP route with {@code token_exchange:}: the caller's
 * token is exchanged (RFC 8693) for one issued to the MCP server, which the upstream gets in {@code Authorization}
 * (overwritten); every other header that carries the caller's token is removed. When no such token can be had the
 * allow becomes a deny ({@link ExchangeFailure.Kind#reason}): the request never goes on with the caller's token.
 *
 * <p>Every decision of such a route with a verified caller carries the delegation chain in its row: user (the
 * subject) → agent (the client the caller's token was issued to, {@code azp} or {@code client_id}, with the token's own
 * {@code act} nested under it as RFC 8693 §4.1 nests prior actors) → server (the audience exchanged to).
 */
public final class UpstreamTokenExchange {
    private static final Logger LOG = LoggerFactory.getLogger(UpstreamTokenExchange.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The decision row's details keys. */
    public static final String DELEGATION = "delegation";

    public static final String OUTCOME = "token_exchange";
    public static final String EXCHANGED_ACT = "exchanged_act";

    /** Results a Check on an exchange route ends in: the metric's {@code result} label. */
    static final List<String> RESULTS;

    static {
        List<String> r = new ArrayList<>(List.of("exchanged", "cached"));
        for (ExchangeFailure.Kind k : ExchangeFailure.Kind.values()) {
            r.add(k.result());
        }
        RESULTS = List.copyOf(r);
    }

    /** The decision to answer with, and what its audit row adds. */
    public record Outcome(Decision decision, Map<String, String> details) {}

    private final TokenExchangeClient client;
    private final ExchangedTokens cache;
    private final Duration timeout;
    private final Map<String, Counter> results = new ConcurrentHashMap<>();

    public UpstreamTokenExchange(
            TokenExchangeClient client, ExchangedTokens cache, Duration timeout, MeterRegistry registry) {
        this.client = client;
        this.cache = cache;
        this.timeout = timeout;
        io.micrometer.core.instrument.Gauge.builder(
                        "meshguard_extauthz_token_exchange_cache_entries", cache, ExchangedTokens::size)
                .description("Exchanged tokens this replica keeps for reuse (token_exchange.cache_max_entries at most)")
                .register(registry);
        for (String result : RESULTS) {
            results.put(
                    result,
                    Counter.builder("meshguard_extauthz_token_exchange_total")
                            .description("Checks on MCP routes with token_exchange by outcome: exchanged (a new token "
                                    + "from the identity provider), cached (reused), or why the request was refused")
                            .tag("result", result)
                            .register(registry));
        }
    }

    /** The policy the routes below were read from, and its routes that exchange, by name. */
    private record ExchangeRoutes(AuthzPolicy policy, Map<String, McpTokenExchange> byRoute) {}

    private volatile ExchangeRoutes exchangeRoutes;

    /**
     * Every Check asks, so the routes are read once per loaded policy (a reload builds a new one), not searched per
     * Check: on a policy without exchange routes the answer is an empty map.
     */
    private Map<String, McpTokenExchange> exchangeRoutes(AuthzPolicy policy) {
        ExchangeRoutes known = exchangeRoutes;
        if (known != null && known.policy() == policy) {
            return known.byRoute();
        }
        Map<String, McpTokenExchange> byRoute = new java.util.HashMap<>();
        for (var route : policy.routes()) {
            route.access().mcp().flatMap(McpRoute::tokenExchange).ifPresent(e -> byRoute.putIfAbsent(route.name(), e));
        }
        exchangeRoutes = new ExchangeRoutes(policy, Map.copyOf(byRoute));
        return exchangeRoutes.byRoute();
    }

    /** The exchange of the route {@code allowed} was decided on, if it asks for one; else the decision unchanged. */
    public Outcome apply(HttpRequestView request, Decision decision, Optional<AuthzPolicy> policy) {
        Optional<McpTokenExchange> exchange =
                policy.flatMap(p -> decision.route().map(exchangeRoutes(p)::get));
        Optional<Identity> who = decision.identity().filter(i -> i.authMethod().equals("jwt"));
        if (exchange.isEmpty() || who.isEmpty()) {
            return new Outcome(decision, Map.of());
        }
        Map<String, String> details = new LinkedHashMap<>();
        details.put(DELEGATION, chain(who.get(), exchange.get().audience()));
        if (!decision.allowed()) {
            return new Outcome(decision, details);
        }
        Optional<String> token = bearer(request);
        Object exp = who.get().claims().get("exp");
        Object sub = who.get().claims().get("sub");
        if (token.isEmpty() || !(exp instanceof Long seconds) || !(sub instanceof String subject)) {
            // the engine allowed a verified token: it is there, with exp and sub; anything else is a bug, denied
            return failed(
                    request,
                    decision,
                    details,
                    new ExchangeFailure(
                            ExchangeFailure.Kind.BAD_RESPONSE,
                            "the caller's token has no bearer value, sub or exp to exchange"));
        }
        McpTokenExchange ask = exchange.get();
        TokenExchangeClient.Request r = new TokenExchangeClient.Request(
                token.get(), ask.audience(), ask.scope(), subject, Instant.ofEpochSecond(seconds));
        ExchangedTokens.Lookup lookup =
                cache.get(ExchangedTokens.Key.of(token.get(), ask.audience(), ask.scope()), k -> client.exchange(r));
        IssuedToken issued;
        try {
            issued = lookup.token().get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return failed(
                    request,
                    decision,
                    details,
                    new ExchangeFailure(ExchangeFailure.Kind.TIMEOUT, "the identity provider did not answer in time"));
        } catch (ExecutionException e) {
            ExchangeFailure f = e.getCause() instanceof ExchangeFailure x
                    ? x
                    : new ExchangeFailure(ExchangeFailure.Kind.IDP_ERROR, "the exchange failed");
            return failed(request, decision, details, f);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return failed(
                    request,
                    decision,
                    details,
                    new ExchangeFailure(ExchangeFailure.Kind.TIMEOUT, "interrupted while waiting for the exchange"));
        }
        String result = lookup.cached() ? "cached" : "exchanged";
        results.get(result).increment();
        details.put(OUTCOME, result);
        issued.act().ifPresent(act -> details.put(EXCHANGED_ACT, json(act)));
        return new Outcome(withToken(request, decision, token.get(), issued), details);
    }

    /** The allow, sending {@code issued} upstream and nothing that carries the caller's token. */
    private static Decision withToken(HttpRequestView request, Decision d, String inbound, IssuedToken issued) {
        List<HeaderMutation> set = new ArrayList<>();
        for (HeaderMutation m : d.headersSet()) {
            if (!m.name().equals("authorization")) {
                set.add(m);
            }
        }
        set.add(new HeaderMutation("authorization", "Bearer " + issued.token(), HeaderMutation.Mode.OVERWRITE));
        List<String> removed = new ArrayList<>();
        for (String h : d.headersRemoved()) {
            // Envoy applies headers_to_remove after its sets (ext_authz.cc; shared/reference/envoy-ext-authz.md):
            // removing authorization would drop the exchanged token too
            if (!h.equals("authorization")) {
                removed.add(h);
            }
        }
        // any other header the caller put its token in (a second spelling, a forwarded copy, a cookie) goes too
        request.headers().forEach((name, values) -> {
            if (!name.equals("authorization")
                    && !name.startsWith(":")
                    && !removed.contains(name)
                    && values.stream().anyMatch(v -> v.contains(inbound))) {
                removed.add(name);
            }
        });
        return d.withHeaders(set, removed, d.responseHeaders());
    }

    private Outcome failed(HttpRequestView request, Decision d, Map<String, String> details, ExchangeFailure f) {
        results.get(f.kind().result()).increment();
        details.put(OUTCOME, f.kind().result());
        // the request id is in the MDC of the Check; the message names no token
        LOG.warn(
                "token exchange for route {} failed ({}): {}; request denied {}",
                d.route().orElse("?"),
                f.kind().result(),
                f.getMessage(),
                f.kind().reason().code());
        String said = f.kind() == ExchangeFailure.Kind.REFUSED
                ? "the identity provider refused a token for this MCP server"
                : "no token for this MCP server could be obtained; try again later";
        return new Outcome(AuthzEngine.refusedAfterAllow(request, d, f.kind().reason(), said), details);
    }

    private static Optional<String> bearer(HttpRequestView request) {
        return request.first("authorization").map(String::trim).flatMap(v -> {
            int space = v.indexOf(' ');
            return space > 0 && v.substring(0, space).equalsIgnoreCase("bearer")
                    ? Optional.of(v.substring(space + 1).trim())
                    : Optional.empty();
        });
    }

    /**
     * RFC 8693 §4.1's shape: the subject, and under {@code act} the current actor (the agent) with the prior actors
     * its token named nested under it; {@code aud} the server.
     */
    static String chain(Identity who, String server) {
        Map<String, Object> agent = new LinkedHashMap<>();
        Object azp = who.claims().get("azp");
        Object clientId = who.claims().get("client_id");
        Optional<String> agentId = azp instanceof String s
                ? Optional.of(s)
                : clientId instanceof String s ? Optional.of(s) : who.clientId();
        agent.put("sub", agentId.orElse(""));
        if (who.claims().get("act") instanceof Map<?, ?> prior) {
            agent.put("act", prior);
        }
        Map<String, Object> chain = new LinkedHashMap<>();
        chain.put("sub", who.subject());
        chain.put("act", agent);
        chain.put("aud", server);
        return json(chain);
    }

    private static String json(Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            return "{}";
        }
    }
}
