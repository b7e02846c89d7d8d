package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.envoyproxy.envoy.config.core.v3.Address;
import io.envoyproxy.envoy.config.core.v3.HeaderMap;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HttpProtocolOptions;
import io.envoyproxy.envoy.config.core.v3.SocketAddress;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.service.auth.v3.AttributeContext;
import io.envoyproxy.envoy.service.auth.v3.AuthorizationGrpc;
import io.envoyproxy.envoy.service.auth.v3.CheckRequest;
import io.envoyproxy.envoy.service.auth.v3.CheckResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ExternalProcessorGrpc;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpBody;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.ProtocolConfiguration;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.meshguard.emulator.DownstreamRequest;
import io.meshguard.emulator.Exchange;
import io.meshguard.emulator.Gateway;
import io.meshguard.emulator.PathNormalizer;
import io.meshguard.emulator.UpstreamServer;
import io.meshguard.envoygateway.render.EnvoyGatewayPublishCheck;
import io.meshguard.envoygateway.render.EnvoyGatewayTemplate;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.envoygateway.EnvoyGatewayRevisions;
import io.meshguard.xds.model.ConfigJson;
import io.meshguard.xds.model.GatewayConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The products journey decided the same way whether its cluster's gateway template is meshguard-served or Envoy
 * Gateway: the stack as {@code up} wires it (real PostgreSQL, real extauthz and DLP servers on loopback),
 * the product published and subscribed as in {@link ProductJourneyTest}, then every request of a set (path spellings,
 * methods, keys, the quota) played both ways:
 *
 * <ul>
 *   <li>meshguard-served: the emulated Envoy over the controller's own ADS (route table, ext_authz with the route's
 *       context extensions, ext_proc with its initial metadata, the real upstream);
 *   <li>Envoy Gateway: the published revision rendered as Gateway API resources, the request routed by
 *       {@link HttpRouteMatcher} (Gateway API's matching and precedence), ext_authz called with the
 *       SecurityPolicy's {@code contextExtensions}, ext_proc opened with the {@code :authority} Envoy Gateway derives
 *       from the EnvoyExtensionPolicy's backend, and the upstream's answer (a card number) handed to it.
 * </ul>
 *
 * Each kind calls with its own customer's key on the same plan, so one kind's calls never spend the other's quota;
 * the decisions (status and reason) and what the client receives after DLP must be the same.
 */
@IntegrationTest
class EnvoyGatewayParityTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    static final String GROUP = PaymentsSample.GROUP;
    static final int PORT = PaymentsSample.PORT;
    static final String HOST = PaymentsSample.HOST;
    /**
     * The upstream's answer: a card number the DLP profile of the route masks on its way back (a Luhn-valid number
     * outside dlp.yaml's allow list of public test cards, which pass unreported by design).
     */
    static final String CARD = "4539 1488 0343 6467";

    static final String ANSWER = "{\"charged\": true, \"card\": \"" + CARD + "\"}";

    static final ObjectMapper JSON = new ObjectMapper();

    static E2eStack stack;
    static Gateway gateway;
    static UpstreamServer backend;
    static ManagedChannel extauthz;
    static ManagedChannel dlp;
    static HttpRouteMatcher routes;
    /** Envoy Gateway's listener settings for the rendered Gateway. */
    static HttpConnectionManager listener;

    static List<ObjectNode> rendered;
    /** The tenant and key each side calls with, and a key with no subscription. */
    static final Map<String, String[]> keys = new LinkedHashMap<>();

    @BeforeAll
    static void start() throws Exception {
        stack = E2eStack.start(PG, Files.createTempDirectory("meshguard-eg-parity"));
        backend = UpstreamServer.json("payments", 0, ANSWER);
        gateway = PaymentsSample.publish(stack, backend);
        try (var c = stack.database().getConnection();
                var s = c.createStatement()) {
            s.execute("insert into tenant (id) values ('initech'), ('globex'), ('hooli') on conflict do nothing");
        }
        PaymentsSample.productWithFreePlan(stack);
        stack.admin("POST", "/v1/provider/plans/payments-free/state", "{\"state\": \"published\"}");
        stack.admin("POST", "/v1/provider/products/payments/product-publishes", """
                {"cluster": "local", "environment": "dev", "auth_mode": "apikey", "gateway_group": "local"}""");
        stack.admin(
                "POST",
                "/v1/provider/product-publishes/payments-dev-local/state",
                "{\"state\": \"published\", \"reason\": \"parity\"}");
        keys.put("meshguard", subscribed("initech"));
        keys.put("envoy-gateway", subscribed("globex"));
        keys.put("stranger", new String[] {"hooli", stack.apiKey("hooli", "parity")});
        // both subscriptions reached extauthz (by push): one allowed call each, the same quota spent on both sides
        for (String side : List.of("meshguard", "envoy-gateway")) {
            String[] k = keys.get(side);
            await().atMost(Duration.ofSeconds(30))
                    .pollInterval(Duration.ofMillis(100))
                    .until(() -> gateway.send(PaymentsSample.charge(k[1], k[0])).status() == 200);
        }

        // the revision the group serves now (the product's routes compiled in), rendered for Envoy Gateway
        JsonNode revisions = stack.admin("GET", "/groups/" + GROUP + "/revisions", null);
        JsonNode newest = revisions.isArray()
                ? revisions.get(0)
                : revisions.path("revisions").get(0);
        long id = newest.path("id").asLong();
        JsonNode revision = stack.admin("GET", "/revisions/" + id, null);
        GatewayConfig served = ConfigJson.mapper().treeToValue(revision.path("config"), GatewayConfig.class);
        rendered = new EnvoyGatewayPublishCheck(EnvoyGatewayTemplate.defaults())
                .render(EnvoyGatewayRevisions.of(served, GROUP, id))
                .resources();
        routes = new HttpRouteMatcher(rendered);
        listener = envoyGatewayListener();
        extauthz = NettyChannelBuilder.forTarget(stack.extauthzTarget())
                .usePlaintext()
                .build();
        dlp = NettyChannelBuilder.forTarget(stack.dlpTarget()).usePlaintext().build();
    }

    @AfterAll
    static void stop() throws Exception {
        for (ManagedChannel c : new ManagedChannel[] {extauthz, dlp}) {
            if (c != null) {
                c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
        if (backend != null) {
            backend.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    /** A customer of {@code tenant} with an application subscribed to the free plan and an API key bound to it. */
    static String[] subscribed(String tenant) throws Exception {
        String key = stack.apiKey(tenant, "parity");
        stack.admin("POST", "/v1/customer/applications", """
                {"id": "%1$s-web", "tenant": "%1$s", "name": "Web"}""".formatted(tenant));
        stack.admin("POST", "/v1/customer/subscriptions", """
                {"application": "%s-web", "product_publish": "payments-dev-local", "plan": "payments-free"}""".formatted(tenant));
        stack.admin("POST", "/v1/customer/credentials", """
                {"kind": "apikey", "id": "%s", "application": "%s-web"}""".formatted(key.split("_")[1], tenant));
        return new String[] {tenant, key};
    }

    /** One request of the set: which key it carries ({@code own}: the side's, {@code stranger}, none). */
    record Probe(String method, String host, String path, String key, Map<String, String> extraHeaders) {
        static Probe of(String method, String host, String path, String key, String... extra) {
            Map<String, String> h = new LinkedHashMap<>();
            for (int i = 0; i < extra.length; i += 2) {
                h.put(extra[i], extra[i + 1]);
            }
            return new Probe(method, host, path, key, h);
        }
    }

    /**
     * What a client is told (status, the denial's reason, the body after DLP) and, when the call went through, the
     * request body the upstream receives after DLP.
     */
    record Outcome(int status, String reason, String body, String upstreamBody) {}

    /** The request body of every probe: a card number the route's DLP profile acts on before the upstream sees it. */
    static final String REQUEST = "{\"amount\": 5, \"card\": \"4111 1111 1111 1111\"}";

    @Test
    void sameJourney_sameDecisions_andSameDlpOutcome_onBothTemplateKinds() throws Exception {
        List<Probe> probes = List.of(
                Probe.of("POST", HOST, "/payments/v1/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/charges", "none"),
                Probe.of("POST", HOST, "/payments/v1/charges", "bogus"),
                Probe.of("POST", HOST, "/payments/v1/charges", "stranger"),
                Probe.of("GET", HOST, "/payments/v1/charges", "own"),
                Probe.of("DELETE", HOST, "/payments/v1/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/chargesX", "own"),
                Probe.of("POST", HOST, "/PAYMENTS/v1/charges", "own"),
                Probe.of("POST", HOST, "/payments/v2/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/charges?expand=card", "own"),
                Probe.of("POST", HOST, "/payments/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/charges", "own", "x-meshguard-dlp-profile", "none"),
                Probe.of("POST", "payments.local", "/payments/v1/charges", "own"),
                // a Host no route serves: 404 before any Check or DLP stream on both
                Probe.of("POST", "unserved.example", "/payments/v1/charges", "own"),
                // the plan's quota (3 a day, one spent while waiting): these reach it on both sides alike
                Probe.of("POST", HOST, "/payments/v1/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/charges", "own"),
                // path spellings the listener decides (after the quota: a routed one answers 429, an unrouted 404)
                Probe.of("POST", HOST, "//payments/v1/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1//charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/./charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/x/../charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/charges/..", "own"),
                Probe.of("POST", HOST, "/payments/%76%31/charges", "own"),
                Probe.of("POST", HOST, "/payments%2Fv1/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1%2fcharges", "own"),
                Probe.of("POST", HOST, "/payments/v1%5Ccharges", "own"),
                Probe.of("POST", HOST, "/payments/v1/%2e%2e/v1/charges", "own"),
                Probe.of("POST", HOST, "/payments/v1/charges", "own", "x_tenant_id", "initech"));
        List<String> differences = new ArrayList<>();
        List<Outcome> seen = new ArrayList<>();
        for (Probe p : probes) {
            Outcome viaMeshguard = meshguardServed(p, keys.get("meshguard"));
            Outcome viaEnvoyGateway = envoyGateway(p, keys.get("envoy-gateway"));
            seen.add(viaMeshguard);
            if (!viaMeshguard.equals(viaEnvoyGateway)) {
                differences.add(
                        p + "\n  meshguard-served: " + viaMeshguard + "\n  envoy-gateway:    " + viaEnvoyGateway);
            }
        }
        assertThat(differences).as(String.join("\n", differences)).isEmpty();
        // the set covers what it claims: allowed (the DLP server has seen both bodies), 400, 401, 403, 404 and 429
        assertThat(seen).anySatisfy(o -> {
            assertThat(o.status()).isEqualTo(200);
            assertThat(o.upstreamBody()).isNotEmpty();
        });
        // and what is the same on both is safe: no client receives the upstream's card number
        assertThat(seen).filteredOn(o -> o.status() == 200).allSatisfy(o -> assertThat(o.body())
                .as("the route's default profile masks cards in answers")
                .contains("\"card\"")
                .doesNotContain(CARD)
                .doesNotContain(CARD.replace(" ", "")));
        assertThat(seen.stream().map(Outcome::status)).contains(200, 400, 401, 403, 404, 429);
    }

    // ---- meshguard-served: the emulated Envoy over the controller's ADS --------------------------------------------

    private static Outcome meshguardServed(Probe p, String[] own) throws Exception {
        Exchange e = gateway.send(request(p, own));
        Outcome o = outcome(e.status(), e.body());
        if (e.status() == 200 && e.upstreamReached()) {
            List<UpstreamServer.Received> got = backend.received();
            return new Outcome(200, "", o.body(), got.get(got.size() - 1).bodyText());
        }
        return o;
    }

    private static DownstreamRequest request(Probe p, String[] own) {
        List<String> headers = new ArrayList<>(headers(p, own).entrySet().stream()
                .flatMap(h -> java.util.stream.Stream.of(h.getKey(), h.getValue()))
                .toList());
        return DownstreamRequest.withBody(p.method(), p.host(), p.path(), REQUEST, headers.toArray(String[]::new));
    }

    private static Map<String, String> headers(Probe p, String[] own) {
        Map<String, String> h = new LinkedHashMap<>();
        switch (p.key()) {
            case "own" -> {
                h.put("x-api-key", own[1]);
                h.put("x-tenant-id", own[0]);
            }
            case "stranger" -> {
                h.put("x-api-key", keys.get("stranger")[1]);
                h.put("x-tenant-id", "hooli");
            }
            case "bogus" -> {
                h.put("x-api-key", "mg_bogus_0000000000000000");
                h.put("x-tenant-id", own[0]);
            }
            default -> {}
        }
        h.put("content-type", "application/json");
        h.putAll(p.extraHeaders());
        return h;
    }

    private static Outcome outcome(int status, String body) {
        if (status == 200) {
            return new Outcome(200, "", body, "");
        }
        if (status == 404) {
            // no route: meshguard's gateway may word its 404, Envoy Gateway's is Envoy's own; the decision is the same
            return new Outcome(404, "", "", "");
        }
        // a denial's body names the request id, which differs between two calls: its reason is what is decided
        String reason = "";
        try {
            JsonNode j = JSON.readTree(body);
            reason = j.path("error").asText(j.path("reason").asText(""));
        } catch (Exception notJson) {
            reason = "";
        }
        return new Outcome(status, reason, "", "");
    }

    // ---- Envoy Gateway: the rendered resources, as Envoy Gateway's Envoy would act on them
    // ---------------------------

    private static Outcome envoyGateway(Probe p, String[] own) throws Exception {
        Map<String, String> headers = headers(p, own);
        // the listener first, as Envoy Gateway built it from the rendered ClientTrafficPolicy: the codec's header
        // check,
        // then the HCM's path handling (what the emulator does for meshguard's listener, on the same code)
        if (headers.keySet().stream().anyMatch(n -> n.contains("_"))
                && listener.getCommonHttpProtocolOptions().getHeadersWithUnderscoresAction()
                        == HttpProtocolOptions.HeadersWithUnderscoresAction.REJECT_REQUEST) {
            return outcome(400, "Bad Request");
        }
        PathNormalizer.Result normalized = PathNormalizer.apply(listener, p.path());
        switch (normalized.kind()) {
            case REJECT -> {
                return outcome(400, "Bad Request");
            }
            case REDIRECT -> {
                return outcome(307, "");
            }
            case CONTINUE -> p = new Probe(p.method(), p.host(), normalized.path(), p.key(), p.extraHeaders());
        }
        Optional<HttpRouteMatcher.Matched> matched = routes.match(p.method(), p.host(), p.path(), headers);
        if (matched.isEmpty()) {
            return new Outcome(404, "", "", ""); // no route: Envoy's 404, nothing called
        }
        String route = matched.get().name();
        ObjectNode security = policyFor("SecurityPolicy", route);
        ObjectNode extension = policyFor("EnvoyExtensionPolicy", route);
        Map<String, String> context = new LinkedHashMap<>();
        security.path("spec")
                .path("extAuth")
                .path("contextExtensions")
                .forEach(e ->
                        context.put(e.path("name").asText(), e.path("value").asText()));
        CheckResponse check = AuthorizationGrpc.newBlockingStub(extauthz)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(checkRequest(p, headers, context));
        if (check.getStatus().getCode() != 0) {
            var denied = check.getDeniedResponse();
            int status = denied.hasStatus() && denied.getStatus().getCodeValue() != 0
                    ? denied.getStatus().getCodeValue()
                    : 403;
            return outcome(status, denied.getBody());
        }
        JsonNode ref = extension
                .path("spec")
                .path("extProc")
                .get(0)
                .path("backendRefs")
                .get(0);
        // Envoy Gateway v1.9.0 (buildExtProc): the ext_proc stream's :authority is "<name>.<namespace>[:<port>]"
        String authority = ref.path("name").asText() + "."
                + ref.path("namespace")
                        .asText(extension.path("metadata").path("namespace").asText())
                + (ref.has("port") ? ":" + ref.path("port").asInt() : "");
        return dlp(p, headers, authority);
    }

    /**
     * The HCM settings Envoy Gateway v1.9.0 derives from the Gateway's ClientTrafficPolicy
     * ({@code internal/gatewayapi/clienttrafficpolicy.go}, {@code internal/xds/translator/listener.go}):
     * {@code normalize_path} always on, {@code merge_slashes} unless {@code disableMergeSlashes}, the escaped-slash
     * action as named (default {@code UnescapeAndRedirect}), header names with underscores as named (default
     * {@code RejectRequest}).
     */
    private static HttpConnectionManager envoyGatewayListener() {
        ObjectNode policy = rendered.stream()
                .filter(r -> r.path("kind").asText().equals("ClientTrafficPolicy"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no ClientTrafficPolicy rendered for the Gateway"));
        JsonNode path = policy.path("spec").path("path");
        var escaped =
                switch (path.path("escapedSlashesAction").asText("UnescapeAndRedirect")) {
                    case "KeepUnchanged" -> HttpConnectionManager.PathWithEscapedSlashesAction.KEEP_UNCHANGED;
                    case "RejectRequest" -> HttpConnectionManager.PathWithEscapedSlashesAction.REJECT_REQUEST;
                    case "UnescapeAndForward" ->
                        HttpConnectionManager.PathWithEscapedSlashesAction.UNESCAPE_AND_FORWARD;
                    default -> HttpConnectionManager.PathWithEscapedSlashesAction.UNESCAPE_AND_REDIRECT;
                };
        var underscores =
                switch (policy.path("spec")
                        .path("headers")
                        .path("withUnderscoresAction")
                        .asText("RejectRequest")) {
                    case "Allow" -> HttpProtocolOptions.HeadersWithUnderscoresAction.ALLOW;
                    case "DropHeader" -> HttpProtocolOptions.HeadersWithUnderscoresAction.DROP_HEADER;
                    default -> HttpProtocolOptions.HeadersWithUnderscoresAction.REJECT_REQUEST;
                };
        return HttpConnectionManager.newBuilder()
                .setNormalizePath(com.google.protobuf.BoolValue.of(true))
                .setMergeSlashes(!path.path("disableMergeSlashes").asBoolean(false))
                .setPathWithEscapedSlashesAction(escaped)
                .setCommonHttpProtocolOptions(
                        HttpProtocolOptions.newBuilder().setHeadersWithUnderscoresAction(underscores))
                .build();
    }

    private static ObjectNode policyFor(String kind, String route) {
        return rendered.stream()
                .filter(r -> r.path("kind").asText().equals(kind))
                .filter(r -> r.path("spec")
                        .path("targetRefs")
                        .get(0)
                        .path("name")
                        .asText()
                        .equals(route))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " targets HTTPRoute " + route));
    }

    /** The CheckRequest Envoy's ext_authz filter sends (as the emulator builds it for meshguard's gateway). */
    private static CheckRequest checkRequest(Probe p, Map<String, String> headers, Map<String, String> context) {
        // Envoy Gateway v1.9.0 sets no encode_raw_headers (extauth.go), nor does meshguard's gateway: plain headers
        Map<String, String> all = new LinkedHashMap<>();
        all.put(":method", p.method());
        all.put(":path", p.path());
        all.put(":authority", p.host());
        all.put(":scheme", "http");
        headers.forEach((k, v) -> all.put(k.toLowerCase(java.util.Locale.ROOT), v));
        all.put("x-request-id", java.util.UUID.randomUUID().toString());
        AttributeContext.HttpRequest.Builder http = AttributeContext.HttpRequest.newBuilder()
                .setId(all.get("x-request-id"))
                .setMethod(p.method())
                .setPath(p.path())
                .setHost(p.host())
                .setScheme("http")
                .setProtocol("HTTP/1.1")
                .setSize(REQUEST.getBytes(StandardCharsets.UTF_8).length);
        all.forEach(http::putHeaders);
        return CheckRequest.newBuilder()
                .setAttributes(AttributeContext.newBuilder()
                        .setSource(
                                AttributeContext.Peer.newBuilder().setAddress(address(Gateway.EXTERNAL_CLIENT, 40000)))
                        .setDestination(AttributeContext.Peer.newBuilder().setAddress(address("127.0.0.1", PORT)))
                        .setRequest(AttributeContext.Request.newBuilder().setHttp(http))
                        .putAllContextExtensions(context))
                .build();
    }

    private static Address address(String ip, int port) {
        return Address.newBuilder()
                .setSocketAddress(SocketAddress.newBuilder().setAddress(ip).setPortValue(port))
                .build();
    }

    /**
     * The ext_proc stream Envoy opens for the route's EnvoyExtensionPolicy ({@code FullDuplexStreamed} both ways):
     * the request headers and body, then the upstream's answer, which is what the client receives after DLP.
     */
    private static Outcome dlp(Probe p, Map<String, String> headers, String authority) throws Exception {
        LinkedBlockingQueue<Object> answers = new LinkedBlockingQueue<>();
        StreamObserver<ProcessingRequest> out = ExternalProcessorGrpc.newStub(dlp)
                .withInterceptors(new io.grpc.ClientInterceptor() {
                    @Override
                    public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(
                            io.grpc.MethodDescriptor<Q, R> method, io.grpc.CallOptions options, io.grpc.Channel next) {
                        // what Envoy's gRPC client sends as :authority (EnvoyGrpc.authority)
                        return next.newCall(method, options.withAuthority(authority));
                    }
                })
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .process(new StreamObserver<>() {
                    @Override
                    public void onNext(ProcessingResponse r) {
                        answers.add(r);
                    }

                    @Override
                    public void onError(Throwable t) {
                        answers.add(t);
                    }

                    @Override
                    public void onCompleted() {
                        answers.add("completed");
                    }
                });
        try {
            HeaderMap.Builder req = HeaderMap.newBuilder();
            req.addHeaders(header(":method", p.method()));
            req.addHeaders(header(":path", p.path()));
            req.addHeaders(header(":authority", p.host()));
            req.addHeaders(header(":scheme", "http"));
            headers.forEach((k, v) -> req.addHeaders(header(k.toLowerCase(java.util.Locale.ROOT), v)));
            out.onNext(ProcessingRequest.newBuilder()
                    .setRequestHeaders(HttpHeaders.newBuilder().setHeaders(req))
                    .setProtocolConfig(ProtocolConfiguration.newBuilder()
                            .setRequestBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED)
                            .setResponseBodyMode(ProcessingMode.BodySendMode.FULL_DUPLEX_STREAMED))
                    .build());
            out.onNext(ProcessingRequest.newBuilder()
                    .setRequestBody(HttpBody.newBuilder()
                            .setBody(ByteString.copyFromUtf8(REQUEST))
                            .setEndOfStream(true))
                    .build());
            StringBuilder upstream = new StringBuilder();
            Optional<Outcome> early = readUntil(answers, true, upstream);
            if (early.isPresent()) {
                return early.get();
            }
            out.onNext(ProcessingRequest.newBuilder()
                    .setResponseHeaders(HttpHeaders.newBuilder()
                            .setHeaders(HeaderMap.newBuilder()
                                    .addHeaders(header(":status", "200"))
                                    .addHeaders(header("content-type", "application/json"))))
                    .build());
            out.onNext(ProcessingRequest.newBuilder()
                    .setResponseBody(HttpBody.newBuilder()
                            .setBody(ByteString.copyFromUtf8(ANSWER))
                            .setEndOfStream(true))
                    .build());
            StringBuilder body = new StringBuilder();
            return readUntil(answers, false, body).orElse(new Outcome(200, "", body.toString(), upstream.toString()));
        } finally {
            out.onCompleted();
        }
    }

    /**
     * Reads the processor's answers until the request body (or the response body) is through: an immediate response
     * is the client's answer; streamed pieces of the response body are collected into {@code body}.
     */
    private static Optional<Outcome> readUntil(LinkedBlockingQueue<Object> answers, boolean request, StringBuilder body)
            throws Exception {
        while (true) {
            Object a = answers.poll(30, TimeUnit.SECONDS);
            if (a == null || a instanceof Throwable || a instanceof String) {
                // the processor gone: failOpen false, Envoy Gateway's statusOnError default 500
                return Optional.of(new Outcome(500, "ext_proc", "", ""));
            }
            ProcessingResponse r = (ProcessingResponse) a;
            if (r.hasImmediateResponse()) {
                return Optional.of(outcome(
                        r.getImmediateResponse().getStatus().getCodeValue(),
                        r.getImmediateResponse().getBody().toStringUtf8()));
            }
            var mutation = request
                    ? r.getRequestBody().getResponse().getBodyMutation()
                    : r.getResponseBody().getResponse().getBodyMutation();
            if (request ? r.hasRequestBody() : r.hasResponseBody()) {
                if (mutation.hasStreamedResponse()) {
                    body.append(mutation.getStreamedResponse().getBody().toStringUtf8());
                    if (mutation.getStreamedResponse().getEndOfStream()) {
                        return Optional.empty();
                    }
                } else {
                    return Optional.empty();
                }
            }
        }
    }

    private static HeaderValue header(String name, String value) {
        return HeaderValue.newBuilder()
                .setKey(name)
                .setRawValue(ByteString.copyFromUtf8(value))
                .build();
    }
}
