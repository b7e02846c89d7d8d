package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.deploy.RenderedManifests;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The bank's automation as docs/install.md sets it up: the client {@code meshguard-automation} of the guide's realm
 * block (client credentials; its service account in {@code meshguard-system-admins}) signs in at the issuer, then
 * calls the admin API with that access token and runs {@code meshguard} commands with it ({@code --url},
 * {@code --token-file}), as a CI pipeline does.
 *
 * @param http the workstation's client: the bank's names through the box's port-forwards ({@link ForwardsByName})
 * @param javaFlags what makes the CLI's JVM reach the same names the same way ({@link ForwardsByName#javaFlags})
 * @param token the access token
 * @param tokenFile the token in a file, for {@code --token-file}
 */
record BankPipeline(HttpClient http, List<String> javaFlags, String token, Path tokenFile) {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The platform's automation ({@code meshguard-automation}, system admin). */
    static BankPipeline signIn(ClusterInABox box, BankIdentityProvider idp) throws Exception {
        return signIn(box, idp, BankIdentityProvider.AUTOMATION_CLIENT, idp.automationSecret());
    }

    /** Signs in as {@code client} with the client credentials grant at the issuer the pods know. */
    static BankPipeline signIn(ClusterInABox box, BankIdentityProvider idp, String client, String secret)
            throws Exception {
        // the admin API through the same door as people: the ingress gateway over TLS
        java.util.Map<String, InetSocketAddress> names = idp.names(box.ingressDoor());
        HttpClient http = ForwardsByName.workstation(names);
        String basic = Base64.getEncoder().encodeToString((client + ":" + secret).getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(idp.issuer() + "/protocol/openid-connect/token"))
                        .timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Basic " + basic)
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString("grant_type=client_credentials"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode())
                .as("the automation's client credentials grant: %s", r.body())
                .isEqualTo(200);
        String token = JSON.readTree(r.body()).path("access_token").asText();
        Path file = Files.createTempFile("meshguard-automation", ".token");
        Files.writeString(file, token);
        return new BankPipeline(http, ForwardsByName.javaFlags(names), token, file);
    }

    /**
     * extauthz's audit event of the request {@code requestId} (its rows reach the audit store asynchronously), when it
     * arrives within 30 s.
     */
    Optional<JsonNode> auditedDecision(String requestId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            JsonNode events = ok("GET", "/audit/events?since=15m&kind=authz_decision&request_id=" + requestId, null);
            if (events.size() > 0) {
                return Optional.of(events.get(0));
            }
            Thread.sleep(500);
        }
        return Optional.empty();
    }

    /** An admin API call that must succeed (2xx); its answer. */
    JsonNode ok(String method, String path, String body) throws Exception {
        HttpResponse<String> r = call(method, path, body, token);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isBetween(200, 202);
        return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
    }

    /** An admin API call at the console's public origin with {@code bearer}. */
    HttpResponse<String> call(String method, String path, String body, String bearer) throws Exception {
        return BankIdentityProvider.consoleCall(http, method, path, body, bearer);
    }

    /**
     * {@code meshguard ARGS --url --token-file}: the image's classes, as the pipeline runs the CLI, at the console's
     * public origin through the ingress gateway (the bank's CA trusted); its output.
     */
    String meshguard(String... args) throws Exception {
        List<String> argv = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        argv.addAll(javaFlags);
        argv.addAll(List.of(
                "-jar",
                RenderedManifests.repoRoot().resolve("cli/target/meshguard.jar").toString()));
        argv.addAll(List.of(args));
        argv.addAll(List.of("--url", BankIdentityProvider.CONSOLE_ORIGIN, "--token-file", tokenFile.toString()));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue())
                .as("meshguard %s: %s", String.join(" ", args), out)
                .isZero();
        return out;
    }

    /**
     * The edge group's shared part (idempotent: each journey puts it, in any order): group {@code edge} (the gateway
     * bootstrap's node cluster) and the upstream of the bank's app in {@code payments} by its Service name.
     */
    void edgeAndBankApp() throws Exception {
        ok("PUT", "/groups/edge", """
                {"name": "edge", "environment": "prod", "region": "eu", "listener_port": 8080}""");
        ok("PUT", "/upstreams/payments-api", """
                {"name": "payments-api", "protocol": "http1",
                 "endpoints": [{"address": "%s", "port": %d}]}""".formatted(
                        ServiceDirectory.fqdn(BankApp.NAME, BankApp.NAMESPACE), BankApp.PORT));
    }

    /**
     * The bank's MCP server behind the edge, as docs/agents.md publishes one: its upstream, an API on host
     * {@code mcp.local} without a base path (an MCP server answers at one URL, so its default version serves
     * {@code /mcp} as is), the MCP route ({@code POST /mcp}: the shipped rule {@code mcp-tools}, DLP profile
     * {@code mcp}) and the route that sends the server's Protected Resource Metadata path to extauthz, which answers it.
     */
    void accountsMcp() throws Exception {
        ok("PUT", "/upstreams/" + BankApps.ACCOUNTS_MCP, """
                {"name": "%s", "protocol": "http1", "endpoints": [{"address": "%s", "port": %d}]}""".formatted(
                        BankApps.ACCOUNTS_MCP,
                        ServiceDirectory.fqdn(BankApps.ACCOUNTS_MCP, BankApps.NAMESPACE),
                        BankApps.HTTP_PORT));
        ok("PUT", "/apis/" + BankApps.ACCOUNTS_MCP, """
                {"name": "%s", "base_path": "", "default_version": "v1", "hostnames": ["mcp.local"],
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(BankApps.ACCOUNTS_MCP));
        mcpRoute(BankApps.ACCOUNTS_MCP, "/mcp", "POST", "mcp");
        mcpRoute(BankApps.ACCOUNTS_MCP + "-metadata", "/.well-known/oauth-protected-resource/mcp", "GET", "default");
    }

    private void mcpRoute(String name, String path, String method, String dlpProfile) throws Exception {
        ok("PUT", "/routes/edge/" + name, """
                {"name": "%s", "group": "edge", "api": "%s", "version": "v1",
                 "match": {"path_exact": "%s", "methods": ["%s"]},
                 "destinations": [{"upstream": "%s", "weight": 100}],
                 "authz_profile": "mcp-tools", "dlp_profile": "%s"}""".formatted(
                        name, BankApps.ACCOUNTS_MCP, path, method, BankApps.ACCOUNTS_MCP, dlpProfile));
    }

    /** A route of group {@code edge} to the bank's app with an authz rule and the default DLP profile. */
    void route(String name, String api, String prefix, String authzProfile) throws Exception {
        route(name, api, "payments-api", prefix, authzProfile, "");
    }

    /** As above to {@code upstream}, owned by {@code tenant} when not empty (a system caller's {@code ?tenant=}). */
    void route(String name, String api, String upstream, String prefix, String authzProfile, String tenant)
            throws Exception {
        ok("PUT", "/routes/edge/" + name + owner(tenant), """
                {"name": "%s", "group": "edge", "api": "%s", "version": "v1",
                 "match": {"path_prefix": "%s"}, "destinations": [{"upstream": "%s", "weight": 100}],
                 "authz_profile": "%s", "dlp_profile": "default"}""".formatted(name, api, prefix, upstream, authzProfile));
    }

    /** An upstream to the bank's app in {@code payments}, owned by {@code tenant}. */
    void bankAppUpstream(String name, String tenant) throws Exception {
        ok("PUT", "/upstreams/" + name + owner(tenant), """
                {"name": "%s", "protocol": "http1", "endpoints": [{"address": "%s", "port": %d}]}""".formatted(
                        name, ServiceDirectory.fqdn(BankApp.NAME, BankApp.NAMESPACE), BankApp.PORT));
    }

    /**
     * The operator's assignment on {@code cluster} ({@code PUT /v1/operator/clusters/{id}}, whose other fields open
     * {@code fieldsOpen}): group {@code edge} for {@code tenant}, and the bank app's namespace for its upstreams.
     */
    void assignEdge(String cluster, String fieldsOpen, String tenant) throws Exception {
        ok("PUT", "/v1/operator/clusters/" + cluster, fieldsOpen + """
                , "gateway_groups": {"edge": ["%s"]}, "service_namespaces": {"edge": {"%s": ["%s"]}}}""".formatted(tenant, tenant, BankApp.NAMESPACE));
    }

    private static String owner(String tenant) {
        return tenant.isEmpty() ? "" : "?tenant=" + tenant;
    }

    /** An API of the default tenant on the bank's API host {@code api.bank.example}, one active version v1. */
    void api(String name) throws Exception {
        api(name, "");
    }

    /**
     * As above, owned by {@code tenant} when not empty: then on the tenant's own host {@code TENANT.api.bank.example},
     * since a host an API names belongs to its tenant (the bank's {@code api.bank.example} is not a tenant's to share).
     */
    void api(String name, String tenant) throws Exception {
        String host = tenant.isEmpty() ? "api.bank.example" : tenant + ".api.bank.example";
        ok("PUT", "/apis/" + name + owner(tenant), """
                {"name": "%1$s", "base_path": "/%1$s", "default_version": "v1", "hostnames": ["%2$s"],
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(name, host));
    }
}
