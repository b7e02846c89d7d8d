package io.meshguard.authz.replay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.authz.condition.ClaimValues;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.McpCall;
import io.meshguard.authz.request.PlanUse;
import io.meshguard.authz.request.Reason;
import io.meshguard.runtime.json.JsonStrings;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * One authorization decision as the audit keeps it for replay: the facts the decision read ({@link KeptFacts} of the
 * policy in force) and its outcome. Never a token, an API key, a body or a header value no rule reads: credentials are
 * kept as the identity the server verified (or the reason it refused them), other headers as present/blank only.
 *
 * @param headers kept headers, lower-case; values of presence-only headers are {@link #PRESENT} or ""
 * @param joined kept headers Envoy sent comma-joined in its header map (a comma there counts as a repeat)
 * @param keptHeaders every header name kept (absent from {@code headers}: the request did not send it)
 * @param query the kept query parameters, form-encoded ({@code a=1&b=2}), in the order sent
 * @param sourceAddress the peer address, only when the policy in force read addresses ({@code addressKept})
 * @param credential {@code verified}, {@code rejected} ({@code reason} is why) or {@code unchecked}
 * @param identity the verified caller, with only the claims the policy's conditions read
 * @param rule the deny rule that denied, if one did
 * @param quota the quota that refused, if one did
 * @param plan on a product route: the plan whose limits applied, the application its quotas count for, and the plan
 *     rate limit that refused (rows written before these were kept replay no plan change: not replayable)
 */
public record RecordedDecision(
        String requestId,
        Instant time,
        String method,
        String host,
        String rawPath,
        Map<String, List<String>> headers,
        Set<String> joined,
        Set<String> keptHeaders,
        String query,
        Set<String> keptQuery,
        Set<String> keptClaims,
        Map<String, String> context,
        String sourcePrincipal,
        Optional<String> sourceAddress,
        boolean addressKept,
        String credential,
        Optional<Identity> identity,
        boolean allowed,
        int status,
        String reason,
        Optional<String> route,
        Optional<String> rule,
        Optional<String> quota,
        Optional<String> subscription,
        Optional<PlanUse> plan) {

    /**
     * The key of an {@code authz_decision} row's details holding its replay facts ({@link #toJson()}): extauthz writes
     * it, {@code meshguard policy impact} and the controller's policy requests read it.
     */
    public static final String AUDIT_DETAIL = "replay";

    public static final String PRESENT = "present";
    public static final String VERIFIED = "verified";
    public static final String REJECTED = "rejected";
    public static final String UNCHECKED = "unchecked";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Refusals of the credential itself (what a replay cannot re-check without the token or key). */
    static final Set<Reason> CREDENTIAL_REFUSALS = EnumSet.of(
            Reason.INVALID_TOKEN,
            Reason.TOKEN_EXPIRED,
            Reason.TOKEN_TOO_LARGE,
            Reason.UNKNOWN_ISSUER,
            Reason.UNKNOWN_KEY,
            Reason.BAD_SIGNATURE,
            Reason.INVALID_API_KEY,
            Reason.API_KEY_REVOKED,
            Reason.API_KEY_EXPIRED,
            Reason.INVALID_CLAIM,
            Reason.WRONG_TOKEN_TYPE,
            Reason.DUPLICATE_CREDENTIAL,
            Reason.JWKS_UNAVAILABLE,
            Reason.API_KEY_STORE_UNAVAILABLE);

    /** The facts {@code kept} names, from the request as the server read it, and the decision made on it. */
    public static RecordedDecision of(HttpRequestView request, Decision d, Instant time, KeptFacts kept) {
        Map<String, List<String>> headers = new TreeMap<>();
        Set<String> joined = new TreeSet<>();
        for (String name : kept.headerValues()) {
            List<String> values = request.all(name);
            if (!values.isEmpty()) {
                headers.put(name, List.copyOf(values));
                if (request.commaJoined().contains(name)) {
                    joined.add(name);
                }
            }
        }
        for (String name : kept.headerPresence()) {
            List<String> values = request.all(name);
            if (!values.isEmpty()) {
                headers.put(
                        name,
                        values.stream().map(v -> v.isBlank() ? "" : PRESENT).toList());
            }
        }
        Set<String> keptHeaders = new TreeSet<>(kept.headerValues());
        keptHeaders.addAll(kept.headerPresence());
        String credential =
                d.identity().isPresent() ? VERIFIED : CREDENTIAL_REFUSALS.contains(d.reason()) ? REJECTED : UNCHECKED;
        Optional<Identity> identity = d.identity().map(id -> withClaims(id, kept.claims()));
        return new RecordedDecision(
                d.requestId(),
                time,
                request.method(),
                request.host(),
                request.rawPath(),
                headers,
                joined,
                keptHeaders,
                keptQuery(request.query(), kept.query()),
                kept.query(),
                kept.claims(),
                new TreeMap<>(request.contextExtensions()),
                kept.caller(request),
                kept.address() ? Optional.of(request.sourceAddress()) : Optional.empty(),
                kept.address(),
                credential,
                identity,
                d.allowed(),
                d.status(),
                d.reason().code(),
                d.route(),
                d.reason() == Reason.DENIED_BY_RULE ? bodyField(d.body(), "rule") : Optional.empty(),
                d.reason() == Reason.QUOTA_EXCEEDED || d.reason() == Reason.QUOTA_UNAVAILABLE
                        ? bodyField(d.body(), "quota")
                        : Optional.empty(),
                d.subscription(),
                d.plan());
    }

    private static Identity withClaims(Identity id, Set<String> keep) {
        Map<String, Object> claims = new LinkedHashMap<>();
        for (String k : keep) {
            Object v = id.claims().get(k);
            if (v != null) {
                claims.put(k, v);
            }
        }
        return new Identity(
                id.subject(),
                id.tenant(),
                id.roles(),
                id.scopes(),
                id.clientId(),
                id.authMethod(),
                id.issuer(),
                id.tier(),
                id.credentialId(),
                Map.copyOf(claims));
    }

    /** Only the parameters a rule reads, percent-encoded again, in the order sent (repeats kept). */
    private static String keptQuery(String query, Set<String> keep) {
        if (query.isEmpty() || keep.isEmpty()) {
            return "";
        }
        StringBuilder out = new StringBuilder();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String k;
            try {
                k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                k = pair; // a malformed escape: kept as sent so the replay refuses it as the server did
            }
            if (keep.contains(k)) {
                if (out.length() > 0) {
                    out.append('&');
                }
                out.append(pair);
            }
        }
        return out.toString();
    }

    private static Optional<String> bodyField(String body, String field) {
        try {
            JsonNode n = JSON.readTree(body).get(field);
            return n == null ? Optional.empty() : Optional.of(n.asText());
        } catch (JsonProcessingException e) {
            return Optional.empty();
        }
    }

    /**
     * The same decision as if its route had sent {@code newContext} as the Check's context extensions: what a gateway
     * revision that routes the request elsewhere (or renders another contract for its route) hands extauthz.
     */
    public RecordedDecision withContext(Map<String, String> newContext) {
        return new RecordedDecision(
                requestId,
                time,
                method,
                host,
                rawPath,
                headers,
                joined,
                keptHeaders,
                query,
                keptQuery,
                keptClaims,
                new TreeMap<>(newContext),
                sourcePrincipal,
                sourceAddress,
                addressKept,
                credential,
                identity,
                allowed,
                status,
                reason,
                route,
                rule,
                quota,
                subscription,
                plan);
    }

    /** The request as the engine reads it, rebuilt from the kept facts. */
    public HttpRequestView toRequest() {
        String target = query.isEmpty() ? rawPath : rawPath + "?" + query;
        io.meshguard.contract.CanonicalPath path = io.meshguard.contract.CanonicalPath.parse(target);
        io.meshguard.authz.request.CanonicalHost h = io.meshguard.authz.request.CanonicalHost.parse(host);
        if (h.problem().isPresent() && path.problem().isEmpty()) {
            path = io.meshguard.contract.CanonicalPath.refusedHost(
                    target, h.problem().get());
        }
        Map<String, List<String>> hs = new LinkedHashMap<>();
        headers.forEach((k, v) -> hs.put(k, new ArrayList<>(v)));
        return new HttpRequestView(
                requestId,
                method,
                h.host(),
                path.path(),
                hs,
                context,
                sourcePrincipal,
                sourceAddress.orElse(""),
                joined,
                path,
                query,
                McpCall.read(hs, joined),
                com.google.protobuf.ByteString.EMPTY);
    }

    /**
     * The replay facts as JSON, character for character what Jackson's default {@code ObjectMapper} writes for the same
     * object tree (the rows already stored were written that way and must read the same). Written by hand because the
     * audit writer makes one per decision: a tree and a generator cost more than the facts themselves. Claims, whose
     * values may be any JSON shape, still go through Jackson.
     */
    public String toJson() {
        StringBuilder o = new StringBuilder(512);
        o.append("{\"v\":1");
        field(o, "m", method);
        field(o, "h", host);
        field(o, "p", rawPath);
        o.append(",\"hd\":{");
        boolean first = true;
        for (Map.Entry<String, List<String>> e : headers.entrySet()) {
            if (!first) {
                o.append(',');
            }
            first = false;
            string(o, e.getKey());
            o.append(':');
            array(o, e.getValue());
        }
        o.append('}');
        strings(o, "hj", joined);
        strings(o, "hk", keptHeaders);
        if (!query.isEmpty()) {
            field(o, "q", query);
        }
        strings(o, "qk", keptQuery);
        strings(o, "ck", keptClaims);
        if (!context.isEmpty()) {
            o.append(",\"cx\":{");
            first = true;
            for (Map.Entry<String, String> e : context.entrySet()) {
                if (!first) {
                    o.append(',');
                }
                first = false;
                string(o, e.getKey());
                o.append(':');
                string(o, e.getValue());
            }
            o.append('}');
        }
        if (!sourcePrincipal.isEmpty()) {
            field(o, "sp", sourcePrincipal);
        }
        sourceAddress.ifPresent(a -> field(o, "sa", a));
        o.append(",\"ak\":").append(addressKept);
        field(o, "cr", credential);
        identity.ifPresent(id -> {
            o.append(",\"id\":{\"sub\":");
            string(o, id.subject());
            id.tenant().ifPresent(t -> field(o, "ten", t));
            strings(o, "rol", id.roles());
            strings(o, "scp", id.scopes());
            id.clientId().ifPresent(c -> field(o, "cid", c));
            field(o, "am", id.authMethod());
            field(o, "iss", id.issuer());
            id.tier().ifPresent(t -> field(o, "tier", t));
            id.credentialId().ifPresent(k -> field(o, "kid", k));
            if (!id.claims().isEmpty()) {
                try {
                    o.append(",\"cl\":").append(JSON.writeValueAsString(JSON.valueToTree(id.claims())));
                } catch (JsonProcessingException e) {
                    throw new IllegalStateException("claims cannot be written as JSON", e);
                }
            }
            o.append('}');
        });
        o.append(",\"al\":").append(allowed);
        o.append(",\"st\":").append(status);
        field(o, "rs", reason);
        route.ifPresent(r -> field(o, "rt", r));
        rule.ifPresent(r -> field(o, "ru", r));
        quota.ifPresent(r -> field(o, "qt", r));
        plan.ifPresent(p -> {
            o.append(",\"pl\":{\"id\":");
            string(o, p.planId());
            field(o, "app", p.applicationId());
            p.refusedBy().ifPresent(b -> field(o, "by", b));
            o.append('}');
        });
        return o.append('}').toString();
    }

    /** {@code ,"key":"value"} (never the first member). */
    private static void field(StringBuilder o, String key, String value) {
        o.append(",\"").append(key).append("\":");
        string(o, value);
    }

    /** A non-empty array member, as the tree left out empty ones. */
    private static void strings(StringBuilder o, String key, java.util.Collection<String> values) {
        if (!values.isEmpty()) {
            o.append(",\"").append(key).append("\":");
            array(o, values);
        }
    }

    private static void array(StringBuilder o, java.util.Collection<String> values) {
        o.append('[');
        boolean first = true;
        for (String v : values) {
            if (!first) {
                o.append(',');
            }
            first = false;
            string(o, v);
        }
        o.append(']');
    }

    /** A JSON string as Jackson writes it by default; a null (which the tree wrote as {@code null}) likewise. */
    private static void string(StringBuilder out, String s) {
        if (s == null) {
            out.append("null");
            return;
        }
        JsonStrings.append(out, s);
    }

    /**
     * Reads {@link #toJson()} back, with the columns the audit row keeps beside it.
     *
     * @throws IllegalArgumentException the text is not a replay record this version reads
     */
    public static RecordedDecision fromJson(
            String json, String requestId, Instant time, Optional<String> subscription) {
        JsonNode o;
        try {
            o = JSON.readTree(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage());
        }
        if (o == null || o.path("v").asInt() != 1) {
            throw new IllegalArgumentException("unknown replay record version");
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = o.path("hd").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            headers.put(e.getKey(), stringList(e.getValue()));
        }
        Map<String, String> context = new TreeMap<>();
        o.path("cx")
                .fields()
                .forEachRemaining(e -> context.put(e.getKey(), e.getValue().asText()));
        Optional<Identity> identity = Optional.empty();
        JsonNode i = o.get("id");
        if (i != null) {
            @SuppressWarnings("unchecked")
            Map<String, Object> claims = i.has("cl") ? JSON.convertValue(i.get("cl"), Map.class) : Map.of();
            identity = Optional.of(new Identity(
                    i.path("sub").asText(),
                    text(i, "ten"),
                    stringList(i.path("rol")),
                    stringList(i.path("scp")),
                    text(i, "cid"),
                    i.path("am").asText(),
                    i.path("iss").asText(),
                    text(i, "tier"),
                    text(i, "kid"),
                    ClaimValues.of(claims)));
        }
        return new RecordedDecision(
                requestId,
                time,
                o.path("m").asText(),
                o.path("h").asText(),
                o.path("p").asText(),
                headers,
                Set.copyOf(stringList(o.path("hj"))),
                Set.copyOf(stringList(o.path("hk"))),
                o.path("q").asText(""),
                Set.copyOf(stringList(o.path("qk"))),
                Set.copyOf(stringList(o.path("ck"))),
                context,
                o.path("sp").asText(""),
                text(o, "sa"),
                o.path("ak").asBoolean(),
                o.path("cr").asText(UNCHECKED),
                identity,
                o.path("al").asBoolean(),
                o.path("st").asInt(),
                o.path("rs").asText(),
                text(o, "rt"),
                text(o, "ru"),
                text(o, "qt"),
                subscription,
                plan(o.get("pl")));
    }

    /** The plan facts; absent on rows written before they were kept (those stay readable, not plan-replayable). */
    private static Optional<PlanUse> plan(JsonNode pl) {
        if (pl == null || !pl.isObject() || !pl.hasNonNull("id") || !pl.hasNonNull("app")) {
            return Optional.empty();
        }
        return Optional.of(new PlanUse(pl.get("id").asText(), pl.get("app").asText(), text(pl, "by")));
    }

    private static Optional<String> text(JsonNode o, String key) {
        JsonNode n = o.get(key);
        return n == null || n.isNull() ? Optional.empty() : Optional.of(n.asText());
    }

    private static List<String> stringList(JsonNode a) {
        List<String> out = new ArrayList<>();
        a.forEach(n -> out.add(n.asText()));
        return List.copyOf(out);
    }
}
