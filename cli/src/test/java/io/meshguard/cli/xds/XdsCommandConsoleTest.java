package io.meshguard.cli.xds;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard xds} (the cluster's entry point, started from its config as the command does) serves the same
 * admin plane as {@code up}: the catalogue API, and the console's Approvals and Developer portal, which answered 404
 * ("runs without the catalogue") before the two shared one wiring.
 */
@IntegrationTest
class XdsCommandConsoleTest {
    private static final String TOKEN = "xds-command-console-token-0123456789";
    private static final Pattern HIDDEN = Pattern.compile("name=\"(_signin|_csrf)\" value=\"([^\"]+)\"");

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static XdsCommand.Running xds;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Path token = Files.writeString(tmp.resolve("token"), TOKEN + "\n");
        Map<String, String> env = Map.of(
                "MESHGUARD_DB_URL",
                PG.jdbcUrl(),
                "MESHGUARD_DB_USER",
                PG.user(),
                "MESHGUARD_DB_PASSWORD",
                PG.password(),
                "MESHGUARD_XDS_ADS_BIND",
                "127.0.0.1",
                "MESHGUARD_XDS_ADS_PORT",
                "0",
                "MESHGUARD_XDS_ADS_PEER_IDENTITY",
                "local-development",
                "MESHGUARD_HTTP_BIND",
                "127.0.0.1",
                "MESHGUARD_HTTP_PORT",
                "0",
                "MESHGUARD_XDS_ADMIN_TOKEN_FILE",
                token.toString(),
                "MESHGUARD_AUDIT_SPOOL_DIR",
                tmp.resolve("spool").toString());
        xds = XdsCommand.start(ConfigLoader.load(XdsCommand.schema(), Optional.empty(), env), Map.of());
        base = "http://127.0.0.1:" + xds.http().port();
    }

    @AfterAll
    static void stop() {
        if (xds != null) {
            xds.close();
        }
    }

    @Test
    void approvalsAndDeveloperPortal_areServed_notTheNoCataloguePage() throws Exception {
        String session = signIn();
        HttpResponse<String> approvals = get("/console/approvals", session);
        assertThat(approvals.statusCode()).as(approvals.body()).isEqualTo(200);
        assertThat(approvals.body()).doesNotContain("runs without the catalogue");
        HttpResponse<String> portal = get("/console/portal", session);
        assertThat(portal.statusCode()).as(portal.body()).isEqualTo(200);
        assertThat(portal.body()).contains("Developer portal");
    }

    @Test
    void catalogueApi_answersOnTheAdminPort() throws Exception {
        HttpResponse<String> products = AdminHttp.send(URI.create(base + "/v1/operator/clusters"), TOKEN, "GET", null);
        assertThat(products.statusCode()).as(products.body()).isEqualTo(200);
    }

    @Test
    void apiKeys_areCreatedAndListedOnTheAdminPort_asUpServesThem() throws Exception {
        HttpResponse<String> created =
                AdminHttp.send(URI.create(base + "/apikeys"), TOKEN, "POST", """
                {"name": "pipeline-key", "owner": "ci", "tenant": "default", "reason": "xds entry point"}""", "Content-Type", "application/json");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(created.body()).contains("\"key\"");
        HttpResponse<String> listed = AdminHttp.send(URI.create(base + "/apikeys"), TOKEN, "GET", null);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        assertThat(listed.body()).contains("pipeline-key");
    }

    private static String signIn() throws Exception {
        HttpResponse<String> form = get("/console/signin", "");
        String binding = cookie(form, "mg_signin");
        HttpResponse<String> r = post(
                "/console/signin",
                "mg_signin=" + binding,
                "_signin=" + hidden(form.body(), "_signin") + "&next=%2Fconsole%2Frevisions&token="
                        + URLEncoder.encode(TOKEN, StandardCharsets.UTF_8));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
        return "mg_console=" + cookie(r, "mg_console");
    }

    private static HttpResponse<String> get(String path, String cookie) throws Exception {
        return AdminHttp.page(URI.create(base + path), cookie);
    }

    private static HttpResponse<String> post(String path, String cookie, String form) throws Exception {
        return AdminHttp.form(URI.create(base + path), cookie, form);
    }

    private static String cookie(HttpResponse<String> r, String name) {
        return AdminHttp.cookie(r, name);
    }

    private static String hidden(String body, String name) {
        Matcher m = HIDDEN.matcher(body);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return m.group(2);
            }
        }
        throw new AssertionError("no hidden " + name + " in:\n" + body);
    }
}
