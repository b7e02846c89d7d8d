package io.meshguard.extauthz.tools;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jwt.JWTClaimsSet;
import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.authz.jwt.JwksRegistry;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.Durations;
import io.meshguard.authz.policy.IssuerPolicy;
import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.authz.request.Decision;
import io.meshguard.authz.request.HeaderMutation;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.ApiKeyStore;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import io.meshguard.extauthz.quota.LiveCounters;
import io.meshguard.extauthz.quota.QuotaAudit;
import io.meshguard.extauthz.quota.QuotaCounter;
import io.meshguard.extauthz.ratelimit.TokenBucketLimiter;
import io.meshguard.extauthz.server.AuthzPipeline;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Runs the authz test cases in {@code DIR/tests/authz*.yaml} against {@code DIR/authz.yaml}, through the same
 * pipeline the server uses. Signing keys and API keys are declared in the test files and made fresh for each run;
 * every issuer's key set is replaced by the declared test keys, so nothing is fetched from the network.
 */
public final class AuthzTestRunner {
    private final Clock clock;
    private final java.util.function.Consumer<io.meshguard.authz.replay.RecordedDecision> recorder;
    private final java.util.function.Consumer<io.meshguard.extauthz.audit.AuthzDecisionEvent> events;

    public AuthzTestRunner(Clock clock) {
        this(clock, recorded -> {});
    }

    /**
     * @param recorder receives every decision the cases make as its audit row keeps it for replay (the replay
     *     benchmark replays the shipped cases)
     */
    public AuthzTestRunner(
            Clock clock, java.util.function.Consumer<io.meshguard.authz.replay.RecordedDecision> recorder) {
        this(clock, recorder, event -> {});
    }

    private AuthzTestRunner(
            Clock clock,
            java.util.function.Consumer<io.meshguard.authz.replay.RecordedDecision> recorder,
            java.util.function.Consumer<io.meshguard.extauthz.audit.AuthzDecisionEvent> events) {
        this.clock = clock;
        this.recorder = recorder;
        this.events = events;
    }

    /**
     * A runner that hands every decision the cases make to {@code events} as the server hands it to its audit sink
     * ({@link io.meshguard.extauthz.audit.DecisionEvents}, replay facts included): the replay-from-PostgreSQL benchmark
     * writes them through the audit writer.
     */
    public static AuthzTestRunner recordingEvents(
            Clock clock, java.util.function.Consumer<io.meshguard.extauthz.audit.AuthzDecisionEvent> events) {
        return new AuthzTestRunner(clock, recorded -> {}, events);
    }

    /** The authz test files of a policy directory, sorted. */
    public static List<Path> testFiles(Path policyDir) throws IOException {
        Path tests = policyDir.resolve("tests");
        if (!Files.isDirectory(tests)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(tests)) {
            return s.filter(p -> {
                        String n = p.getFileName().toString();
                        return n.startsWith("authz") && (n.endsWith(".yaml") || n.endsWith(".yml"));
                    })
                    .sorted()
                    .toList();
        }
    }

    public List<TestResult> run(Path policyDir) throws IOException, PolicyInvalidException {
        AuthzPolicy policy = new AuthzPolicyParser().parse(policyDir.resolve("authz.yaml"));
        List<TestResult> results = new ArrayList<>();
        for (Path file : testFiles(policyDir)) {
            results.addAll(runFile(policy, file));
        }
        return results;
    }

    @SuppressWarnings("unchecked")
    List<TestResult> runFile(AuthzPolicy policy, Path file) throws IOException {
        String name = file.getFileName().toString();
        Map<String, Object> doc;
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            Object loaded = new Yaml(new LoaderOptions()).load(r);
            if (!(loaded instanceof Map<?, ?> m)) {
                return List.of(new TestResult(name, "(file)", false, "test file must be a mapping with 'cases'"));
            }
            doc = (Map<String, Object>) m;
        } catch (RuntimeException e) {
            return List.of(new TestResult(name, "(file)", false, "cannot parse: " + e.getMessage()));
        }
        Fixture fixture;
        try {
            fixture = fixture(policy, doc);
        } catch (RuntimeException | ApiKeyStore.UnavailableException e) {
            return List.of(new TestResult(name, "(file)", false, e.getMessage()));
        }
        List<TestResult> results = new ArrayList<>();
        Object cases = doc.get("cases");
        if (!(cases instanceof List<?> list) || list.isEmpty()) {
            return List.of(new TestResult(name, "(file)", false, "no 'cases' list"));
        }
        int i = 0;
        for (Object c : list) {
            i++;
            Map<String, Object> tc = c instanceof Map<?, ?> cm ? (Map<String, Object>) cm : Map.of();
            String caseName = String.valueOf(tc.getOrDefault("name", "case " + i));
            try {
                results.add(runCase(name, caseName, tc, policy, fixture));
            } catch (RuntimeException e) {
                results.add(new TestResult(name, caseName, false, "broken case: " + e.getMessage()));
            }
        }
        return results;
    }

    private record Fixture(
            Map<String, List<TestKeys>> keysByIssuer,
            Map<String, String> apiKeys,
            InMemoryApiKeyStore store,
            Map<Path, String> secrets) {}

    @SuppressWarnings("unchecked")
    private Fixture fixture(AuthzPolicy policy, Map<String, Object> doc) throws ApiKeyStore.UnavailableException {
        Map<String, List<TestKeys>> keys = new LinkedHashMap<>();
        for (Object k : (List<Object>) doc.getOrDefault("keys", List.of())) {
            Map<String, Object> km = (Map<String, Object>) k;
            String issuer = String.valueOf(km.get("issuer"));
            if (policy.issuerNamed(issuer).isEmpty()) {
                throw new IllegalArgumentException("keys: no issuer named '" + issuer + "' in authz.yaml");
            }
            keys.computeIfAbsent(issuer, x -> new ArrayList<>())
                    .add(TestKeys.generate(
                            String.valueOf(km.get("kid")),
                            JWSAlgorithm.parse(String.valueOf(km.getOrDefault("algorithm", "RS256")))));
        }
        InMemoryApiKeyStore store = new InMemoryApiKeyStore();
        ApiKeyService service = new ApiKeyService(store, clock);
        Map<String, String> apiKeys = new HashMap<>();
        for (Object k : (List<Object>) doc.getOrDefault("api_keys", List.of())) {
            Map<String, Object> km = (Map<String, Object>) k;
            String keyName = String.valueOf(km.get("name"));
            ApiKeyService.Created created = service.create(
                    keyName,
                    String.valueOf(km.getOrDefault("owner", keyName)),
                    String.valueOf(km.get("tenant")),
                    strings(km.get("roles")),
                    strings(km.get("scopes")),
                    String.valueOf(km.getOrDefault("tier", "free")),
                    Optional.empty());
            if (Boolean.TRUE.equals(km.get("revoked"))) {
                store.revoke(created.key().keyId(), clock.instant());
            }
            if (Boolean.TRUE.equals(km.get("expired"))) {
                store.expire(created.key().keyId(), clock.instant().minusSeconds(1));
            }
            apiKeys.put(keyName, created.text());
        }
        Map<Path, String> secrets = new HashMap<>();
        ((Map<String, Object>) doc.getOrDefault("secrets", Map.of()))
                .forEach((p, v) -> secrets.put(Path.of(p), String.valueOf(v)));
        return new Fixture(keys, apiKeys, store, secrets);
    }

    private AuthzPipeline pipeline(AuthzPolicy policy, Fixture f, Clock clock) {
        Map<String, JWKSet> local = new HashMap<>();
        for (IssuerPolicy issuer : policy.issuers()) {
            local.put(issuer.name(), TestKeys.publicSet(f.keysByIssuer().getOrDefault(issuer.name(), List.of())));
        }
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        AuthzPipeline pipeline = new AuthzPipeline(
                new JwksRegistry(registry, local, Duration.ofSeconds(1)),
                Optional.of(new ApiKeyAuthenticator(f.store(), clock, Duration.ZERO)),
                new TokenBucketLimiter(1000, Duration.ofMinutes(1), System::nanoTime),
                new SecretFiles(System::nanoTime, f.secrets()),
                clock,
                registry,
                1000,
                Duration.ofMinutes(10),
                // quotas count per case (a case's 'repeat' Checks share one counter) in memory: no database, no Redis
                new QuotaCounter(
                        Optional.empty(),
                        Optional::empty,
                        new LiveCounters("policy-test:", Duration.ofSeconds(1)),
                        QuotaAudit.logOnly(),
                        clock,
                        System::nanoTime,
                        QuotaCounter.Settings.DEFAULTS,
                        registry));
        pipeline.use(policy);
        return pipeline;
    }

    @SuppressWarnings("unchecked")
    private TestResult runCase(String file, String name, Map<String, Object> tc, AuthzPolicy policy, Fixture f) {
        Map<String, Object> req = (Map<String, Object>) tc.getOrDefault("request", Map.of());
        Map<String, Object> expect = (Map<String, Object>) tc.get("expect");
        if (expect == null) {
            return new TestResult(file, name, false, "no 'expect'");
        }
        Map<String, List<String>> headers = new LinkedHashMap<>();
        ((Map<String, Object>) req.getOrDefault("headers", Map.of()))
                .forEach((k, v) -> headers.put(
                        k.toLowerCase(java.util.Locale.ROOT),
                        v instanceof List<?> l
                                ? l.stream().map(String::valueOf).toList()
                                : List.of(String.valueOf(v))));
        // 'at' pins the time the case runs at (conditions on the time of day); tokens are minted for that time too
        Clock clock = req.containsKey("at")
                ? Clock.fixed(
                        java.time.OffsetDateTime.parse(String.valueOf(req.get("at")))
                                .toInstant(),
                        java.time.ZoneOffset.UTC)
                : this.clock;
        if (req.containsKey("token")) {
            headers.put(
                    "authorization",
                    List.of("Bearer " + token(policy, f, (Map<String, Object>) req.get("token"), clock)));
        }
        if (req.containsKey("api_key")) {
            String keyName = String.valueOf(req.get("api_key"));
            String text = f.apiKeys().getOrDefault(keyName, keyName);
            headers.put(policy.apiKeyHeader(), List.of(text));
        }
        CheckRequests.Encoding encoding = "header_map".equals(req.get("encoding"))
                ? CheckRequests.Encoding.HEADER_MAP
                : CheckRequests.Encoding.HEADERS;
        Map<String, String> ext = new HashMap<>();
        ((Map<String, Object>) req.getOrDefault("context_extensions", Map.of()))
                .forEach((k, v) -> ext.put(k, String.valueOf(v)));
        int repeat = ((Number) req.getOrDefault("repeat", 1)).intValue();
        Map<String, List<String>> sent = headers;
        if (req.get("edge") instanceof Map<?, ?> edge) {
            // the request as the edge gateway's Envoy hands it to ext_authz (x-forwarded-for appended, etc.)
            EdgeEnvoy envoy = new EdgeEnvoy(
                    ((Number) ((Map<String, Object>) edge).getOrDefault("xff_num_trusted_hops", 0)).intValue());
            sent = envoy.headers(headers, String.valueOf(req.getOrDefault("source_address", "")));
            Map<String, String> edgeExt = envoy.contextExtensions(ext);
            ext.clear();
            ext.putAll(edgeExt);
        }
        final Map<String, List<String>> checkHeaders = sent;
        try (AuthzPipeline pipeline = pipeline(policy, f, clock)) {
            Decision d = null;
            for (int i = 0; i < repeat; i++) {
                HttpRequestView view = HttpRequestView.of(CheckRequests.of(
                        String.valueOf(req.getOrDefault("method", "GET")),
                        String.valueOf(req.getOrDefault("host", "")),
                        String.valueOf(req.getOrDefault("path", "/")),
                        checkHeaders,
                        ext,
                        encoding,
                        String.valueOf(req.getOrDefault("source_principal", "")),
                        String.valueOf(req.getOrDefault("source_address", ""))));
                AuthzPipeline.Recorded recorded = pipeline.decideRecorded(view);
                d = recorded.decision();
                Decision made = d;
                Instant at = clock.instant();
                recorded.kept().ifPresent(kept -> {
                    recorder.accept(io.meshguard.authz.replay.RecordedDecision.of(view, made, at, kept));
                    events.accept(io.meshguard.extauthz.audit.DecisionEvents.of(view, made, at, 0, Optional.of(kept)));
                });
            }
            List<String> problems = compare(expect, d);
            return problems.isEmpty()
                    ? new TestResult(file, name, true, checkedHeaders(expect, d))
                    : new TestResult(file, name, false, String.join("; ", problems));
        }
    }

    @SuppressWarnings("unchecked")
    private String token(AuthzPolicy policy, Fixture f, Map<String, Object> spec, Clock clock) {
        if (spec.containsKey("raw")) {
            return String.valueOf(spec.get("raw"));
        }
        String issuerName = String.valueOf(spec.get("issuer"));
        IssuerPolicy issuer = policy.issuerNamed(issuerName)
                .orElseThrow(() -> new IllegalArgumentException("token.issuer: no issuer named '" + issuerName + "'"));
        List<TestKeys> keys = f.keysByIssuer().getOrDefault(issuerName, List.of());
        if (keys.isEmpty()) {
            throw new IllegalArgumentException("token: declare a key for issuer '" + issuerName + "' under 'keys'");
        }
        TestKeys key = spec.containsKey("kid")
                ? keys.stream()
                        .filter(k -> k.kid().equals(spec.get("kid")))
                        .findFirst()
                        .orElseThrow(
                                () -> new IllegalArgumentException("token.kid: no declared key " + spec.get("kid")))
                : keys.get(0);
        Instant now = clock.instant();
        Duration expiresIn = Optional.ofNullable(spec.get("expires_in"))
                .map(String::valueOf)
                .map(AuthzTestRunner::signedDuration)
                .orElse(Duration.ofMinutes(5));
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("iss", issuer.issuer());
        issuer.audiences().stream().sorted().findFirst().ifPresent(a -> claims.put("aud", a));
        claims.put("iat", now.getEpochSecond());
        claims.put("exp", now.plus(expiresIn).getEpochSecond());
        claims.put("jti", UUID.randomUUID().toString());
        claims.putAll((Map<String, Object>) spec.getOrDefault("claims", Map.of()));
        for (String omit : strings(spec.get("omit"))) {
            claims.remove(omit);
        }
        JWTClaimsSet set;
        try {
            set = JWTClaimsSet.parse(claims);
        } catch (java.text.ParseException e) {
            throw new IllegalArgumentException("token.claims: " + e.getMessage(), e);
        }
        if (spec.containsKey("header")) {
            return key.signWithHeader((Map<String, Object>) spec.get("header"), set);
        }
        TestKeys.Tamper tamper = TestKeys.Tamper.valueOf(
                String.valueOf(spec.getOrDefault("tamper", "none")).toUpperCase(java.util.Locale.ROOT));
        return key.sign(set, tamper);
    }

    private static Duration signedDuration(String text) {
        boolean negative = text.startsWith("-");
        Duration d = Durations.parse(negative ? text.substring(1) : text)
                .orElseThrow(() -> new IllegalArgumentException("expires_in: not a duration: " + text));
        return negative ? d.negated() : d;
    }

    @SuppressWarnings("unchecked")
    private static List<String> compare(Map<String, Object> expect, Decision d) {
        List<String> problems = new ArrayList<>();
        if (expect.containsKey("allowed") && !expect.get("allowed").equals(d.allowed())) {
            problems.add("expected allowed=" + expect.get("allowed") + ", got " + d.allowed());
        }
        if (expect.containsKey("status") && ((Number) expect.get("status")).intValue() != d.status()) {
            problems.add("expected status " + expect.get("status") + ", got " + d.status());
        }
        if (expect.containsKey("reason")
                && !expect.get("reason").equals(d.reason().code())) {
            problems.add("expected reason " + expect.get("reason") + ", got "
                    + d.reason().code() + " (" + d.description() + ")");
        }
        Map<String, String> set = new LinkedHashMap<>();
        Map<String, String> actions = new LinkedHashMap<>();
        for (HeaderMutation m : d.headersSet()) {
            set.put(m.name(), m.value());
            actions.put(m.name(), m.appendAction());
        }
        ((Map<String, Object>) expect.getOrDefault("headers_set", Map.of())).forEach((k, v) -> {
            if (!String.valueOf(v).equals(set.get(k))) {
                problems.add("expected header " + k + ": " + v + ", got "
                        + (set.containsKey(k) ? set.get(k) + " (" + actions.get(k) + ")" : "(not set)"));
            }
        });
        ((Map<String, Object>) expect.getOrDefault("headers_append_action", Map.of())).forEach((k, v) -> {
            if (!String.valueOf(v).equals(actions.get(k))) {
                problems.add("expected header " + k + " sent with append_action " + v + ", got "
                        + actions.getOrDefault(k, "(not set)"));
            }
        });
        for (String absent : strings(expect.get("headers_not_set"))) {
            if (set.containsKey(absent)) {
                problems.add("expected header " + absent + " not set, got " + set.get(absent));
            }
        }
        for (String removed : strings(expect.get("headers_removed"))) {
            if (!d.headersRemoved().contains(removed)) {
                problems.add("expected " + removed + " removed, removed are " + d.headersRemoved());
            }
        }
        ((Map<String, Object>) expect.getOrDefault("response_headers", Map.of())).forEach((k, v) -> {
            String got = d.responseHeaders().get(k);
            if (got == null || !got.contains(String.valueOf(v))) {
                problems.add("expected response header " + k + " containing " + v + ", got "
                        + (got == null ? "(none)" : got));
            }
        });
        if (expect.containsKey("body_contains") && !d.body().contains(String.valueOf(expect.get("body_contains")))) {
            problems.add("expected body containing " + expect.get("body_contains") + ", got " + d.body());
        }
        return problems;
    }

    /** On a pass: the headers the case checked, each with the append_action Envoy gets (so a reviewer sees it). */
    @SuppressWarnings("unchecked")
    private static String checkedHeaders(Map<String, Object> expect, Decision d) {
        java.util.Set<String> names = new java.util.LinkedHashSet<>();
        names.addAll(((Map<String, Object>) expect.getOrDefault("headers_set", Map.of())).keySet());
        names.addAll(((Map<String, Object>) expect.getOrDefault("headers_append_action", Map.of())).keySet());
        List<String> out = new ArrayList<>();
        for (HeaderMutation m : d.headersSet()) {
            if (names.contains(m.name())) {
                out.add(m.name() + ": " + m.value() + " [" + m.appendAction() + "]");
            }
        }
        return out.isEmpty() ? "" : "sets " + String.join(", ", out);
    }

    private static List<String> strings(Object o) {
        if (o == null) {
            return List.of();
        }
        if (o instanceof List<?> l) {
            return l.stream().map(String::valueOf).toList();
        }
        return List.of(String.valueOf(o));
    }
}
