package io.meshguard.authz.policy;

import com.google.re2j.Pattern;
import com.google.re2j.PatternSyntaxException;
import com.nimbusds.jose.JWSAlgorithm;
import io.meshguard.authz.condition.Condition;
import io.meshguard.authz.condition.ConditionCompiler;
import io.meshguard.authz.mesh.IpBlock;
import io.meshguard.authz.mesh.NamePattern;
import io.meshguard.authz.mesh.SourceRule;
import io.meshguard.authz.mesh.SpiffeId;
import io.meshguard.runtime.yaml.YamlNode;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Turns {@code authz.yaml} into an {@link AuthzPolicy}, or a {@link PolicyInvalidException} listing every problem
 * with its line. The schema is documented in {@code policies/README.md}.
 */
public final class AuthzPolicyParser {
    /** JWS algorithms an issuer may allow: asymmetric only, so a public key can never be used as an HMAC secret. */
    static final Set<JWSAlgorithm> ASYMMETRIC = Set.of(
            JWSAlgorithm.RS256,
            JWSAlgorithm.RS384,
            JWSAlgorithm.RS512,
            JWSAlgorithm.PS256,
            JWSAlgorithm.PS384,
            JWSAlgorithm.PS512,
            JWSAlgorithm.ES256,
            JWSAlgorithm.ES384,
            JWSAlgorithm.ES512);

    private static final Set<String> METHODS =
            Set.of("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT");
    private static final java.util.regex.Pattern HEADER_NAME =
            java.util.regex.Pattern.compile("[a-z0-9!#$%&'*+.^_`|~-]+");

    public AuthzPolicy parse(Path file) throws PolicyInvalidException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new PolicyInvalidException(
                    List.of(new PolicyError(file.toString(), 1, "cannot read: " + e.getMessage())));
        }
        return parse(file.toString(), new StringReader(text));
    }

    public AuthzPolicy parse(String file, Reader reader) throws PolicyInvalidException {
        YamlDoc doc = new YamlDoc(file);
        Optional<YamlNode> root = doc.compose(reader);
        if (root.isEmpty()) {
            if (doc.errors().isEmpty()) {
                doc.error(1, "the file is empty; it needs at least 'routes'");
            }
            throw new PolicyInvalidException(doc.errors());
        }
        AuthzPolicy policy = new Reading(doc).policy(root.get());
        if (!doc.errors().isEmpty()) {
            throw new PolicyInvalidException(doc.errors());
        }
        return policy;
    }

    /** The CEL compiler is built on first use: policies without {@code when:} never pay for it. */
    private static final class ConditionCompilerHolder {
        static final ConditionCompiler COMPILER = new ConditionCompiler();
    }

    /** One parse: holds the document and what earlier sections defined, for cross-references. */
    private static final class Reading {
        private final YamlDoc doc;

        Reading(YamlDoc doc) {
            this.doc = doc;
        }

        AuthzPolicy policy(YamlNode root) {
            Map<String, YamlNode> top = doc.mapping(
                    root,
                    "authz policy",
                    Set.of(
                            "settings",
                            "issuers",
                            "header_contract",
                            "rate_limits",
                            "routes",
                            "deny",
                            "mesh",
                            "quotas"));
            Settings settings = top.containsKey("settings") ? settings(top.get("settings")) : Settings.DEFAULTS;
            List<IssuerPolicy> issuers = top.containsKey("issuers") ? issuers(top.get("issuers")) : List.of();
            HeaderContract contract = top.containsKey("header_contract")
                    ? headerContract(top.get("header_contract"))
                    : new HeaderContract(settings.identity.tenant(), List.of(), Map.of());
            Optional<RateLimitPolicy> limits =
                    top.containsKey("rate_limits") ? Optional.of(rateLimits(top.get("rate_limits"))) : Optional.empty();
            MeshSettings mesh = top.containsKey("mesh") ? mesh(top.get("mesh")) : MeshSettings.NONE;
            List<DenyRule> deny = top.containsKey("deny") ? denyRules(top.get("deny")) : List.of();
            List<RoutePolicy> routes = List.of();
            if (!top.containsKey("routes")) {
                doc.error(YamlDoc.line(root), "'routes' is missing: with no route every request is denied");
            } else {
                routes = routes(top.get("routes"), issuers, settings);
            }
            Set<String> routeNames = new HashSet<>();
            routes.forEach(r -> routeNames.add(r.name()));
            List<QuotaPolicy> quotas = top.containsKey("quotas")
                    ? new QuotaPolicyReader(doc).quotas(top.get("quotas"), limits, routeNames)
                    : List.of();
            return new AuthzPolicy(
                    doc.file(),
                    issuers,
                    routes,
                    contract,
                    settings.identity,
                    settings.credentialHeaders,
                    settings.apiKeyHeader,
                    settings.tokenMaxBytes,
                    limits,
                    deny,
                    mesh,
                    quotas);
        }

        private record Settings(
                IdentityHeaders identity, List<String> credentialHeaders, String apiKeyHeader, int tokenMaxBytes) {
            static final Settings DEFAULTS = new Settings(
                    new IdentityHeaders(
                            "x-user-id",
                            "x-tenant-id",
                            "x-user-roles",
                            "x-user-scopes",
                            "x-client-id",
                            "x-auth-method"),
                    List.of("authorization", "x-api-key"),
                    "x-api-key",
                    8192);
        }

        private Settings settings(YamlNode node) {
            Map<String, YamlNode> m = doc.mapping(
                    node,
                    "settings",
                    Set.of("identity_headers", "credential_headers", "api_key_header", "token_max_bytes"));
            IdentityHeaders id = Settings.DEFAULTS.identity;
            if (m.containsKey("identity_headers")) {
                Map<String, YamlNode> h = doc.mapping(
                        m.get("identity_headers"),
                        "settings.identity_headers",
                        Set.of(
                                "subject",
                                "tenant",
                                "roles",
                                "scopes",
                                "client_id",
                                "auth_method",
                                "issuer",
                                "credential_id",
                                "caller_type",
                                "caller_principal"));
                id = new IdentityHeaders(
                        header(h.get("subject"), "identity_headers.subject", id.subject()),
                        header(h.get("tenant"), "identity_headers.tenant", id.tenant()),
                        header(h.get("roles"), "identity_headers.roles", id.roles()),
                        header(h.get("scopes"), "identity_headers.scopes", id.scopes()),
                        header(h.get("client_id"), "identity_headers.client_id", id.clientId()),
                        header(h.get("auth_method"), "identity_headers.auth_method", id.authMethod()),
                        header(h.get("issuer"), "identity_headers.issuer", id.issuer()),
                        header(h.get("credential_id"), "identity_headers.credential_id", id.credentialId()),
                        header(h.get("caller_type"), "identity_headers.caller_type", id.callerType()),
                        header(h.get("caller_principal"), "identity_headers.caller_principal", id.callerPrincipal()));
                if (new HashSet<>(id.all()).size() != id.all().size()) {
                    doc.error(
                            m.get("identity_headers"),
                            "settings.identity_headers: each identity needs its own header name");
                }
            }
            String apiKeyHeader =
                    header(m.get("api_key_header"), "settings.api_key_header", Settings.DEFAULTS.apiKeyHeader);
            List<String> creds = Settings.DEFAULTS.credentialHeaders;
            if (m.containsKey("credential_headers")) {
                creds = headers(m.get("credential_headers"), "settings.credential_headers");
                for (String c : creds) {
                    if (id.all().contains(c)) {
                        // headers_to_remove runs after Envoy applies our sets: removing an identity header would delete
                        // our own value
                        doc.error(
                                m.get("credential_headers"),
                                "settings.credential_headers: '" + c
                                        + "' is an identity header; identity headers are overwritten, never removed");
                    }
                }
            }
            int maxBytes = Settings.DEFAULTS.tokenMaxBytes;
            if (m.containsKey("token_max_bytes")) {
                maxBytes = doc.positiveLong(m.get("token_max_bytes"), "settings.token_max_bytes")
                        .map(n -> (int) Math.min(n, 65536))
                        .orElse(maxBytes);
            }
            return new Settings(id, creds, apiKeyHeader, maxBytes);
        }

        private List<IssuerPolicy> issuers(YamlNode node) {
            List<IssuerPolicy> out = new ArrayList<>();
            Set<String> names = new HashSet<>();
            Set<String> isses = new HashSet<>();
            for (YamlNode item : doc.sequence(node, "issuers")) {
                issuer(item).ifPresent(i -> {
                    if (!names.add(i.name())) {
                        doc.error(i.line(), "issuers: name '" + i.name() + "' is used twice");
                    }
                    if (!isses.add(i.issuer())) {
                        doc.error(i.line(), "issuers: issuer '" + i.issuer() + "' is listed twice");
                    }
                    out.add(i);
                });
            }
            return out;
        }

        private Optional<IssuerPolicy> issuer(YamlNode node) {
            Map<String, YamlNode> m = doc.mapping(
                    node,
                    "issuer",
                    Set.of(
                            "name",
                            "issuer",
                            "jwks_uri",
                            "discovery",
                            "audiences",
                            "algorithms",
                            "clock_skew",
                            "required_claims",
                            "claims",
                            "jwks_cache_ttl",
                            "jwks_max_stale",
                            "jwks_refetch_min_interval",
                            "require_typ",
                            "accept_id_tokens"));
            Optional<String> name = required(m, "name", node, "issuer").flatMap(n -> doc.string(n, "issuer.name"));
            Optional<String> iss = required(m, "issuer", node, "issuer").flatMap(n -> doc.string(n, "issuer.issuer"));
            String what = "issuer " + name.orElse("?");
            Optional<URI> jwks = uri(m.get("jwks_uri"), what + ".jwks_uri");
            Optional<URI> discovery = uri(m.get("discovery"), what + ".discovery");
            if (m.containsKey("jwks_uri") == m.containsKey("discovery")) {
                doc.error(node, what + ": give exactly one of 'jwks_uri' or 'discovery'");
            }
            Set<String> audiences = m.containsKey("audiences")
                    ? new LinkedHashSet<>(doc.strings(m.get("audiences"), what + ".audiences"))
                    : Set.of();
            Set<JWSAlgorithm> algs = new LinkedHashSet<>();
            if (!m.containsKey("algorithms")) {
                algs.add(JWSAlgorithm.RS256);
            } else {
                for (String a : doc.strings(m.get("algorithms"), what + ".algorithms")) {
                    JWSAlgorithm alg = JWSAlgorithm.parse(a);
                    if (a.toUpperCase(Locale.ROOT).startsWith("HS")) {
                        doc.error(
                                m.get("algorithms"),
                                what + ".algorithms: " + a
                                        + " is an HMAC algorithm; issuers are verified with public keys only (RS*, PS*, ES*)");
                    } else if (!ASYMMETRIC.contains(alg)) {
                        doc.error(
                                m.get("algorithms"),
                                what + ".algorithms: unknown or unsupported algorithm '" + a
                                        + "' (use RS256/384/512, PS256/384/512, ES256/384/512)");
                    } else {
                        algs.add(alg);
                    }
                }
                if (algs.isEmpty() && doc.errors().isEmpty()) {
                    doc.error(m.get("algorithms"), what + ".algorithms: list at least one algorithm");
                }
            }
            Duration skew = durationOr(m.get("clock_skew"), what + ".clock_skew", Duration.ofSeconds(60));
            if (skew.compareTo(Duration.ofMinutes(5)) > 0) {
                doc.error(m.get("clock_skew"), what + ".clock_skew: at most 5m (expired tokens would keep working)");
            }
            List<String> required = m.containsKey("required_claims")
                    ? doc.strings(m.get("required_claims"), what + ".required_claims")
                    : List.of();
            ClaimMapping claims = new ClaimMapping(
                    "sub",
                    Optional.empty(),
                    Optional.empty(),
                    Optional.of("scope"),
                    Optional.empty(),
                    Optional.empty());
            if (m.containsKey("claims")) {
                Map<String, YamlNode> c = doc.mapping(
                        m.get("claims"),
                        what + ".claims",
                        Set.of("subject", "tenant", "roles", "scopes", "client_id", "tier"));
                claims = new ClaimMapping(
                        c.containsKey("subject")
                                ? doc.string(c.get("subject"), what + ".claims.subject")
                                        .orElse("sub")
                                : "sub",
                        optString(c.get("tenant"), what + ".claims.tenant"),
                        optString(c.get("roles"), what + ".claims.roles"),
                        c.containsKey("scopes")
                                ? optString(c.get("scopes"), what + ".claims.scopes")
                                : Optional.of("scope"),
                        optString(c.get("client_id"), what + ".claims.client_id"),
                        optString(c.get("tier"), what + ".claims.tier"));
            }
            Duration ttl = durationOr(m.get("jwks_cache_ttl"), what + ".jwks_cache_ttl", Duration.ofMinutes(5));
            Duration stale = durationOr(m.get("jwks_max_stale"), what + ".jwks_max_stale", Duration.ofHours(1));
            Duration refetch = durationOr(
                    m.get("jwks_refetch_min_interval"), what + ".jwks_refetch_min_interval", Duration.ofSeconds(30));
            if (ttl.compareTo(Duration.ofSeconds(1)) < 0) {
                doc.error(m.get("jwks_cache_ttl"), what + ".jwks_cache_ttl: at least 1s");
            }
            if (refetch.compareTo(ttl) >= 0) {
                doc.error(node, what + ": jwks_refetch_min_interval must be shorter than jwks_cache_ttl");
            }
            Optional<String> typ = optString(m.get("require_typ"), what + ".require_typ");
            if (typ.isPresent()
                    && !IssuerPolicy.ACCESS_TOKEN_TYPES.contains(typ.get().toLowerCase(Locale.ROOT))) {
                doc.error(
                        m.get("require_typ"),
                        what + ".require_typ: only 'at+jwt' (RFC 9068) can be required, got '" + typ.get() + "'");
            }
            boolean idTokens = m.containsKey("accept_id_tokens")
                    && doc.bool(m.get("accept_id_tokens"), what + ".accept_id_tokens")
                            .orElse(false);
            if (idTokens && typ.isPresent()) {
                doc.error(
                        m.get("accept_id_tokens"),
                        what + ": accept_id_tokens contradicts require_typ (ID tokens are never at+jwt)");
            }
            if (name.isEmpty() || iss.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new IssuerPolicy(
                    name.get(),
                    iss.get(),
                    jwks,
                    discovery,
                    Set.copyOf(audiences),
                    Set.copyOf(algs),
                    skew,
                    List.copyOf(required),
                    claims,
                    ttl,
                    stale,
                    refetch,
                    YamlDoc.line(node),
                    typ.isPresent(),
                    idTokens));
        }

        private HeaderContract headerContract(YamlNode node) {
            Map<String, YamlNode> m =
                    doc.mapping(node, "header_contract", Set.of("tenant_header", "required", "defaults"));
            String tenant = header(m.get("tenant_header"), "header_contract.tenant_header", "x-tenant-id");
            List<String> required =
                    m.containsKey("required") ? headers(m.get("required"), "header_contract.required") : List.of();
            Map<String, String> defaults = new LinkedHashMap<>();
            if (m.containsKey("defaults")) {
                doc.stringMap(m.get("defaults"), "header_contract.defaults").forEach((k, v) -> {
                    String name = k.toLowerCase(Locale.ROOT);
                    if (!HEADER_NAME.matcher(name).matches()) {
                        doc.error(
                                m.get("defaults"), "header_contract.defaults: '" + k + "' is not a valid header name");
                    }
                    if (v.isEmpty() || !v.equals(v.strip()) || v.chars().anyMatch(c -> c < 0x20 || c > 0x7e)) {
                        doc.error(
                                m.get("defaults"),
                                "header_contract.defaults." + k
                                        + ": the value must be printable ASCII without surrounding spaces");
                    }
                    defaults.put(name, v);
                });
            }
            return new HeaderContract(tenant, required, Map.copyOf(defaults));
        }

        private RateLimitPolicy rateLimits(YamlNode node) {
            Map<String, YamlNode> m = doc.mapping(
                    node,
                    "rate_limits",
                    Set.of(
                            "by",
                            "tiers",
                            "default_tier",
                            "tenant_tiers",
                            "public_tier",
                            "scope",
                            "on_store_error",
                            "headers"));
            String by = m.containsKey("by")
                    ? doc.string(m.get("by"), "rate_limits.by").orElse("tenant")
                    : "tenant";
            if (!by.equals("tenant") && !by.equals("subject")) {
                doc.error(
                        m.get("by"),
                        "rate_limits.by must be 'tenant' or 'subject' (API keys are always limited per key)");
            }
            Map<String, RateLimitPolicy.RateTier> tiers = new LinkedHashMap<>();
            // names of every declared tier, valid or not: a broken tier is reported once, not again where it is named
            Set<String> names = new HashSet<>();
            if (!m.containsKey("tiers")) {
                doc.error(node, "rate_limits: 'tiers' is missing");
            } else {
                Map<String, YamlNode> declared = doc.mapping(m.get("tiers"), "rate_limits.tiers", Set.of());
                names.addAll(declared.keySet());
                if (declared.isEmpty() && m.get("tiers").isMap()) {
                    doc.error(m.get("tiers"), "rate_limits.tiers: declare at least one tier");
                }
                for (Map.Entry<String, YamlNode> e : declared.entrySet()) {
                    tier(e.getKey(), e.getValue()).ifPresent(t -> tiers.put(t.name(), t));
                }
            }
            String defaultTier = m.containsKey("default_tier")
                    ? doc.string(m.get("default_tier"), "rate_limits.default_tier")
                            .orElse("")
                    : "";
            if (!m.containsKey("default_tier")) {
                doc.error(node, "rate_limits: 'default_tier' is missing");
            } else if (!names.contains(defaultTier)) {
                doc.error(m.get("default_tier"), "rate_limits.default_tier: no tier named '" + defaultTier + "'");
            }
            Map<String, String> tenantTiers = m.containsKey("tenant_tiers")
                    ? doc.stringMap(m.get("tenant_tiers"), "rate_limits.tenant_tiers")
                    : Map.of();
            tenantTiers.forEach((tenant, tier) -> {
                if (!names.contains(tier)) {
                    doc.error(
                            m.get("tenant_tiers"),
                            "rate_limits.tenant_tiers." + tenant + ": no tier named '" + tier + "'");
                }
            });
            String publicTier = m.containsKey("public_tier")
                    ? doc.string(m.get("public_tier"), "rate_limits.public_tier")
                            .orElse(defaultTier)
                    : defaultTier;
            if (m.containsKey("public_tier") && !names.contains(publicTier)) {
                doc.error(m.get("public_tier"), "rate_limits.public_tier: no tier named '" + publicTier + "'");
            }
            RateLimitPolicy.LimitScope scope = m.containsKey("scope")
                    ? limitScope(m.get("scope"), "rate_limits.scope").orElse(RateLimitPolicy.LimitScope.POLICY)
                    : RateLimitPolicy.LimitScope.POLICY;
            RateLimitPolicy.OnStoreError onError = m.containsKey("on_store_error")
                    ? onStoreError(m.get("on_store_error"), "rate_limits.on_store_error")
                            .orElse(RateLimitPolicy.OnStoreError.DEGRADED)
                    : RateLimitPolicy.OnStoreError.DEGRADED;
            RateLimitPolicy.HeaderStyle headers = RateLimitPolicy.HeaderStyle.BOTH;
            if (m.containsKey("headers")) {
                String v = doc.string(m.get("headers"), "rate_limits.headers").orElse("both");
                Optional<RateLimitPolicy.HeaderStyle> style = RateLimitPolicy.HeaderStyle.fromYaml(v);
                if (style.isEmpty()) {
                    doc.error(
                            m.get("headers"),
                            "rate_limits.headers must be one of both, ietf, x_ratelimit, off; got '" + v + "'");
                }
                headers = style.orElse(RateLimitPolicy.HeaderStyle.BOTH);
            }
            return new RateLimitPolicy(
                    by, Map.copyOf(tiers), defaultTier, Map.copyOf(tenantTiers), publicTier, scope, onError, headers);
        }

        /** Most limits one tier may hold: each is one key the store script reads and writes per Check. */
        private static final int MAX_LIMITS_PER_TIER = 8;

        private static final java.time.Duration LONGEST_PERIOD = java.time.Duration.ofDays(1);

        /** {@code {requests_per_second, burst}} (one limit) or {@code {limits: [{requests, per, burst}, ...]}}. */
        private Optional<RateLimitPolicy.RateTier> tier(String name, YamlNode node) {
            String what = "rate_limits.tiers." + name;
            Map<String, YamlNode> t = doc.mapping(node, what, Set.of("requests_per_second", "burst", "limits"));
            if (t.containsKey("limits")) {
                if (t.containsKey("requests_per_second") || t.containsKey("burst")) {
                    doc.error(node, what + ": give either 'limits' or 'requests_per_second'/'burst', not both");
                    return Optional.empty();
                }
                List<YamlNode> items = doc.sequence(t.get("limits"), what + ".limits");
                if (items.isEmpty()) {
                    if (t.get("limits").isList()) {
                        doc.error(t.get("limits"), what + ".limits: list at least one limit");
                    }
                    return Optional.empty();
                }
                if (items.size() > MAX_LIMITS_PER_TIER) {
                    doc.error(
                            t.get("limits"),
                            what + ".limits: at most " + MAX_LIMITS_PER_TIER + " limits per tier, got " + items.size());
                    return Optional.empty();
                }
                List<RateLimitPolicy.Limit> limits = new ArrayList<>();
                Set<java.time.Duration> periods = new HashSet<>();
                int i = 0;
                boolean ok = true;
                for (YamlNode item : items) {
                    String at = what + ".limits[" + i++ + "]";
                    Optional<RateLimitPolicy.Limit> limit = limit(item, at);
                    if (limit.isPresent() && !periods.add(limit.get().per())) {
                        doc.error(
                                item,
                                at + ": another limit of this tier has the same period "
                                        + Durations.format(limit.get().per()) + "; keep the stricter one");
                        ok = false;
                    }
                    limit.ifPresentOrElse(limits::add, () -> {});
                    ok &= limit.isPresent();
                }
                return ok ? Optional.of(new RateLimitPolicy.RateTier(name, limits)) : Optional.empty();
            }
            if (!t.containsKey("requests_per_second")) {
                doc.error(node, what + ": give 'limits: [{requests: 50, per: 1s}, ...]' or 'requests_per_second'");
                return Optional.empty();
            }
            Optional<Double> rps = doc.positiveDouble(t.get("requests_per_second"), what + ".requests_per_second");
            if (rps.isPresent() && (rps.get() > 1_000_000 || rps.get() < 1.0 / 86_400)) {
                doc.error(
                        t.get("requests_per_second"),
                        what + ".requests_per_second must be between 1/86400 and 1000000, got " + rps.get());
                return Optional.empty();
            }
            Optional<Long> burst = t.containsKey("burst")
                    ? doc.positiveLong(t.get("burst"), what + ".burst")
                    : Optional.of(Math.max(1, (long) Math.ceil(rps.orElse(1.0))));
            if (rps.isEmpty() || burst.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(RateLimitPolicy.RateTier.perSecond(name, rps.get(), burst.get()));
        }

        private Optional<RateLimitPolicy.Limit> limit(YamlNode node, String what) {
            Map<String, YamlNode> l = doc.mapping(node, what, Set.of("requests", "per", "burst"));
            Optional<Long> requests =
                    required(l, "requests", node, what).flatMap(n -> doc.positiveLong(n, what + ".requests"));
            Optional<java.time.Duration> per =
                    required(l, "per", node, what).flatMap(n -> doc.duration(n, what + ".per"));
            Optional<Long> burst =
                    l.containsKey("burst") ? doc.positiveLong(l.get("burst"), what + ".burst") : requests;
            if (requests.isEmpty() || per.isEmpty() || burst.isEmpty()) {
                return Optional.empty();
            }
            if (per.get().toMillis() < 1 || per.get().compareTo(LONGEST_PERIOD) > 0) {
                doc.error(
                        l.get("per"),
                        what + ".per must be between 1ms and 1d (calendar days and months are 'quotas:'), got "
                                + Durations.format(per.get()));
                return Optional.empty();
            }
            if (requests.get() > 1_000_000_000L || burst.get() > 1_000_000_000L) {
                doc.error(node, what + ": requests and burst must be at most 1000000000");
                return Optional.empty();
            }
            if (per.get().toNanos() / 1000 < requests.get()) {
                doc.error(
                        l.get("requests"),
                        what + ": " + requests.get() + " requests per " + Durations.format(per.get())
                                + " is more than one per microsecond (the limiter's resolution)");
                return Optional.empty();
            }
            return Optional.of(new RateLimitPolicy.Limit(requests.get(), per.get(), burst.get()));
        }

        private Optional<RateLimitPolicy.LimitScope> limitScope(YamlNode node, String what) {
            return doc.string(node, what).flatMap(v -> {
                Optional<RateLimitPolicy.LimitScope> s = RateLimitPolicy.LimitScope.fromYaml(v);
                if (s.isEmpty()) {
                    doc.error(
                            node,
                            what
                                    + " must be 'policy' (one count per caller) or 'route' (one per caller and route), got '"
                                    + v + "'");
                }
                return s;
            });
        }

        private Optional<RateLimitPolicy.OnStoreError> onStoreError(YamlNode node, String what) {
            return doc.string(node, what).flatMap(v -> {
                Optional<RateLimitPolicy.OnStoreError> s = RateLimitPolicy.OnStoreError.fromYaml(v);
                if (s.isEmpty()) {
                    doc.error(
                            node,
                            what + " must be 'degraded' (each replica enforces its share) or 'fail_closed' (503), got '"
                                    + v + "'");
                }
                return s;
            });
        }

        private List<RoutePolicy> routes(YamlNode node, List<IssuerPolicy> issuers, Settings settings) {
            List<RoutePolicy> out = new ArrayList<>();
            Set<String> names = new HashSet<>();
            List<YamlNode> items = doc.sequence(node, "routes");
            if (items.isEmpty() && node.isList()) {
                doc.error(node, "routes: list at least one route; with none every request is denied");
            }
            for (YamlNode item : items) {
                route(item, settings, issuers).ifPresent(r -> {
                    if (!names.add(r.name())) {
                        doc.error(r.line(), "routes: name '" + r.name() + "' is used twice");
                    }
                    if (r.auth().acceptsJwt() && issuers.isEmpty()) {
                        doc.error(
                                r.line(),
                                "route " + r.name() + ": auth " + r.auth().yaml()
                                        + " needs at least one entry in 'issuers'");
                    }
                    out.add(r);
                });
            }
            return out;
        }

        private Optional<RoutePolicy> route(YamlNode node, Settings settings, List<IssuerPolicy> issuers) {
            Map<String, YamlNode> m = doc.mapping(
                    node,
                    "route",
                    Set.of(
                            "name",
                            "match",
                            "auth",
                            "roles",
                            "scopes",
                            "header_contract",
                            "rate_limit",
                            "upstream_credential",
                            "allow_path_parameters",
                            "issuers",
                            "pass_headers",
                            "from",
                            "when",
                            "via_gateway",
                            "products_only",
                            "mcp"));
            Optional<String> name = required(m, "name", node, "route").flatMap(n -> doc.string(n, "route.name"));
            String what = "route " + name.orElse("?");
            Optional<RouteMatch> match = required(m, "match", node, what).flatMap(n -> match(n, what));
            Optional<AuthMode> auth = required(m, "auth", node, what)
                    .flatMap(n -> doc.string(n, what + ".auth").flatMap(v -> {
                        Optional<AuthMode> mode = AuthMode.fromYaml(v);
                        if (mode.isEmpty()) {
                            doc.error(
                                    n,
                                    what + ".auth: '" + v + "' is not one of jwt, apikey, jwt_or_apikey, mtls, none");
                        }
                        return mode;
                    }));
            RoleRequirement roles = m.containsKey("roles") ? roles(m.get("roles"), what) : RoleRequirement.NONE;
            Set<String> scopes =
                    m.containsKey("scopes") ? Set.copyOf(doc.strings(m.get("scopes"), what + ".scopes")) : Set.of();
            if (auth.orElse(null) == AuthMode.NONE && (!roles.equals(RoleRequirement.NONE) || !scopes.isEmpty())) {
                doc.error(node, what + ": a route with auth none has no caller to check roles or scopes on");
            }
            boolean exempt = false;
            if (m.containsKey("header_contract")) {
                String v = doc.string(m.get("header_contract"), what + ".header_contract")
                        .orElse("enforced");
                if (v.equals("exempt")) {
                    exempt = true;
                    if (auth.isPresent() && auth.get() != AuthMode.NONE && auth.get() != AuthMode.MTLS) {
                        doc.error(
                                m.get("header_contract"),
                                what
                                        + ": only public routes (auth none) and workload routes (auth mtls) may be exempt from the header contract");
                    }
                } else if (!v.equals("enforced")) {
                    doc.error(m.get("header_contract"), what + ".header_contract must be 'enforced' or 'exempt'");
                }
            }
            boolean rateLimited = true;
            RateLimitPolicy.RouteLimit routeLimit = RateLimitPolicy.RouteLimit.INHERIT;
            if (m.containsKey("rate_limit") && m.get("rate_limit").isMap()) {
                Map<String, YamlNode> rl =
                        doc.mapping(m.get("rate_limit"), what + ".rate_limit", Set.of("scope", "on_store_error"));
                routeLimit = new RateLimitPolicy.RouteLimit(
                        rl.containsKey("scope")
                                ? limitScope(rl.get("scope"), what + ".rate_limit.scope")
                                : Optional.empty(),
                        rl.containsKey("on_store_error")
                                ? onStoreError(rl.get("on_store_error"), what + ".rate_limit.on_store_error")
                                : Optional.empty());
            } else if (m.containsKey("rate_limit")) {
                String v = doc.string(m.get("rate_limit"), what + ".rate_limit").orElse("on");
                if (v.equals("off") || v.equals("false")) {
                    rateLimited = false;
                } else if (!v.equals("on") && !v.equals("true")) {
                    doc.error(
                            m.get("rate_limit"),
                            what + ".rate_limit must be 'on', 'off' or a mapping {scope, on_store_error}");
                }
            }
            Optional<UpstreamCredential> upstream = Optional.empty();
            if (m.containsKey("upstream_credential")) {
                Map<String, YamlNode> u = doc.mapping(
                        m.get("upstream_credential"),
                        what + ".upstream_credential",
                        Set.of("header", "prefix", "file"));
                String header = header(u.get("header"), what + ".upstream_credential.header", "authorization");
                String prefix = u.containsKey("prefix")
                        ? doc.string(u.get("prefix"), what + ".upstream_credential.prefix")
                                .orElse("")
                        : "";
                Optional<String> file = required(u, "file", m.get("upstream_credential"), what + ".upstream_credential")
                        .flatMap(n -> doc.string(n, what + ".upstream_credential.file"));
                if (settings.identity.all().contains(header)) {
                    doc.error(
                            m.get("upstream_credential"),
                            what + ".upstream_credential.header: '" + header + "' is an identity header");
                }
                if (auth.orElse(null) == AuthMode.NONE) {
                    doc.error(
                            m.get("upstream_credential"),
                            what + ": a public route gets no service credential (anyone could use it)");
                }
                upstream = file.map(f -> new UpstreamCredential(header, prefix, Path.of(f)));
            }
            RouteOptions options = routeOptions(m, node, what, auth, issuers).withRateLimit(routeLimit);
            RouteAccess access = access(m, node, what, auth, roles, scopes);
            Optional<McpResource> resource = access.mcp().flatMap(McpRoute::resource);
            if (access.mcp().flatMap(McpRoute::tokenExchange).isPresent()) {
                if (auth.isPresent() && auth.get() != AuthMode.JWT) {
                    // an API key or a mesh peer is no token an identity provider could exchange
                    doc.error(m.get("mcp"), what + ".mcp.token_exchange: only a token can be exchanged (auth jwt)");
                }
                if (!settings.credentialHeaders.contains("authorization")) {
                    doc.error(
                            m.get("mcp"),
                            what + ".mcp.token_exchange: the exchanged token replaces the client's in authorization; "
                                    + "keep authorization in settings.credential_headers");
                }
                if (upstream.isPresent()) {
                    doc.error(
                            m.get("mcp"),
                            what + ".mcp.token_exchange: the route also sets upstream_credential; the MCP server gets "
                                    + "one credential, the exchanged token");
                }
            }
            if (resource.isPresent()) {
                if (auth.isPresent() && auth.get() != AuthMode.JWT) {
                    // an API key or a mesh peer names no audience: the server could not tell it was meant for it
                    doc.error(
                            m.get("mcp"),
                            what + ".mcp.resource: an OAuth protected MCP server takes tokens (auth jwt)");
                }
                if (!settings.credentialHeaders.contains("authorization")) {
                    // the spec's servers "MUST NOT accept or transit any other tokens": the client's token stays here
                    doc.error(
                            m.get("mcp"),
                            what + ".mcp.resource: an MCP server never gets the client's token; keep authorization in "
                                    + "settings.credential_headers");
                }
                if (match.isPresent() && !match.get().hostMatches(resource.get().host())) {
                    doc.error(
                            m.get("mcp"),
                            what + ".mcp.resource: its host " + resource.get().host()
                                    + " is not one the route matches; its metadata would never be asked of this route");
                }
            }
            if (name.isEmpty() || match.isEmpty() || auth.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(new RoutePolicy(
                    name.get(),
                    match.get(),
                    auth.get(),
                    roles,
                    scopes,
                    exempt,
                    rateLimited,
                    upstream,
                    YamlDoc.line(node),
                    options,
                    access));
        }

        private RouteOptions routeOptions(
                Map<String, YamlNode> m,
                YamlNode node,
                String what,
                Optional<AuthMode> auth,
                List<IssuerPolicy> issuers) {
            boolean params = m.containsKey("allow_path_parameters")
                    && doc.bool(m.get("allow_path_parameters"), what + ".allow_path_parameters")
                            .orElse(false);
            Set<String> pinned = new LinkedHashSet<>();
            if (m.containsKey("issuers")) {
                for (String i : doc.strings(m.get("issuers"), what + ".issuers")) {
                    if (issuers.stream().noneMatch(p -> p.name().equals(i))) {
                        doc.error(
                                m.get("issuers"),
                                what + ".issuers: no issuer named '" + i + "' (issuers are named by 'name')");
                    }
                    pinned.add(i);
                }
                if (auth.isPresent() && !auth.get().acceptsJwt()) {
                    doc.error(
                            m.get("issuers"),
                            what
                                    + ".issuers: only routes that accept tokens (auth jwt or jwt_or_apikey) can pin issuers");
                }
                if (pinned.isEmpty()) {
                    doc.error(
                            m.get("issuers"),
                            what + ".issuers: list at least one issuer, or leave the key out to accept all");
                }
            }
            Set<String> pass = new LinkedHashSet<>();
            if (m.containsKey("pass_headers")) {
                for (String h : headers(m.get("pass_headers"), what + ".pass_headers")) {
                    if (!OwnedHeaders.OVERRIDE_HEADERS.contains(h)) {
                        doc.error(
                                m.get("pass_headers"),
                                what + ".pass_headers: '" + h + "' is not a method/URL override header"
                                        + " meshguard removes ("
                                        + String.join(", ", new java.util.TreeSet<>(OwnedHeaders.OVERRIDE_HEADERS))
                                        + "); identity, tenant, contract and credential headers are never passed");
                    }
                    pass.add(h);
                }
            }
            boolean productsOnly = m.containsKey("products_only")
                    && doc.bool(m.get("products_only"), what + ".products_only").orElse(false);
            if (productsOnly
                    && auth.isPresent()
                    && !(auth.get().acceptsJwt() || auth.get().acceptsApiKey())) {
                doc.error(
                        m.get("products_only"),
                        what + ".products_only: product routes admit API keys or OAuth2"
                                + " clients' tokens (auth apikey, jwt or jwt_or_apikey)");
            }
            return new RouteOptions(params, Set.copyOf(pinned), Set.copyOf(pass), productsOnly);
        }

        private RouteAccess access(
                Map<String, YamlNode> m,
                YamlNode node,
                String what,
                Optional<AuthMode> auth,
                RoleRequirement roles,
                Set<String> scopes) {
            List<SourceRule> from = m.containsKey("from") ? sources(m.get("from"), what + ".from") : List.of();
            List<Condition> when = m.containsKey("when") ? conditions(m.get("when"), what + ".when", false) : List.of();
            boolean viaGateway = m.containsKey("via_gateway")
                    && doc.bool(m.get("via_gateway"), what + ".via_gateway").orElse(false);
            if (auth.orElse(null) == AuthMode.MTLS) {
                if (from.isEmpty()) {
                    doc.error(
                            node,
                            what + ": auth mtls makes the mesh peer the credential; list who may call in 'from' "
                                    + "(principals, namespaces or service_accounts)");
                }
                if (!roles.equals(RoleRequirement.NONE) || !scopes.isEmpty()) {
                    doc.error(
                            node, what + ": a workload (auth mtls) has no roles or scopes; say who may call in 'from'");
                }
                if (viaGateway) {
                    doc.error(
                            m.get("via_gateway"),
                            what + ": via_gateway needs a user identity from the gateway; auth mtls has none");
                }
            }
            if (viaGateway && auth.orElse(null) == AuthMode.NONE) {
                doc.error(m.get("via_gateway"), what + ": a public route (auth none) cannot require the gateway hop");
            }
            Optional<McpRoute> mcp = m.containsKey("mcp") ? mcp(m.get("mcp"), what, when) : Optional.empty();
            if (mcp.isEmpty() && when.stream().anyMatch(Condition::readsMcp)) {
                doc.error(
                        m.get("when"),
                        what + ".when: mcp.* is read only on an MCP route (add 'mcp: true' or an 'mcp:' mapping): "
                                + "elsewhere nothing holds the MCP headers to the era or to the body");
            }
            return new RouteAccess(from, when, viaGateway, mcp);
        }

        private RoleRequirement roles(YamlNode r, String what) {
            if (r.isMap()) {
                Map<String, YamlNode> rm = doc.mapping(r, what + ".roles", Set.of("any_of", "all_of"));
                return new RoleRequirement(
                        rm.containsKey("any_of")
                                ? Set.copyOf(doc.strings(rm.get("any_of"), what + ".roles.any_of"))
                                : Set.of(),
                        rm.containsKey("all_of")
                                ? Set.copyOf(doc.strings(rm.get("all_of"), what + ".roles.all_of"))
                                : Set.of());
            }
            return new RoleRequirement(Set.copyOf(doc.strings(r, what + ".roles")), Set.of());
        }

        /** {@code mcp: true}, or a mapping of the methods and tools the route takes ({@link McpRoute}). */
        private Optional<McpRoute> mcp(YamlNode node, String what, List<Condition> routeWhen) {
            boolean readMcp = routeWhen.stream().anyMatch(Condition::readsMcp);
            if (!node.isMap()) {
                boolean on = doc.bool(node, what + ".mcp").orElse(false);
                return on
                        ? Optional.of(
                                new McpRoute(Set.of(), List.of(), false, readMcp, Optional.empty(), Optional.empty()))
                        : Optional.empty();
            }
            Map<String, YamlNode> m = doc.mapping(
                    node,
                    what + ".mcp",
                    Set.of("methods", "tools", "resource", "authorization_servers", "token_exchange"));
            Set<String> methods = m.containsKey("methods")
                    ? Set.copyOf(doc.strings(m.get("methods"), what + ".mcp.methods"))
                    : Set.of();
            if (m.containsKey("methods") && methods.isEmpty()) {
                doc.error(m.get("methods"), what + ".mcp.methods: list at least one method, or leave the key out");
            }
            List<McpRoute.Tool> tools = new ArrayList<>();
            if (m.containsKey("tools")) {
                Set<String> seen = new java.util.HashSet<>();
                for (YamlNode item : doc.sequence(m.get("tools"), what + ".mcp.tools")) {
                    Map<String, YamlNode> t =
                            doc.mapping(item, what + ".mcp.tools[]", Set.of("name", "roles", "scopes", "when"));
                    Optional<String> toolName = required(t, "name", item, what + ".mcp.tools[]")
                            .flatMap(n -> doc.string(n, what + ".mcp.tools[].name"));
                    if (toolName.isEmpty()) {
                        continue;
                    }
                    String tw = what + ".mcp.tools." + toolName.get();
                    if (!seen.add(toolName.get())) {
                        doc.error(item, tw + ": listed twice");
                    }
                    tools.add(new McpRoute.Tool(
                            toolName.get(),
                            t.containsKey("roles") ? roles(t.get("roles"), tw) : RoleRequirement.NONE,
                            t.containsKey("scopes")
                                    ? Set.copyOf(doc.strings(t.get("scopes"), tw + ".scopes"))
                                    : Set.of(),
                            t.containsKey("when") ? conditions(t.get("when"), tw + ".when", false) : List.of(),
                            YamlDoc.line(item)));
                }
                if (!methods.isEmpty() && !methods.contains("tools/call")) {
                    doc.error(m.get("tools"), what + ".mcp: tools are listed but methods does not take tools/call");
                }
            }
            Optional<McpResource> resource = resource(m, what);
            Optional<McpTokenExchange> exchange = m.containsKey("token_exchange")
                    ? tokenExchange(m.get("token_exchange"), what, resource)
                    : Optional.empty();
            return Optional.of(new McpRoute(methods, tools, m.containsKey("tools"), readMcp, resource, exchange));
        }

        /**
         * {@code token_exchange:} ({@code {}} or {@code {audience, scope}}): the audience defaults to the route's
         * {@code resource:}; without either there is nothing to ask the identity provider for.
         */
        private Optional<McpTokenExchange> tokenExchange(YamlNode node, String what, Optional<McpResource> resource) {
            String w = what + ".mcp.token_exchange";
            Map<String, YamlNode> t = doc.mapping(node, w, Set.of("audience", "scope"));
            Optional<String> audience = t.containsKey("audience")
                    ? doc.string(t.get("audience"), w + ".audience")
                    : resource.map(McpResource::uri);
            if (audience.isEmpty()) {
                if (!t.containsKey("audience")) {
                    doc.error(
                            node,
                            w + ": name the MCP server's audience (audience: its client id or URI at the identity "
                                    + "provider), or the server's canonical URI in mcp.resource");
                }
                return Optional.empty();
            }
            if (!McpTokenExchange.visibleAscii(audience.get(), false)) {
                doc.error(t.get("audience"), w + ".audience: one client id or URI, visible ASCII without spaces");
                return Optional.empty();
            }
            Optional<String> scope = Optional.empty();
            if (t.containsKey("scope")) {
                scope = doc.string(t.get("scope"), w + ".scope");
                if (scope.isPresent() && !McpTokenExchange.visibleAscii(scope.get(), true)) {
                    doc.error(t.get("scope"), w + ".scope: space-separated scope names, visible ASCII");
                    return Optional.empty();
                }
            }
            return Optional.of(new McpTokenExchange(audience.get(), scope));
        }

        /**
         * {@code resource:} and {@code authorization_servers:}: the MCP server's canonical URI, and where a client gets
         * a token for it (default: the issuers the route accepts).
         */
        private Optional<McpResource> resource(Map<String, YamlNode> m, String what) {
            List<String> servers = m.containsKey("authorization_servers")
                    ? doc.strings(m.get("authorization_servers"), what + ".mcp.authorization_servers")
                    : List.of();
            for (String s : servers) {
                if (McpResource.canonical(s).isEmpty()) {
                    doc.error(
                            m.get("authorization_servers"),
                            what + ".mcp.authorization_servers: '" + s + "' is not an absolute http(s) URL");
                }
            }
            if (!m.containsKey("resource")) {
                if (m.containsKey("authorization_servers")) {
                    doc.error(
                            m.get("authorization_servers"),
                            what + ".mcp.authorization_servers: name the server's canonical URI in 'resource' too");
                }
                return Optional.empty();
            }
            Optional<String> raw = doc.string(m.get("resource"), what + ".mcp.resource");
            if (raw.isEmpty()) {
                return Optional.empty();
            }
            Optional<McpResource> resource = McpResource.of(raw.get(), servers);
            if (resource.isEmpty()) {
                doc.error(
                        m.get("resource"),
                        what + ".mcp.resource: the MCP server's canonical URI is an absolute http(s) URI with a host "
                                + "and no user information, query or fragment (RFC 8707 §2), e.g. https://mcp.example.com/mcp");
            }
            return resource;
        }

        private MeshSettings mesh(YamlNode node) {
            Map<String, YamlNode> m =
                    doc.mapping(node, "mesh", Set.of("trusted_gateways", "trusted_proxy_hops", "trusted_waypoints"));
            Set<String> gateways = spiffeIds(m, "trusted_gateways");
            Set<String> waypoints = spiffeIds(m, "trusted_waypoints");
            if (m.containsKey("trusted_proxy_hops")) {
                // the client address is Envoy's verdict now (decision/ClientAddress): a hop count here would be a
                // second, disagreeing place; refused so a policy never silently means something else
                doc.error(
                        m.get("trusted_proxy_hops"),
                        "mesh.trusted_proxy_hops is no longer read: the edge gateway's "
                                + "Envoy decides the client address; set xds.gateway.xff_num_trusted_hops on the controller "
                                + "(policies/README.md, \"Who the client is\")");
            }
            int hops = 0;
            return new MeshSettings(gateways, hops, waypoints);
        }

        /** {@code mesh.<key>}: exact SPIFFE IDs (a wildcard would trust a name anyone may create in their namespace). */
        private Set<String> spiffeIds(Map<String, YamlNode> m, String key) {
            Set<String> ids = new LinkedHashSet<>();
            if (m.containsKey(key)) {
                for (String g : doc.strings(m.get(key), "mesh." + key)) {
                    Optional<SpiffeId> id = SpiffeId.parse(g.startsWith("spiffe://") ? g : "spiffe://" + g);
                    if (id.isEmpty() || g.contains("*")) {
                        doc.error(
                                m.get(key),
                                "mesh." + key + ": '" + g
                                        + "' is not a SPIFFE ID (trust-domain/ns/<namespace>/sa/<account>, no wildcards)");
                    } else {
                        ids.add(id.get().id());
                    }
                }
            }
            return ids;
        }

        private List<DenyRule> denyRules(YamlNode node) {
            List<DenyRule> out = new ArrayList<>();
            Set<String> names = new HashSet<>();
            for (YamlNode item : doc.sequence(node, "deny")) {
                Map<String, YamlNode> m = doc.mapping(item, "deny rule", Set.of("name", "match", "from", "when"));
                Optional<String> name = required(m, "name", item, "deny rule").flatMap(n -> doc.string(n, "deny.name"));
                String what = "deny rule " + name.orElse("?");
                Optional<RouteMatch> match = m.containsKey("match") ? match(m.get("match"), what) : Optional.empty();
                List<SourceRule> from = m.containsKey("from") ? sources(m.get("from"), what + ".from") : List.of();
                List<Condition> when =
                        m.containsKey("when") ? conditions(m.get("when"), what + ".when", true) : List.of();
                if (!m.containsKey("match") && !m.containsKey("from") && !m.containsKey("when")) {
                    doc.error(
                            item,
                            what + ": give at least one of match, from, when (a rule with none would deny everything)");
                }
                if (name.isPresent() && !names.add(name.get())) {
                    doc.error(item, "deny: name '" + name.get() + "' is used twice");
                }
                name.ifPresent(n -> out.add(new DenyRule(n, match, from, when, YamlDoc.line(item))));
            }
            return List.copyOf(out);
        }

        private static final Set<String> SOURCE_KEYS = Set.of(
                "principals",
                "not_principals",
                "trust_domains",
                "not_trust_domains",
                "namespaces",
                "not_namespaces",
                "service_accounts",
                "not_service_accounts",
                "ip_blocks",
                "not_ip_blocks",
                "remote_ip_blocks",
                "not_remote_ip_blocks");

        /** {@code from:} is a list of sources (one must match); a single mapping is read as a list of one. */
        private List<SourceRule> sources(YamlNode node, String what) {
            List<YamlNode> items = node.isMap() ? List.of(node) : doc.sequence(node, what);
            if (items.isEmpty() && node.isList()) {
                doc.error(node, what + ": list at least one source");
            }
            List<SourceRule> out = new ArrayList<>();
            for (YamlNode item : items) {
                Map<String, YamlNode> m = doc.mapping(item, what, SOURCE_KEYS);
                if (m.isEmpty() && item.isMap()) {
                    doc.error(item, what + ": an empty source would match every caller; name who may call");
                }
                out.add(new SourceRule(
                        patterns(m.get("principals"), what + ".principals", true),
                        patterns(m.get("not_principals"), what + ".not_principals", true),
                        patterns(m.get("trust_domains"), what + ".trust_domains", false),
                        patterns(m.get("not_trust_domains"), what + ".not_trust_domains", false),
                        patterns(m.get("namespaces"), what + ".namespaces", false),
                        patterns(m.get("not_namespaces"), what + ".not_namespaces", false),
                        serviceAccounts(m.get("service_accounts"), what + ".service_accounts"),
                        serviceAccounts(m.get("not_service_accounts"), what + ".not_service_accounts"),
                        blocks(m.get("ip_blocks"), what + ".ip_blocks"),
                        blocks(m.get("not_ip_blocks"), what + ".not_ip_blocks"),
                        blocks(m.get("remote_ip_blocks"), what + ".remote_ip_blocks"),
                        blocks(m.get("not_remote_ip_blocks"), what + ".not_remote_ip_blocks"),
                        YamlDoc.line(item)));
            }
            return List.copyOf(out);
        }

        private List<NamePattern> patterns(YamlNode node, String what, boolean principal) {
            if (node == null) {
                return List.of();
            }
            List<NamePattern> out = new ArrayList<>();
            for (String v : doc.strings(node, what)) {
                // principals are compared without the scheme, as Istio writes them; both spellings are accepted
                String text = principal && v.startsWith("spiffe://") ? v.substring("spiffe://".length()) : v;
                Optional<NamePattern> p = NamePattern.parse(text);
                if (p.isEmpty()) {
                    doc.error(node, what + ": '" + v + "' is not exact, prefix*, *suffix or *");
                } else if (principal
                        && p.get().kind() == NamePattern.Kind.EXACT
                        && SpiffeId.parse("spiffe://" + text).isEmpty()) {
                    doc.error(node, what + ": '" + v + "' is not a valid SPIFFE ID and would never match");
                } else {
                    out.add(p.get());
                }
            }
            if (out.isEmpty() && doc.errors().isEmpty()) {
                doc.error(node, what + ": list at least one value");
            }
            return List.copyOf(out);
        }

        private List<String> serviceAccounts(YamlNode node, String what) {
            if (node == null) {
                return List.of();
            }
            List<String> out = new ArrayList<>();
            for (String v : doc.strings(node, what)) {
                String[] parts = v.split("/", -1);
                if (parts.length != 2
                        || SpiffeId.parse("spiffe://td/ns/" + parts[0] + "/sa/" + parts[1])
                                .isEmpty()) {
                    doc.error(node, what + ": '" + v + "' must be <namespace>/<service-account> (no wildcards)");
                } else {
                    out.add(v);
                }
            }
            return List.copyOf(out);
        }

        private List<IpBlock> blocks(YamlNode node, String what) {
            if (node == null) {
                return List.of();
            }
            List<IpBlock> out = new ArrayList<>();
            for (String v : doc.strings(node, what)) {
                Optional<IpBlock> b = IpBlock.parse(v.trim());
                if (b.isEmpty()) {
                    doc.error(node, what + ": '" + v + "' is not an IP address or CIDR block");
                } else {
                    out.add(b.get());
                }
            }
            return List.copyOf(out);
        }

        /** {@code when:} is one CEL expression or a list of them, all of which must hold. */
        private List<Condition> conditions(YamlNode node, String what, boolean beforeCredential) {
            List<YamlNode> items = node.isList() ? node.asList() : List.of(node);
            List<Condition> out = new ArrayList<>();
            for (YamlNode item : items) {
                Optional<String> expr = doc.string(item, what);
                if (expr.isEmpty()) {
                    continue;
                }
                Condition c = ConditionCompilerHolder.COMPILER.compile(
                        expr.get(),
                        YamlDoc.line(item),
                        beforeCredential,
                        (line, message) -> doc.error(line, what + ": " + message));
                if (c != null) {
                    out.add(c);
                }
            }
            return List.copyOf(out);
        }

        private Optional<RouteMatch> match(YamlNode node, String what) {
            Map<String, YamlNode> m =
                    doc.mapping(node, what + ".match", Set.of("hosts", "path", "path_prefix", "path_regex", "methods"));
            Set<String> hosts = new LinkedHashSet<>();
            if (m.containsKey("hosts")) {
                for (String h : doc.strings(m.get("hosts"), what + ".match.hosts")) {
                    hosts.add(h.toLowerCase(Locale.ROOT));
                }
            }
            int kinds = (m.containsKey("path") ? 1 : 0)
                    + (m.containsKey("path_prefix") ? 1 : 0)
                    + (m.containsKey("path_regex") ? 1 : 0);
            if (kinds > 1) {
                doc.error(node, what + ".match: give at most one of path, path_prefix, path_regex");
            }
            PathMatch path = new PathMatch.Any();
            if (m.containsKey("path")) {
                path = doc.string(m.get("path"), what + ".match.path")
                        .filter(p -> slash(p, m.get("path"), what))
                        .<PathMatch>map(PathMatch.Exact::new)
                        .orElse(path);
            } else if (m.containsKey("path_prefix")) {
                path = doc.string(m.get("path_prefix"), what + ".match.path_prefix")
                        .filter(p -> slash(p, m.get("path_prefix"), what))
                        .<PathMatch>map(PathMatch.Prefix::new)
                        .orElse(path);
            } else if (m.containsKey("path_regex")) {
                Optional<String> re = doc.string(m.get("path_regex"), what + ".match.path_regex");
                if (re.isPresent()) {
                    try {
                        path = new PathMatch.Regex(Pattern.compile(re.get()));
                    } catch (PatternSyntaxException e) {
                        doc.error(
                                m.get("path_regex"),
                                what + ".match.path_regex: " + e.getMessage()
                                        + " (RE2 syntax: no backreferences or lookaround)");
                    }
                }
            }
            Set<String> methods = new LinkedHashSet<>();
            if (m.containsKey("methods")) {
                for (String method : doc.strings(m.get("methods"), what + ".match.methods")) {
                    String up = method.toUpperCase(Locale.ROOT);
                    if (!METHODS.contains(up)) {
                        doc.error(m.get("methods"), what + ".match.methods: unknown HTTP method '" + method + "'");
                    }
                    methods.add(up);
                }
            }
            return Optional.of(new RouteMatch(Set.copyOf(hosts), path, Set.copyOf(methods)));
        }

        private boolean slash(String p, YamlNode node, String what) {
            if (!p.startsWith("/")) {
                doc.error(node, what + ".match: paths start with '/', got '" + p + "'");
                return false;
            }
            return true;
        }

        private Optional<YamlNode> required(Map<String, YamlNode> m, String key, YamlNode owner, String what) {
            YamlNode n = m.get(key);
            if (n == null) {
                doc.error(owner, what + ": '" + key + "' is missing");
            }
            return Optional.ofNullable(n);
        }

        private Optional<String> optString(YamlNode node, String what) {
            return node == null ? Optional.empty() : doc.string(node, what);
        }

        private Duration durationOr(YamlNode node, String what, Duration fallback) {
            return node == null ? fallback : doc.duration(node, what).orElse(fallback);
        }

        private Optional<URI> uri(YamlNode node, String what) {
            if (node == null) {
                return Optional.empty();
            }
            return doc.string(node, what).flatMap(v -> {
                try {
                    URI u = new URI(v);
                    if (io.meshguard.runtime.http.KeySetLocations.allowed(u)) {
                        return Optional.of(u);
                    }
                    doc.error(node, what + ": " + io.meshguard.runtime.http.KeySetLocations.RULE + ", got '" + v + "'");
                } catch (URISyntaxException e) {
                    doc.error(node, what + ": not a URL: " + e.getMessage());
                }
                return Optional.empty();
            });
        }

        private String header(YamlNode node, String what, String fallback) {
            if (node == null) {
                return fallback;
            }
            String name = doc.string(node, what).orElse(fallback).toLowerCase(Locale.ROOT);
            if (!HEADER_NAME.matcher(name).matches()) {
                doc.error(node, what + ": '" + name + "' is not a valid header name");
            }
            return name;
        }

        private List<String> headers(YamlNode node, String what) {
            List<String> out = new ArrayList<>();
            for (String h : doc.strings(node, what)) {
                String name = h.toLowerCase(Locale.ROOT);
                if (!HEADER_NAME.matcher(name).matches()) {
                    doc.error(node, what + ": '" + h + "' is not a valid header name");
                }
                out.add(name);
            }
            return List.copyOf(out);
        }
    }
}
