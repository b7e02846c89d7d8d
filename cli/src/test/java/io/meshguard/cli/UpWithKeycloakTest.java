package io.meshguard.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.cli.idp.DemoUser;
import io.meshguard.cli.idp.UpIdp;
import io.meshguard.runtime.keycloak.LocalKeycloak;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard up --idp keycloak} as a user runs it (a child process, every port free): the local realm's demo
 * users sign in with the password grant named in up.json, and the admin API applies policies/access.yaml to their
 * tokens — tenants see only their own objects, a consumer cannot publish. The one Keycloak of this test JVM's run.
 */
class UpWithKeycloakTest {
    // the first start after an unpack runs Keycloak's build step
    private static final Duration START_LIMIT = Duration.ofMinutes(6);

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void killLeftovers() {
        for (Process process : started) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }

    @Test
    void upWithKeycloak_demoUsersSignIn_andTheAdminApiScopesThemByTenantAndRole() throws Exception {
        Process up = launch();
        UpState state = await().atMost(START_LIMIT).pollInterval(Duration.ofMillis(500))
                .failFast("up exited early: " + log(), () -> !up.isAlive())
                .until(() -> UpState.readRunning(dataDir).orElse(null), s -> s != null);
        UpIdp idp = state.idp();
        assertThat(idp.kind()).isEqualTo("keycloak");
        assertThat(idp.note()).contains("local realm only");
        assertThat(idp.issuer()).isEqualTo(idp.url() + "/realms/meshguard");
        assertThat(idp.cliClient()).isEqualTo("meshguard-cli");
        assertThat(idp.users()).extracting(DemoUser::role).contains("system-admin", "org-admin", "gateway-owner",
                "api-developer", "business-manager", "customer-admin", "api-consumer", "auditor");
        assertThat(idp.users()).extracting(DemoUser::scope).contains("tenant:acme", "tenant:globex");
        assertThat(Files.readString(log())).contains("keycloak", idp.url());
        // it holds the demo passwords
        assertThat(Files.getPosixFilePermissions(dataDir.resolve(UpState.FILE_NAME)))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        String admin = "http://127.0.0.1:" + state.ports().get(RunningStack.XDS_ADMIN);

        String acme = signIn(idp, "acme-org-admin");
        String globex = signIn(idp, "globex-org-admin");
        String consumer = signIn(idp, "globex-api-consumer");
        assertThat(call(globex, "PUT", admin + "/apis/globex-api", api("globex-api")).statusCode()).isEqualTo(200);
        HttpResponse<String> created = call(acme, "PUT", admin + "/apis/acme-api", api("acme-api"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);

        HttpResponse<String> listed = call(acme, "GET", admin + "/apis", "");
        assertThat(listed.statusCode()).isEqualTo(200);
        assertThat(listed.body()).contains("acme-api").doesNotContain("globex-api");
        // another tenant's object does not exist for acme: 404, never 403
        assertThat(call(acme, "GET", admin + "/apis/globex-api", "").statusCode()).isEqualTo(404);
        assertThat(call(consumer, "GET", admin + "/apis/globex-api", "").statusCode()).isEqualTo(200);
        assertThat(call(consumer, "POST", admin + "/publish", "{\"reason\": \"try\"}").statusCode()).isEqualTo(403);
        assertThat(call(consumer, "PUT", admin + "/apis/globex-api", api("globex-api")).statusCode()).isEqualTo(403);
        // the token file stays as break-glass, which `meshguard apikey` and `meshguard quota` use under up
        String breakGlass = Files.readString(Path.of(state.files().get(RunningStack.XDS_ADMIN_TOKEN))).strip();
        assertThat(call(breakGlass, "GET", admin + "/apis", "").body()).contains("acme-api", "globex-api");

        ProcessHandle keycloak = ProcessHandle.of(idp.pid()).orElseThrow();
        up.destroy(); // SIGTERM: Keycloak stops with the stack
        assertThat(up.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keycloak.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();
    }

    private String signIn(UpIdp idp, String username) throws Exception {
        DemoUser user = idp.user(username);
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(idp.issuer()
                        + "/protocol/openid-connect/token"))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(LocalKeycloak.form(Map.of("grant_type", "password",
                        "client_id", idp.cliClient(), "username", user.username(), "password", user.password()))))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return LocalKeycloak.jsonField(r.body(), "access_token");
    }

    private HttpResponse<String> call(String bearer, String method, String url, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + bearer)
                .header("Content-Type", "application/json")
                .method(method, body.isEmpty() ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String api(String name) {
        return """
                {"name": "%s", "base_path": "/%s", "default_version": "v1",
                 "versions": [{"version": "v1", "status": "active"}]}""".formatted(name, name);
    }

    private Path log() {
        return dataDir.resolve("up-test.log");
    }

    private Process launch() throws IOException {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(javaBin.toString(), "-Xmx256m", "-cp",
                System.getProperty("java.class.path"), Main.class.getName(), "up", "--data-dir", dataDir.toString(),
                "--policies", io.meshguard.testing.FixturePolicies.directory().toString(), "--idp", "keycloak",
                "--keycloak-port", "0"));
        UpPorts.ANY.byFlag().keySet().forEach(flag -> command.addAll(List.of(flag, "0")));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()));
        // the distribution is unpacked once under this module's target/, not in the user's cache
        pb.environment().put("MESHGUARD_CACHE_DIR", Path.of("target", "keycloak-cache").toAbsolutePath().toString());
        Process process = pb.start();
        started.add(process);
        return process;
    }
}
