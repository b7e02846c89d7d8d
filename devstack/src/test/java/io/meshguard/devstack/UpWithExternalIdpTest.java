package io.meshguard.devstack;

import static io.meshguard.devstack.AdminCalls.api;
import static io.meshguard.devstack.AdminCalls.call;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.access.OidcClient;
import io.meshguard.access.SignedInToken;
import io.meshguard.cli.CliRun;
import io.meshguard.cli.common.RunningStack;
import io.meshguard.cli.common.UpState;
import io.meshguard.cli.idp.UpIdp;
import io.meshguard.devstack.part.UpPorts;
import io.meshguard.testing.FixturePolicies;
import io.meshguard.testing.HeadlessBrowser;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.KeycloakServer;
import io.meshguard.testing.StartedProcesses;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AutoClose;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard up --idp-issuer URL} against a bank's existing Keycloak: the test run's one shared
 * Keycloak ({@link KeycloakServer}) with a realm of this class set up unlike up's demo realm — roles are realm roles
 * ({@code realm_access.roles}), tenants are groups under {@code /tenants} (full paths in {@code groups}), the CLI
 * client has the device grant only — and role bindings that combine the two ({@code tenant_from}). Through the CLI:
 * up starts on that issuer, {@code meshguard login} signs a person in with no {@code --issuer} (up.json names it),
 * the admin API admits that realm's tokens with the roles of policies/access.yaml, and refuses tokens of another
 * realm of the same Keycloak, and up itself refuses an issuer its discovery document does not name.
 */
@IntegrationTest
class UpWithExternalIdpTest {
    private static final Duration START_LIMIT = Duration.ofMinutes(6);
    private static final String REALM = "bank-up";
    private static final String OTHER_REALM = "bank-up-elsewhere";
    private static final String CONSOLE_SECRET = "console-" + java.util.UUID.randomUUID();
    private static final String PASSWORD = "pw-" + java.util.UUID.randomUUID();

    private static KeycloakServer keycloak;

    @TempDir
    Path dir;

    private final HttpClient http = HttpClient.newHttpClient();

    @AutoClose
    private final StartedProcesses started = new StartedProcesses();

    @BeforeAll
    static void bankRealms() {
        keycloak = KeycloakServer.shared();
        keycloak.importRealm(bankRealm(REALM));
        keycloak.importRealm(bankRealm(OTHER_REALM));
    }

    @Test
    void upWithIdpIssuer_admitsThatIssuersTokensWithTheBoundRoles_andRefusesAnotherIssuers() throws Exception {
        Path dataDir = dir.resolve("data");
        Path secretFile = Files.writeString(dir.resolve("console-secret"), CONSOLE_SECRET + "\n");
        Path access = Files.writeString(dir.resolve("access.yaml"), bankAccessFile());
        String issuer = keycloak.issuer(REALM);
        Process up = launch(
                dataDir,
                List.of(
                        "--idp-issuer",
                        issuer,
                        "--access-file",
                        access.toString(),
                        "--console-client-secret-file",
                        secretFile.toString()));
        UpState state = await().atMost(START_LIMIT)
                .pollInterval(Duration.ofMillis(500))
                .failFast("up exited early: " + log(dataDir), () -> !up.isAlive())
                .until(() -> UpState.readRunning(dataDir).orElse(null), s -> s != null);
        UpIdp idp = state.idp();
        assertThat(idp.kind()).isEqualTo("external");
        assertThat(idp.issuer()).isEqualTo(issuer);
        assertThat(idp.users()).as("the bank's people are not up's to list").isEmpty();
        assertThat(Files.readString(dataDir.resolve(UpState.FILE_NAME)))
                .as("the console's secret stays in its file")
                .doesNotContain(CONSOLE_SECRET);
        assertThat(Files.readString(log(dataDir))).contains("issuer " + issuer);
        String admin = "http://127.0.0.1:" + state.ports().get(RunningStack.XDS_ADMIN);

        // the bank's tenants exist before its people act in them (operator guide): through the break-glass token
        assertThat(cli(dataDir, Map.of(), "tenant", "create", "acme", "--data-dir", dataDir.toString()).exit)
                .isZero();
        assertThat(cli(dataDir, Map.of(), "tenant", "create", "globex", "--data-dir", dataDir.toString()).exit)
                .isZero();

        // meshguard login takes the issuer and client from up.json; the person approves in the realm's browser page
        Path config = Files.createDirectories(dir.resolve("config"));
        Map<String, String> signedIn = Map.of("XDG_CONFIG_HOME", config.toString());
        Outcome login = loginThroughTheCli(dataDir, signedIn, "ops");
        assertThat(login.exit).as(login.output).isZero();
        assertThat(login.output).contains(issuer);
        Outcome tenants = cli(dataDir, signedIn, "tenant", "list", "--url", admin);
        assertThat(tenants.exit).as(tenants.output).isZero();
        assertThat(tenants.output).contains("acme", "globex");

        // role from realm_access.roles, tenant from the /tenants/NAME group path (tenant_from)
        String ana = signIn(issuer, "ana");
        String bo = signIn(issuer, "bo");
        HttpResponse<String> created = call(ana, "PUT", admin + "/apis/acme-api", api("acme-api"));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(200);
        assertThat(call(bo, "PUT", admin + "/apis/globex-api", api("globex-api"))
                        .statusCode())
                .isEqualTo(200);
        HttpResponse<String> listed = call(ana, "GET", admin + "/apis", "");
        assertThat(listed.statusCode()).isEqualTo(200);
        assertThat(listed.body()).contains("acme-api").doesNotContain("globex-api");
        assertThat(call(ana, "GET", admin + "/apis/globex-api", "").statusCode())
                .isEqualTo(404);
        // org-admin holds no system-scope permission: publishing the mesh is the platform's
        assertThat(call(ana, "POST", admin + "/publish", "{\"reason\": \"try\"}")
                        .statusCode())
                .isEqualTo(403);
        // a person with no bound role is admitted by the issuer and granted nothing
        assertThat(call(signIn(issuer, "nobody"), "GET", admin + "/apis", "").statusCode())
                .isEqualTo(403);

        // the same person, roles and groups in another realm of the same Keycloak: another issuer, refused
        String elsewhere = signIn(keycloak.issuer(OTHER_REALM), "ops");
        HttpResponse<String> refused = call(elsewhere, "GET", admin + "/v1/operator/tenants", "");
        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(401);

        // the console signs in at the bank's issuer as its confidential client, with PKCE
        HttpResponse<String> signin = HttpClient.newBuilder()
                .followRedirects(HttpClient.Redirect.NEVER)
                .build()
                .send(
                        HttpRequest.newBuilder(URI.create(admin + "/console/signin"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        assertThat(signin.statusCode()).isEqualTo(303);
        assertThat(signin.headers().firstValue("Location").orElseThrow())
                .startsWith(issuer + "/protocol/openid-connect/auth?")
                .contains("client_id=meshguard-console")
                .contains("code_challenge_method=S256");

        up.destroy();
        assertThat(up.waitFor(60, TimeUnit.SECONDS)).isTrue();
    }

    @Test
    void upWithIdpIssuer_thatItsDiscoveryDoesNotName_orOverPlainHttpFromAnotherHost_failsBeforeStarting()
            throws Exception {
        Path dataDir = dir.resolve("wrong");
        String issuer = keycloak.issuer(REALM);
        CliRun run = DevCliRun.of(
                "up",
                "--data-dir",
                dataDir.toString(),
                "--idp-issuer",
                issuer + "/",
                "--policies",
                FixturePolicies.directory().toString());
        assertThat(run.exit()).isEqualTo(1);
        assertThat(run.err())
                .contains("--idp-issuer " + issuer + "/ is not the issuer")
                .contains("(" + issuer + ")");
        assertThat(dataDir.resolve("postgres")).as("nothing started").doesNotExist();

        CliRun plainHttp = DevCliRun.of(
                "up",
                "--data-dir",
                dataDir.toString(),
                "--idp-issuer",
                "http://keycloak.bank.example/realms/meshguard",
                "--policies",
                FixturePolicies.directory().toString());
        assertThat(plainHttp.exit()).isEqualTo(1);
        assertThat(plainHttp.err()).contains("plain http is for an issuer on this machine");

        CliRun both = DevCliRun.of("up", "--data-dir", dataDir.toString(), "--idp-issuer", issuer, "--idp", "keycloak");
        assertThat(both.exit()).isEqualTo(1);
        assertThat(both.err()).contains("pass one of them");
    }

    /**
     * The bank's realm: realm roles for what people do, groups under /tenants for whose objects, the groups claim with
     * full paths; the clients as docs/install.md makes them (the CLI's with the device grant and PKCE only).
     */
    private static String bankRealm(String name) {
        ObjectMapper json = new ObjectMapper();
        ObjectNode realm =
                json.createObjectNode().put("realm", name).put("enabled", true).put("accessTokenLifespan", 300);
        ArrayNode roles = realm.putObject("roles").putArray("realm");
        roles.addObject().put("name", "meshguard-platform-admin");
        roles.addObject().put("name", "meshguard-tenant-admin");
        ArrayNode tenants =
                realm.putArray("groups").addObject().put("name", "tenants").putArray("subGroups");
        tenants.addObject().put("name", "acme");
        tenants.addObject().put("name", "globex");
        ArrayNode clients = realm.putArray("clients");
        ObjectNode cli = clients.addObject()
                .put("clientId", "meshguard-cli")
                .put("publicClient", true)
                .put("standardFlowEnabled", false)
                .put("directAccessGrantsEnabled", false);
        cli.putObject("attributes")
                .put("oauth2.device.authorization.grant.enabled", "true")
                .put("pkce.code.challenge.method", "S256");
        mappers(cli);
        ObjectNode console = clients.addObject()
                .put("clientId", "meshguard-console")
                .put("publicClient", false)
                .put("secret", CONSOLE_SECRET)
                .put("standardFlowEnabled", true)
                .put("directAccessGrantsEnabled", false);
        console.putArray("redirectUris").add("http://127.0.0.1/*");
        console.putObject("attributes").put("pkce.code.challenge.method", "S256");
        mappers(console);
        ArrayNode users = realm.putArray("users");
        user(users, "ops", List.of("meshguard-platform-admin"), List.of());
        user(users, "ana", List.of("meshguard-tenant-admin"), List.of("/tenants/acme"));
        user(users, "bo", List.of("meshguard-tenant-admin"), List.of("/tenants/globex"));
        user(users, "nobody", List.of(), List.of("/tenants/acme"));
        return realm.toString();
    }

    private static void mappers(ObjectNode client) {
        ArrayNode mappers = client.putArray("protocolMappers");
        mappers.addObject()
                .put("name", "admin-audience")
                .put("protocol", "openid-connect")
                .put("protocolMapper", "oidc-audience-mapper")
                .putObject("config")
                .put("included.custom.audience", "meshguard-admin")
                .put("access.token.claim", "true")
                .put("id.token.claim", "false");
        mappers.addObject()
                .put("name", "groups")
                .put("protocol", "openid-connect")
                .put("protocolMapper", "oidc-group-membership-mapper")
                .putObject("config")
                .put("full.path", "true")
                .put("claim.name", "groups")
                .put("access.token.claim", "true")
                .put("id.token.claim", "true")
                .put("userinfo.token.claim", "true");
    }

    private static void user(ArrayNode users, String name, List<String> roles, List<String> groups) {
        ObjectNode u = users.addObject()
                .put("username", name)
                .put("enabled", true)
                .put("email", name + "@bank.example")
                .put("emailVerified", true)
                .put("firstName", name)
                .put("lastName", "Person");
        u.putArray("credentials")
                .addObject()
                .put("type", "password")
                .put("value", PASSWORD)
                .put("temporary", false);
        ArrayNode realmRoles = u.putArray("realmRoles");
        roles.forEach(realmRoles::add);
        ArrayNode groupPaths = u.putArray("groups");
        groups.forEach(groupPaths::add);
    }

    /** policies/access.yaml's roles, with the bindings such a realm needs (the file's own comment shows them). */
    private static String bankAccessFile() throws IOException {
        String shipped = Files.readString(FixturePolicies.file("access.yaml"));
        String roles = shipped.substring(shipped.indexOf("\nroles:"), shipped.indexOf("\nbindings:"));
        return """
                claims:
                  - groups
                  - realm_access.roles
                """ + roles + """

                bindings:
                  - {match: meshguard-platform-admin, role: system-admin, scope: system}
                  - {match: meshguard-tenant-admin, role: org-admin, scope: "tenant:{tenant}", tenant_from: "/tenants/{tenant}"}
                """;
    }

    /** A person's token through the device grant, as {@code meshguard login} gets it. */
    private static String signIn(String issuer, String username) throws Exception {
        OidcClient client = new OidcClient(issuer, "meshguard-cli", Clock.systemUTC());
        OidcClient.DeviceCode code = client.startDeviceLogin();
        CompletableFuture<SignedInToken> token = CompletableFuture.supplyAsync(() -> {
            try {
                return client.awaitDeviceLogin(code);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        new HeadlessBrowser().approveDevice(code.verificationUriComplete(), username, PASSWORD);
        return token.get(90, TimeUnit.SECONDS).accessToken();
    }

    private Outcome loginThroughTheCli(Path dataDir, Map<String, String> env, String username) throws Exception {
        Process login = start(env, "login", "--data-dir", dataDir.toString());
        StringBuilder output = new StringBuilder();
        BufferedReader lines =
                new BufferedReader(new InputStreamReader(login.getInputStream(), StandardCharsets.UTF_8));
        Pattern complete = Pattern.compile("\\(or open (\\S+)\\)");
        String line;
        while ((line = lines.readLine()) != null) {
            output.append(line).append('\n');
            Matcher m = complete.matcher(line);
            if (m.find()) {
                new HeadlessBrowser().approveDevice(m.group(1), username, PASSWORD);
                break;
            }
        }
        while ((line = lines.readLine()) != null) {
            output.append(line).append('\n');
        }
        assertThat(login.waitFor(90, TimeUnit.SECONDS)).isTrue();
        return new Outcome(login.exitValue(), output.toString());
    }

    private Outcome cli(Path dataDir, Map<String, String> env, String... args) throws Exception {
        Process p = start(env, args);
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Outcome(p.exitValue(), output);
    }

    private Process start(Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(UpJvm.command());
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        started.add(p);
        return p;
    }

    private record Outcome(int exit, String output) {}

    private static Path log(Path dataDir) {
        return dataDir.resolveSibling("up-test.log");
    }

    private Process launch(Path dataDir, List<String> options) throws IOException {
        List<String> command = new ArrayList<>(UpJvm.command());
        command.addAll(List.of(
                "up",
                "--data-dir",
                dataDir.toString(),
                "--policies",
                FixturePolicies.directory().toString()));
        command.addAll(options);
        UpPorts.ANY.byFlag().keySet().forEach(flag -> command.addAll(List.of(flag, "0")));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log(dataDir).toFile()));
        Process process = pb.start();
        started.add(process);
        return process;
    }
}
