package io.meshguard.devstack;

import static io.meshguard.devstack.AdminCalls.api;
import static io.meshguard.devstack.AdminCalls.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.access.OidcClient;
import io.meshguard.access.SignedInToken;
import io.meshguard.cli.common.RunningStack;
import io.meshguard.cli.common.UpState;
import io.meshguard.cli.idp.DemoUser;
import io.meshguard.cli.idp.UpIdp;
import io.meshguard.devstack.part.UpPorts;
import io.meshguard.runtime.keycloak.LocalKeycloak;
import io.meshguard.testing.HeadlessBrowser;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.StartedProcesses;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard up --idp keycloak} as a user runs it (a child process, every port free): the local realm's demo
 * users sign in with the password grant named in up.json, and the admin API applies policies/access.yaml to their
 * tokens — tenants see only their own objects, a consumer cannot publish; the console and {@code meshguard login} sign
 * people in through the same realm. The login check runs against the realm {@code up} imports rather than a copy of
 * it in a Keycloak of its own (another start, about half a minute on 2 cores). This is the Keycloak {@code up} starts
 * (what is under test); the module's other Keycloak tests ({@link UpWithExternalIdpTest}) share the run's one test
 * Keycloak, {@code KeycloakServer.shared()}, with a realm per class.
 */
@IntegrationTest
class UpWithKeycloakTest {
    // the first start after an unpack runs Keycloak's build step (here only when this module's tests run alone)
    private static final Duration START_LIMIT = Duration.ofMinutes(6);

    @TempDir
    Path dataDir;

    private final HttpClient http = HttpClient.newHttpClient();

    @AutoClose
    private final StartedProcesses started = new StartedProcesses();

    @Test
    void upWithKeycloak_demoUsersSignIn_andTheAdminApiScopesThemByTenantAndRole() throws Exception {
        Process up = launch();
        UpState state = await().atMost(START_LIMIT)
                .pollInterval(Duration.ofMillis(500))
                .failFast("up exited early: " + log(), () -> !up.isAlive())
                .until(() -> UpState.readRunning(dataDir).orElse(null), s -> s != null);
        UpIdp idp = state.idp();
        assertThat(idp.kind()).isEqualTo("keycloak");
        assertThat(idp.note()).contains("local realm only");
        assertThat(idp.issuer()).isEqualTo(idp.url() + "/realms/meshguard");
        assertThat(idp.cliClient()).isEqualTo("meshguard-cli");
        assertThat(idp.users())
                .extracting(DemoUser::role)
                .contains(
                        "system-admin",
                        "org-admin",
                        "gateway-owner",
                        "api-developer",
                        "business-manager",
                        "customer-admin",
                        "api-consumer",
                        "auditor");
        assertThat(idp.users()).extracting(DemoUser::scope).contains("tenant:acme", "tenant:globex");
        assertThat(Files.readString(log())).contains("keycloak", idp.url());
        // it holds the demo passwords
        assertThat(Files.getPosixFilePermissions(dataDir.resolve(UpState.FILE_NAME)))
                .isEqualTo(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
        String admin = "http://127.0.0.1:" + state.ports().get(RunningStack.XDS_ADMIN);

        // up seeds the local realm's demo tenants (and the quickstart's): its users' first action meets a tenant,
        // never a foreign-key error
        HttpResponse<String> tenants = call(signIn(idp, "system-admin"), "GET", admin + "/v1/operator/tenants", "");
        assertThat(tenants.statusCode()).as(tenants.body()).isEqualTo(200);
        assertThat(new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(tenants.body())
                        .findValuesAsText("id"))
                .as(tenants.body())
                .contains("acme", "globex", "t1");

        String acme = signIn(idp, "acme-org-admin");
        String globex = signIn(idp, "globex-org-admin");
        String consumer = signIn(idp, "globex-api-consumer");
        assertThat(call(globex, "PUT", admin + "/apis/globex-api", api("globex-api"))
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> created = call(acme, "PUT", admin + "/apis/acme-api", api("acme-api"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);

        HttpResponse<String> listed = call(acme, "GET", admin + "/apis", "");
        assertThat(listed.statusCode()).isEqualTo(200);
        assertThat(listed.body()).contains("acme-api").doesNotContain("globex-api");
        // another tenant's object does not exist for acme: 404, never 403
        assertThat(call(acme, "GET", admin + "/apis/globex-api", "").statusCode())
                .isEqualTo(404);
        assertThat(call(consumer, "GET", admin + "/apis/globex-api", "").statusCode())
                .isEqualTo(200);
        assertThat(call(consumer, "POST", admin + "/publish", "{\"reason\": \"try\"}")
                        .statusCode())
                .isEqualTo(403);
        assertThat(call(consumer, "PUT", admin + "/apis/globex-api", api("globex-api"))
                        .statusCode())
                .isEqualTo(403);
        // the token file stays as break-glass, which `meshguard apikey` and `meshguard quota` use under up
        String breakGlass = Files.readString(Path.of(state.files().get(RunningStack.XDS_ADMIN_TOKEN)))
                .strip();
        assertThat(call(breakGlass, "GET", admin + "/apis", "").body()).contains("acme-api", "globex-api");

        consoleSignsInThroughTheLocalRealm(idp, admin);
        loginSendsPkce_andSignsThePersonInWithTheDeviceGrant(idp);

        ProcessHandle keycloak = ProcessHandle.of(idp.pid()).orElseThrow();
        up.destroy(); // SIGTERM: Keycloak stops with the stack
        assertThat(up.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(keycloak.onExit().get(30, TimeUnit.SECONDS).isAlive()).isFalse();
    }

    /**
     * The console under {@code up --idp keycloak}: its sign-in goes to the local realm (code + PKCE, the confidential
     * console client), a demo user fills in Keycloak's login form, and the callback opens a session on the console.
     */
    private void consoleSignsInThroughTheLocalRealm(UpIdp idp, String admin) throws Exception {
        Browser browser = new Browser();
        HttpResponse<String> start = browser.get(URI.create(admin + "/console/signin"));
        assertThat(start.statusCode()).isEqualTo(303);
        String authorize = start.headers().firstValue("Location").orElseThrow();
        assertThat(authorize)
                .startsWith(idp.issuer() + "/protocol/openid-connect/auth?")
                .contains("client_id=" + idp.consoleClient())
                .contains("code_challenge_method=S256");
        HttpResponse<String> login = browser.follow(URI.create(authorize));
        assertThat(login.statusCode()).as(login.body()).isEqualTo(200);
        // Keycloak's login theme: <form id="kc-form-login" ... action="…/login-actions/authenticate?…" method="post">
        java.util.regex.Matcher tag = java.util.regex.Pattern.compile("<form[^>]*id=\"kc-form-login\"[^>]*>")
                .matcher(login.body());
        assertThat(tag.find()).as(login.body()).isTrue();
        java.util.regex.Matcher form =
                java.util.regex.Pattern.compile("action=\"([^\"]+)\"").matcher(tag.group());
        assertThat(form.find()).as(tag.group()).isTrue();
        DemoUser user = idp.user("system-admin");
        HttpResponse<String> signedIn = browser.post(
                login.uri().resolve(form.group(1).replace("&amp;", "&")),
                LocalKeycloak.form(
                        Map.of("username", user.username(), "password", user.password(), "credentialId", "")));
        // the callback ends at the console: redirected to the page asked for, or a page that moves on by itself
        assertThat(signedIn.statusCode()).as(signedIn.body()).isEqualTo(200);
        assertThat(signedIn.uri().toString()).startsWith(admin + "/console/");
        HttpResponse<String> revisions = browser.follow(URI.create(admin + "/console/revisions"));
        assertThat(revisions.statusCode()).isEqualTo(200);
        assertThat(revisions.uri().toString())
                .as("a session, not the sign-in page")
                .isEqualTo(admin + "/console/revisions");
        assertThat(revisions.body()).contains("Sign out").contains(user.username());
        HttpResponse<String> validate = browser.follow(URI.create(admin + "/console/validate"));
        assertThat(validate.statusCode()).isEqualTo(200);
        assertThat(validate.body()).contains("<h1>Validate</h1>");

        // sign-out ends the realm's session too (id_token_hint, a post-logout redirect the realm admits): back on the
        // console with no confirmation page, and the next sign-in asks for the password again
        java.util.regex.Matcher csrf = java.util.regex.Pattern.compile("name=\"_csrf\" value=\"([^\"]+)\"")
                .matcher(validate.body());
        assertThat(csrf.find()).isTrue();
        HttpResponse<String> signedOut = browser.post(
                URI.create(admin + "/console/signout"), LocalKeycloak.form(Map.of("_csrf", csrf.group(1))));
        assertThat(signedOut.statusCode()).as(signedOut.body()).isEqualTo(200);
        assertThat(signedOut.uri().toString()).isEqualTo(admin + "/console");
        HttpResponse<String> again = browser.follow(URI.create(admin + "/console/signin"));
        assertThat(again.uri().toString())
                .as("the realm's login form, not a silent sign-in")
                .startsWith(idp.issuer());
        assertThat(again.body()).contains("kc-form-login");
    }

    /**
     * {@code meshguard login} (its client, {@link OidcClient}) against the realm {@code up} imports, whose
     * {@code meshguard-cli} requires PKCE S256: before RFC 7636 support the device request was refused with 400
     * "Missing parameter: code_challenge_method". The realm docs/install.md sets up is access's SignInFlowsTest.
     */
    private void loginSendsPkce_andSignsThePersonInWithTheDeviceGrant(UpIdp idp) throws Exception {
        DemoUser user = idp.user("system-admin");
        OidcClient cli = new OidcClient(idp.issuer(), idp.cliClient(), Clock.systemUTC());
        OidcClient.DeviceCode code = cli.startDeviceLogin();
        CompletableFuture<SignedInToken> login = CompletableFuture.supplyAsync(() -> {
            try {
                return cli.awaitDeviceLogin(code);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        new HeadlessBrowser().approveDevice(code.verificationUriComplete(), user.username(), user.password());
        SignedInToken token = login.get(90, TimeUnit.SECONDS);

        String claims =
                new String(Base64.getUrlDecoder().decode(token.accessToken().split("\\.")[1]), StandardCharsets.UTF_8);
        assertThat(claims)
                .contains("\"meshguard-admin\"")
                .contains("meshguard-system-admins")
                .contains("\"preferred_username\":\"" + user.username() + "\"");
    }

    /**
     * Just enough browser for a sign-in: follows redirects itself and keeps cookies per host and port (attributes
     * ignored: the JDK's CookieManager would hold back Keycloak's Secure cookies on loopback http, as browsers do not).
     */
    private final class Browser {
        private final HttpClient client = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        private final Map<String, Map<String, String>> jar = new java.util.HashMap<>();

        HttpResponse<String> get(URI uri) throws Exception {
            return send(HttpRequest.newBuilder(uri).GET());
        }

        HttpResponse<String> post(URI uri, String form) throws Exception {
            return follow(send(HttpRequest.newBuilder(uri)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString(form))));
        }

        HttpResponse<String> follow(URI uri) throws Exception {
            return follow(get(uri));
        }

        private HttpResponse<String> follow(HttpResponse<String> r) throws Exception {
            for (int hops = 0; hops < 10 && r.statusCode() / 100 == 3; hops++) {
                r = get(r.uri().resolve(r.headers().firstValue("Location").orElseThrow()));
            }
            return r;
        }

        private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
            HttpRequest built = request.build();
            Map<String, String> cookies =
                    jar.computeIfAbsent(built.uri().getAuthority(), k -> new java.util.TreeMap<>());
            HttpRequest.Builder withCookies = HttpRequest.newBuilder(built.uri())
                    .method(built.method(), built.bodyPublisher().orElse(HttpRequest.BodyPublishers.noBody()));
            built.headers().map().forEach((name, values) -> values.forEach(v -> withCookies.header(name, v)));
            if (!cookies.isEmpty()) {
                withCookies.header(
                        "Cookie",
                        String.join(
                                "; ",
                                cookies.entrySet().stream()
                                        .map(e -> e.getKey() + "=" + e.getValue())
                                        .toList()));
            }
            HttpResponse<String> r = client.send(withCookies.build(), HttpResponse.BodyHandlers.ofString());
            for (String set : r.headers().allValues("Set-Cookie")) {
                String pair = set.split(";", 2)[0];
                int eq = pair.indexOf('=');
                String name = pair.substring(0, eq).strip();
                String value = pair.substring(eq + 1).strip();
                if (value.isEmpty()
                        || set.toLowerCase(java.util.Locale.ROOT).contains("max-age=0")
                        || set.contains("1970")) {
                    cookies.remove(name);
                } else {
                    cookies.put(name, value);
                }
            }
            return r;
        }
    }

    private String signIn(UpIdp idp, String username) throws Exception {
        DemoUser user = idp.user(username);
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(idp.issuer() + "/protocol/openid-connect/token"))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(LocalKeycloak.form(Map.of(
                                "grant_type",
                                "password",
                                "client_id",
                                idp.cliClient(),
                                "username",
                                user.username(),
                                "password",
                                user.password()))))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return LocalKeycloak.jsonField(r.body(), "access_token");
    }

    private Path log() {
        return dataDir.resolve("up-test.log");
    }

    private Process launch() throws IOException {
        List<String> command = new ArrayList<>(UpJvm.command());
        command.addAll(List.of(
                "up",
                "--data-dir",
                dataDir.toString(),
                "--policies",
                io.meshguard.testing.FixturePolicies.directory().toString(),
                "--idp",
                "keycloak",
                "--keycloak-port",
                "0"));
        UpPorts.ANY.byFlag().keySet().forEach(flag -> command.addAll(List.of(flag, "0")));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()));
        // the build's distribution (its Quarkus build step already run by the modules before), not the user's cache
        pb.environment()
                .put(
                        "MESHGUARD_CACHE_DIR",
                        io.meshguard.testing.KeycloakServer.cacheDirectory().toString());
        Process process = pb.start();
        started.add(process);
        return process;
    }
}
