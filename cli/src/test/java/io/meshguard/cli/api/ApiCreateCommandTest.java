package io.meshguard.cli.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.cli.CliRun;
import io.meshguard.cli.xds.XdsCommand;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.model.ConfigJson;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard api create|delete} against the controller as {@code meshguard xds} starts it (real PostgreSQL, the
 * shipped {@code policies/access.yaml}, people signed in at a real JWKS issuer): a tenant's org-admin makes its API
 * in one command; the admin API's own permission, tenant and validation answers reach the user unchanged.
 */
@IntegrationTest
class ApiCreateCommandTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static TestIssuer issuer;
    static XdsCommand.Running xds;

    @BeforeAll
    static void start() throws Exception {
        issuer = new TestIssuer();
        Path breakGlass = Files.writeString(tmp.resolve("token"), "api-create-test-admin-token-0123456789\n");
        Map<String, String> env = new HashMap<>(Map.of(
                "MESHGUARD_DB_URL", PG.jdbcUrl(),
                "MESHGUARD_DB_USER", PG.user(),
                "MESHGUARD_DB_PASSWORD", PG.password(),
                "MESHGUARD_HTTP_BIND", "127.0.0.1",
                "MESHGUARD_HTTP_PORT", "0",
                "MESHGUARD_ADMIN_OIDC_ISSUER", issuer.issuer(),
                "MESHGUARD_ADMIN_ACCESS_FILE",
                        Path.of("..", "policies", "access.yaml")
                                .toAbsolutePath()
                                .normalize()
                                .toString()));
        env.putAll(Map.of(
                "MESHGUARD_XDS_ADS_BIND", "127.0.0.1",
                "MESHGUARD_XDS_ADS_PORT", "0",
                "MESHGUARD_XDS_ADS_PEER_IDENTITY", "local-development",
                "MESHGUARD_XDS_ADMIN_TOKEN_FILE", breakGlass.toString(),
                "MESHGUARD_AUDIT_SPOOL_DIR", tmp.resolve("spool").toString()));
        xds = XdsCommand.start(ConfigLoader.load(XdsCommand.schema(), Optional.empty(), env), Map.of());
        // the shipped bindings' groups: a platform admin, two tenants' org-admins, a tenant's api-developer
        for (String[] person : List.of(
                new String[] {"ops", "meshguard-system-admins"},
                new String[] {"ops2", "meshguard-system-admins"},
                new String[] {"acme-admin", "acme-admins"},
                new String[] {"acme-dev", "acme-developers"},
                new String[] {"globex-admin", "globex-admins"})) {
            Files.writeString(
                    tmp.resolve(person[0] + ".token"),
                    issuer.accessToken(person[0], "meshguard-admin", List.of(person[1])) + "\n");
        }
        for (String tenant : List.of("acme", "globex")) {
            assertThat(run("ops", "tenant", "create", tenant).exit()).isZero();
        }
        for (String group : List.of("edge-prod", "local", "unassigned")) {
            ok("ops", "PUT", "/groups/" + group, """
                    {"name": "%s", "environment": "prod", "region": "eu", "listener_port": 8080}""".formatted(group));
        }
        // the operators' assignment of groups to tenants (a tenant's route goes only where it is assigned)
        CliRun cluster = run(
                "ops",
                "catalog",
                "cluster",
                "eu-1",
                "--region",
                "eu",
                "--group",
                "edge-prod=acme,globex",
                "--group",
                "local=acme");
        assertThat(cluster.exit()).as(cluster.err()).isZero();
    }

    @AfterAll
    static void stop() {
        // a resource left null by a failed start is skipped; the controller closes before the issuer
        try (TestIssuer signing = issuer;
                XdsCommand.Running controller = xds) {
            assertThat(controller).isNotNull();
        }
    }

    @Test
    void create_asATenantsOrgAdmin_putsTheUpstreamTheApiAndOneRoutePerOperationInTheGroupsDraft() throws Exception {
        CliRun created = create(
                "acme-admin",
                "balances",
                "edge-prod",
                "https://core.acme.example:8443",
                "--operation",
                "GET /balances",
                "--operation",
                "GET /balances/{id}",
                "--operation",
                "post /statements*");

        assertThat(created.exit()).as(created.err()).isZero();
        assertThat(created.out())
                .containsPattern("(?m)^upstream\\s+balances\\s+created$")
                .containsPattern("(?m)^api\\s+balances\\s+created$")
                .containsPattern("(?m)^route\\s+edge-prod/balances-get-balances\\s+created$")
                .containsPattern("(?m)^route\\s+edge-prod/balances-get-balances-id\\s+created$")
                .containsPattern("(?m)^route\\s+edge-prod/balances-post-statements-prefix\\s+created$")
                .contains("GET /balances/v1/balances/{id}")
                .contains("meshguard xds publish --group edge-prod");
        JsonNode routes = ok("ops", "GET", "/routes", null);
        List<JsonNode> mine = StreamSupport.stream(routes.spliterator(), false)
                .filter(r -> r.path("api").asText().equals("balances"))
                .toList();
        assertThat(mine).extracting(r -> r.path("group").asText()).containsOnly("edge-prod");
        assertThat(mine)
                .extracting(r -> r.path("match").toString())
                .containsExactlyInAnyOrder(
                        "{\"path_exact\":\"/balances\",\"methods\":[\"GET\"],\"headers\":[]}",
                        "{\"path_regex\":\"/balances/[^/]+\",\"methods\":[\"GET\"],\"headers\":[]}",
                        "{\"path_prefix\":\"/statements\",\"methods\":[\"POST\"],\"headers\":[]}");
        assertThat(ok("ops", "GET", "/upstreams/balances", null)
                        .path("endpoints")
                        .get(0)
                        .path("address")
                        .asText())
                .isEqualTo("core.acme.example");
        // acme's: its own tenant reads it, another tenant's admin does not see it exist
        assertThat(call("acme-admin", "GET", "/apis/balances", null).statusCode())
                .isEqualTo(200);
        assertThat(call("globex-admin", "GET", "/apis/balances", null).statusCode())
                .isEqualTo(404);
    }

    @Test
    void create_runAgainWithTheSameSpec_saysUnchanged_andWritesNothing() throws Exception {
        String[] args = {
            "api",
            "create",
            "ledger",
            "--group",
            "edge-prod",
            "--upstream-url",
            "http://10.20.0.5:8080",
            "--operation",
            "GET /entries",
            "--authz-profile",
            "ledger-read"
        };
        assertThat(run("acme-admin", args).exit()).isZero();
        JsonNode before = ok("ops", "GET", "/routes/edge-prod/ledger-get-entries", null);
        long trailBefore = trailHead();

        CliRun again = run("acme-admin", args);

        assertThat(again.exit()).as(again.err()).isZero();
        assertThat(again.out())
                .containsPattern("(?m)^upstream\\s+ledger\\s+unchanged$")
                .containsPattern("(?m)^api\\s+ledger\\s+unchanged$")
                .containsPattern("(?m)^route\\s+edge-prod/ledger-get-entries\\s+unchanged$")
                .contains("api ledger: unchanged");
        assertThat(ok("ops", "GET", "/routes/edge-prod/ledger-get-entries", null))
                .isEqualTo(before);
        assertThat(trailSince(trailBefore))
                .as("nothing recorded in the admin trail: no change, no refusal")
                .isEmpty();
    }

    @Test
    void create_withANameAnotherTenantHolds_isRefusedAsTheAdminApiRefusesIt_andChangesNothing() throws Exception {
        assertThat(create("acme-admin", "cards", "edge-prod", "http://10.20.0.6:8080", "--operation", "GET /cards")
                        .exit())
                .isZero();

        CliRun taken =
                create("globex-admin", "cards", "edge-prod", "http://10.66.0.1:8080", "--operation", "GET /cards");

        assertThat(taken.exit()).isEqualTo(1);
        assertThat(taken.err())
                .contains("upstream cards refused (404)")
                .contains("another tenant may hold it")
                .contains("nothing was changed");
        assertThat(ok("ops", "GET", "/upstreams/cards", null)
                        .path("endpoints")
                        .get(0)
                        .path("address")
                        .asText())
                .as("acme's upstream still sends to acme's backend")
                .isEqualTo("10.20.0.6");
    }

    @Test
    void create_byARoleWithoutUpstreamUpdate_printsTheAdminApis403_andChangesNothing() throws Exception {
        CliRun refused = create("acme-dev", "fx", "edge-prod", "http://10.20.0.7:8080", "--operation", "GET /rates");

        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.err())
                .contains("upstream fx refused (403)")
                .contains("upstream:update")
                .contains("nothing was changed");
        assertThat(call("ops", "GET", "/upstreams/fx", null).statusCode()).isEqualTo(404);
        assertThat(call("ops", "GET", "/apis/fx", null).statusCode()).isEqualTo(404);
    }

    @Test
    void create_refusedHalfway_saysWhatExists_andApiDeleteRemovesIt() throws Exception {
        CliRun half = create("acme-admin", "loans", "unassigned", "http://10.20.0.8:8080", "--operation", "GET /loans");

        assertThat(half.exit()).isEqualTo(1);
        assertThat(half.err())
                .contains("route unassigned/loans-get-loans refused (422)")
                .contains("is not assigned to tenant acme")
                .contains("upstream loans (created)")
                .contains("api loans (created)")
                .contains("meshguard api delete loans --group unassigned");
        assertThat(call("ops", "GET", "/apis/loans", null).statusCode()).isEqualTo(200);

        CliRun removed = run("acme-admin", "api", "delete", "loans", "--group", "unassigned");

        assertThat(removed.exit()).as(removed.out() + removed.err()).isZero();
        assertThat(removed.out()).contains("api loans deleted").contains("upstream loans deleted");
        assertThat(call("ops", "GET", "/apis/loans", null).statusCode()).isEqualTo(404);
        assertThat(call("ops", "GET", "/upstreams/loans", null).statusCode()).isEqualTo(404);
    }

    @Test
    void create_dryRun_printsTheObjectsAsJson_andCreatesNothing() throws Exception {
        CliRun dry = create(
                "acme-admin",
                "savings",
                "edge-prod",
                "http://10.20.0.9:8080",
                "--operation",
                "GET /accounts",
                "--operation",
                "PUT /accounts/{id}",
                "--api-version",
                "v2",
                "--dry-run");

        assertThat(dry.exit()).as(dry.err()).isZero();
        JsonNode objects =
                ConfigJson.mapper().readTree(dry.out().substring(0, dry.out().lastIndexOf('}') + 1));
        assertThat(objects.path("upstream").path("name").asText()).isEqualTo("savings");
        assertThat(objects.path("api").path("base_path").asText()).isEqualTo("/savings");
        assertThat(objects.path("routes")).hasSize(2);
        assertThat(objects.path("routes").get(1).path("version").asText()).isEqualTo("v2");
        assertThat(dry.out()).contains("nothing was sent");
        assertThat(call("ops", "GET", "/upstreams/savings", null).statusCode()).isEqualTo(404);
        assertThat(call("ops", "GET", "/apis/savings", null).statusCode()).isEqualTo(404);
    }

    @Test
    void create_withPublish_onAGroupUnderFourEyes_printsThePendingRequestId() throws Exception {
        ok("ops", "PUT", "/groups/local/protection", "{\"reason\": \"production\"}");

        CliRun published = create(
                "ops",
                "mortgages",
                "local",
                "http://10.20.0.10:8080",
                "--tenant",
                "acme",
                "--operation",
                "GET /offers",
                "--publish",
                "--reason",
                "launch mortgages");

        assertThat(published.exit()).as(published.err()).isZero();
        assertThat(published.out())
                .as("a system caller reads the group: the URL names its generated host and listener")
                .contains("answers on: http://mortgages.prod.eu.")
                .containsPattern("publish request \\d+ of group local is pending");
        long id = Long.parseLong(published.out().replaceAll("(?s).*publish request (\\d+) of group local.*", "$1"));
        JsonNode request = ok("ops2", "GET", "/publish-requests/local/" + id, null);
        assertThat(request.path("state").asText()).isEqualTo("pending");
        assertThat(call("acme-admin", "GET", "/apis/mortgages", null).statusCode())
                .as("--tenant acme: acme's API")
                .isEqualTo(200);
    }

    @Test
    void create_withoutPublishPermission_keepsTheDraft_andNamesWhoMayPublish() throws Exception {
        CliRun refused = create(
                "acme-admin",
                "pensions",
                "edge-prod",
                "http://10.20.0.11:8080",
                "--operation",
                "GET /plans",
                "--publish",
                "--reason",
                "launch");

        assertThat(refused.exit()).isEqualTo(1);
        assertThat(refused.out()).containsPattern("(?m)^route\\s+edge-prod/pensions-get-plans\\s+created$");
        assertThat(refused.err())
                .contains("publish of group edge-prod refused (403)")
                .contains("meshguard xds publish --group edge-prod");
    }

    @Test
    void operatorGuidesExample_printsWhatTheGuideShows() throws Exception {
        String guide = Files.readString(Path.of("..", "docs", "operate", "onboard-a-tenant.md"));
        int section = guide.indexOf("## A tenant's API");
        assertThat(section).as("docs/operate/onboard-a-tenant.md's section").isPositive();
        int command = guide.indexOf("meshguard api create", section);
        String line = guide.substring(command, guide.indexOf("\n```", command)).replace("\\\n", " ");
        int open = guide.indexOf("```\n", guide.indexOf("\n```", command) + 4) + 4;
        String expected = guide.substring(open, guide.indexOf("```", open));
        // the shell's own word splitting, as a reader's shell runs the line
        Process words =
                new ProcessBuilder("bash", "-c", "printf '%s\\0' " + line.substring("meshguard ".length())).start();
        String[] args =
                new String(words.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).split("\0");
        assertThat(words.waitFor()).isZero();

        CliRun ran = run("acme-admin", args);

        assertThat(ran.exit()).as(ran.err()).isZero();
        assertThat(ran.out()).isEqualTo(expected);
    }

    /** {@code api create API --group GROUP --upstream-url URL --authz-profile products} and {@code more}, as {@code who}. */
    static CliRun create(String who, String api, String group, String url, String... more) {
        return run(
                who,
                Stream.concat(
                                Stream.of(
                                        "api",
                                        "create",
                                        api,
                                        "--authz-profile",
                                        "products",
                                        "--group",
                                        group,
                                        "--upstream-url",
                                        url),
                                Stream.of(more))
                        .toArray(String[]::new));
    }

    static CliRun run(String who, String... args) {
        return CliRun.of(Stream.concat(
                        Stream.of(args),
                        Stream.of(
                                "--url",
                                url(),
                                "--token-file",
                                tmp.resolve(who + ".token").toString()))
                .toArray(String[]::new));
    }

    static String url() {
        return "http://127.0.0.1:" + xds.http().port();
    }

    static HttpResponse<String> call(String who, String method, String path, String body) throws Exception {
        String token = Files.readString(tmp.resolve(who + ".token")).strip();
        return AdminHttp.send(URI.create(url() + path), token, method, body);
    }

    static JsonNode ok(String who, String method, String path, String body) throws Exception {
        HttpResponse<String> r = call(who, method, path, body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isBetween(200, 202);
        return ConfigJson.mapper().readTree(r.body());
    }

    static long trailHead() throws Exception {
        try (var c = PG.dataSource().getConnection();
                var s = c.createStatement();
                var rs = s.executeQuery("select coalesce(max(seq), 0) from admin_trail")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The admin trail's rows after {@code seq}: actor, action, target. */
    static List<String> trailSince(long seq) throws Exception {
        try (var c = PG.dataSource().getConnection();
                var s = c.prepareStatement(
                        "select actor, action, target from admin_trail where seq > ? order by seq")) {
            s.setLong(1, seq);
            List<String> rows = new java.util.ArrayList<>();
            try (var rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3));
                }
            }
            return rows;
        }
    }
}
