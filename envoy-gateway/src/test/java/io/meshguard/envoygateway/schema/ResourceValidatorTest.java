package io.meshguard.envoygateway.schema;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The validator refuses what the API server refuses and accepts what it accepts, for every kind meshguard renders:
 * known-good and known-bad resources, and bad ones that only a CEL rule catches.
 */
class ResourceValidatorTest {

    private static final ResourceValidator STANDARD =
            new ResourceValidator(CrdSchemas.bundled(CrdSchemas.Channel.STANDARD));
    private static final ResourceValidator EXPERIMENTAL =
            new ResourceValidator(CrdSchemas.bundled(CrdSchemas.Channel.EXPERIMENTAL));

    static JsonNode yaml(String text) {
        return new ObjectMapper().valueToTree(new Yaml().load(text));
    }

    private static List<String> problems(ResourceValidator v, String text) {
        return v.validate(yaml(text)).stream().map(SchemaProblem::toString).toList();
    }

    @Test
    void everyRuleOfTheBundledCrds_compiles_noneIsLeftUnevaluated() {
        for (ResourceValidator v : List.of(STANDARD, EXPERIMENTAL)) {
            assertThat(v.ruleCount()).isGreaterThan(300);
            assertThat(v.unevaluableRules()).isEmpty();
        }
    }

    @Test
    void bundledSchemas_holdTheKindsWeRender_inBothChannels() {
        for (ResourceValidator v : List.of(STANDARD, EXPERIMENTAL)) {
            for (String kind : List.of(
                    "gateway.networking.k8s.io/v1 Gateway",
                    "gateway.networking.k8s.io/v1 HTTPRoute",
                    "gateway.networking.k8s.io/v1 GatewayClass",
                    "gateway.networking.k8s.io/v1beta1 ReferenceGrant",
                    "gateway.envoyproxy.io/v1alpha1 SecurityPolicy",
                    "gateway.envoyproxy.io/v1alpha1 EnvoyExtensionPolicy",
                    "gateway.envoyproxy.io/v1alpha1 BackendTrafficPolicy",
                    "gateway.envoyproxy.io/v1alpha1 ClientTrafficPolicy",
                    "gateway.envoyproxy.io/v1alpha1 Backend")) {
                String[] p = kind.split(" ");
                assertThat(v.schemas().schemaFor(p[0], p[1])).as(kind).isPresent();
            }
        }
    }

    // ---- Gateway ----

    private static final String GATEWAY = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: Gateway
            metadata: {name: edge, namespace: meshguard}
            spec:
              gatewayClassName: envoy-gateway
              listeners:
              - {name: http, protocol: HTTP, port: 8080, hostname: "payments.prod.eu.example.com"}
            """;

    @Test
    void gateway_asWritten_isAccepted() {
        assertThat(problems(STANDARD, GATEWAY)).isEmpty();
        assertThat(problems(EXPERIMENTAL, GATEWAY)).isEmpty();
    }

    @Test
    void gateway_portOutOfRange_andUnknownField_areRefused() {
        String bad = GATEWAY.replace("port: 8080", "port: 70000, tls2: {}");
        assertThat(problems(STANDARD, bad))
                .anySatisfy(
                        p -> assertThat(p).contains("/spec/listeners/0/port").contains("maximum"))
                .anySatisfy(p -> assertThat(p).contains("unknown field \"tls2\""));
    }

    @Test
    void gateway_plainHttpListenerWithTls_isRefusedByItsCelRuleOnly() {
        String bad = GATEWAY.replace(
                "port: 8080,", "port: 8080, tls: {mode: Terminate, certificateRefs: [{name: edge-cert}]},");
        List<String> found = problems(STANDARD, bad);
        assertThat(found).hasSize(1);
        assertThat(found.getFirst()).contains("/spec/listeners").contains("tls must not be specified");
    }

    // ---- HTTPRoute ----

    private static final String ROUTE = """
            apiVersion: gateway.networking.k8s.io/v1
            kind: HTTPRoute
            metadata: {name: payments-v2, namespace: meshguard, labels: {meshguard.io/publish: pub-1}}
            spec:
              parentRefs: [{name: edge}]
              hostnames: [payments.prod.eu.example.com]
              rules:
              - matches: [{path: {type: PathPrefix, value: /payments/v2}, method: GET}]
                backendRefs: [{name: payments, port: 8080, weight: 90}, {name: payments-canary, port: 8080, weight: 10}]
                timeouts: {request: 15s, backendRequest: 5s}
            """;

    @Test
    void httpRoute_asWritten_isAccepted() {
        assertThat(problems(STANDARD, ROUTE)).isEmpty();
        assertThat(problems(EXPERIMENTAL, ROUTE)).isEmpty();
    }

    @Test
    void httpRoute_relativePath_isRefusedByItsCelRuleOnly() {
        List<String> found = problems(STANDARD, ROUTE.replace("value: /payments/v2", "value: payments/v2"));
        assertThat(found).hasSize(1);
        assertThat(found.getFirst()).contains("/spec/rules/0/matches/0/path").contains("absolute path");
    }

    @Test
    void httpRoute_backendTimeoutLongerThanTheRequest_isRefusedByItsCelRuleOnly() {
        List<String> found = problems(STANDARD, ROUTE.replace("backendRequest: 5s", "backendRequest: 1m"));
        assertThat(found).hasSize(1);
        assertThat(found.getFirst()).contains("/spec/rules/0/timeouts").contains("backendRequest");
    }

    @Test
    void httpRoute_unknownMethod_andRetryInTheStandardChannel_areRefused() {
        assertThat(problems(STANDARD, ROUTE.replace("method: GET", "method: FETCH")))
                .anySatisfy(p -> assertThat(p).contains("FETCH").contains("not one of"));
        String retry = ROUTE.replace("timeouts:", "retry: {attempts: 2}\n    timeouts:");
        assertThat(problems(STANDARD, retry)).anySatisfy(p -> assertThat(p).contains("unknown field \"retry\""));
        assertThat(problems(EXPERIMENTAL, retry)).isEmpty();
    }

    @Test
    void httpRoute_badName_andBadLabelValue_areRefused() {
        String bad = ROUTE.replace("name: payments-v2,", "name: Payments_v2,")
                .replace("publish: pub-1", "publish: \"pub 1\"");
        assertThat(problems(STANDARD, bad))
                .anySatisfy(p -> assertThat(p).contains("/metadata/name"))
                .anySatisfy(p -> assertThat(p).contains("/metadata/labels/meshguard.io/publish"));
    }

    // ---- SecurityPolicy ----

    private static final String SECURITY = """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: SecurityPolicy
            metadata: {name: payments-v2, namespace: meshguard}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: payments-v2}]
              extAuth:
                failOpen: false
                grpc:
                  backendRefs: [{name: meshguard-extauthz, namespace: meshguard, port: 9001}]
                contextExtensions:
                - {name: meshguard.authz_profile, type: Value, value: payments-read}
            """;

    @Test
    void securityPolicy_asWritten_isAccepted() {
        assertThat(problems(STANDARD, SECURITY)).isEmpty();
    }

    @Test
    void securityPolicy_contextExtensionWithoutValue_isRefusedByItsCelRuleOnly() {
        List<String> found = problems(STANDARD, SECURITY.replace(", type: Value, value: payments-read}", "}"));
        assertThat(found).hasSize(1);
        assertThat(found.getFirst())
                .contains("/spec/extAuth/contextExtensions/0")
                .contains("Exactly one of value or valueRef");
    }

    @Test
    void securityPolicy_withoutTarget_isRefused() {
        String bad = SECURITY.replace(
                "  targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: payments-v2}]\n", "");
        assertThat(problems(STANDARD, bad)).isNotEmpty();
    }

    // ---- EnvoyExtensionPolicy ----

    private static final String EXTENSION = """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: EnvoyExtensionPolicy
            metadata: {name: payments-v2, namespace: meshguard}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: payments-v2}]
              extProc:
              - backendRefs: [{name: meshguard-dlp, namespace: meshguard, port: 9002}]
                failOpen: false
                processingMode:
                  request: {body: FullDuplexStreamed}
                  response: {body: FullDuplexStreamed}
            """;

    @Test
    void envoyExtensionPolicy_asWritten_isAccepted() {
        assertThat(problems(STANDARD, EXTENSION)).isEmpty();
    }

    @Test
    void envoyExtensionPolicy_unknownBodyMode_isRefused() {
        assertThat(problems(
                        STANDARD, EXTENSION.replace("request: {body: FullDuplexStreamed}", "request: {body: Stream}")))
                .anySatisfy(p ->
                        assertThat(p).contains("/processingMode/request/body").contains("Stream"));
    }

    @Test
    void envoyExtensionPolicy_targetingAKindItCannotAttachTo_isRefusedByItsCelRuleOnly() {
        List<String> found = problems(
                STANDARD,
                EXTENSION
                        .replace("kind: HTTPRoute", "kind: Service")
                        .replace("group: gateway.networking.k8s.io", "group: \"\""));
        assertThat(found).isNotEmpty();
        assertThat(found).allSatisfy(p -> assertThat(p).contains("/spec"));
    }

    // ---- BackendTrafficPolicy ----

    private static final String TRAFFIC = """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: BackendTrafficPolicy
            metadata: {name: payments-v2, namespace: meshguard}
            spec:
              targetRefs: [{group: gateway.networking.k8s.io, kind: HTTPRoute, name: payments-v2}]
              retry:
                numRetries: 2
                retryOn: {triggers: [5xx, reset, connect-failure]}
                perRetry: {timeout: 2s, backOff: {baseInterval: 25ms, maxInterval: 250ms}}
              rateLimit:
                type: Local
                local:
                  rules:
                  - limit: {requests: 100, unit: Second}
            """;

    @Test
    void backendTrafficPolicy_asWritten_isAccepted() {
        assertThat(problems(STANDARD, TRAFFIC)).isEmpty();
    }

    @Test
    void backendTrafficPolicy_unknownRetryTrigger_andUnit_areRefused() {
        assertThat(problems(STANDARD, TRAFFIC.replace("unit: Second", "unit: Fortnight")))
                .anySatisfy(p -> assertThat(p).contains("Fortnight"));
        assertThat(problems(STANDARD, TRAFFIC.replace("5xx, reset", "5xx, teapot")))
                .anySatisfy(p -> assertThat(p).contains("teapot"));
    }

    // ---- Backend ----

    private static final String BACKEND = """
            apiVersion: gateway.envoyproxy.io/v1alpha1
            kind: Backend
            metadata: {name: payments-ext, namespace: meshguard}
            spec:
              endpoints:
              - fqdn: {hostname: payments.internal.example.com, port: 8443}
            """;

    @Test
    void backend_asWritten_isAccepted() {
        assertThat(problems(STANDARD, BACKEND)).isEmpty();
    }

    @Test
    void backend_endpointWithBothFqdnAndIp_isRefusedByItsCelRuleOnly() {
        List<String> found = problems(
                STANDARD,
                BACKEND.replace(
                        "- fqdn: {hostname: payments.internal.example.com, port: 8443}",
                        "- fqdn: {hostname: payments.internal.example.com, port: 8443}\n    ip: {address: 10.0.0.1, port: 8443}"));
        assertThat(found).isNotEmpty();
        assertThat(found).allSatisfy(p -> assertThat(p).contains("/spec/endpoints"));
    }

    // ---- transition rules ----

    @Test
    void transitionRules_runOnUpdatesOnly() {
        // ReferenceGrant has none; a GatewayClass's controllerName is immutable (self == oldSelf)
        String gc = """
                apiVersion: gateway.networking.k8s.io/v1
                kind: GatewayClass
                metadata: {name: envoy-gateway}
                spec: {controllerName: gateway.envoyproxy.io/gatewayclass-controller}
                """;
        assertThat(problems(STANDARD, gc)).isEmpty();
        JsonNode changed = yaml(gc.replace("gateway.envoyproxy.io/gatewayclass-controller", "example.com/other"));
        assertThat(STANDARD.validate(changed, Optional.of(yaml(gc))))
                .anySatisfy(p -> assertThat(p.path()).isEqualTo("/spec/controllerName"));
        assertThat(STANDARD.validate(yaml(gc), Optional.of(yaml(gc)))).isEmpty();
    }
}
