package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminGate;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console without an identity provider (plain {@code meshguard up}), over plain HTTP: sign-in with the admin
 * token file's token, the session cookie, the CSRF token on every POST, and the same admin API publish behind it.
 */
@IntegrationTest
class ConsoleLocalModeTest {
    private static final String TOKEN = "console-local-mode-token-0123456789";
    private static final Pattern HIDDEN = Pattern.compile("name=\"(_signin|_csrf)\" value=\"([^\"]+)\"");

    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    @TempDir
    static Path tmp;

    static XdsController xds;
    static StatusHttpServer http;
    static String base;

    @BeforeAll
    static void start() throws Exception {
        Path tokens = tmp.resolve("token");
        Files.writeString(tokens, TOKEN + "\n");
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        xds = XdsController.create(
                XdsSettings.onLoopback("test", Optional.of(tokens)), PG.dataSource(), registry, c -> {});
        http = new StatusHttpServer("xds-console-local", HttpServerSettings.onPort(0), registry);
        AdminGate gate = AdminGate.local(new BearerTokens(Optional.of(tokens)), "xds.admin.token_file");
        xds.mountAdminApi(http, gate);
        ConsoleMount.mount(
                xds,
                http,
                gate,
                ConsoleSettings.of(Optional.empty(), "meshguard-console", Optional.empty(), "http://127.0.0.1"));
        xds.start();
        http.start();
        base = "http://127.0.0.1:" + http.port();
        xds.draft().replace(XdsController.sampleConfig());
    }

    @AfterAll
    static void stop() {
        http.close();
        xds.close();
    }

    /** Signs in with {@code token}; returns the session cookie ("name=value"), empty when refused. */
    static Optional<String> signIn(String token) throws Exception {
        HttpResponse<String> form = get("/console/signin", "");
        String binding = cookie(form, Console.SIGN_IN_COOKIE);
        HttpResponse<String> r = post(
                "/console/signin",
                Console.SIGN_IN_COOKIE + "=" + binding,
                "_signin=" + hidden(form.body(), "_signin") + "&next=%2Fconsole%2Frevisions&token="
                        + URLEncoder.encode(token, StandardCharsets.UTF_8));
        if (r.statusCode() != 303) {
            return Optional.empty();
        }
        assertThat(r.headers().firstValue("Location")).contains("/console/revisions");
        return Optional.of(Console.SESSION_COOKIE + "=" + cookie(r, Console.SESSION_COOKIE));
    }

    @Test
    void signIn_withTheTokenFilesToken_opensAnHttpOnlySession_andAWrongTokenDoesNot() throws Exception {
        assertThat(signIn("not-the-token")).isEmpty();
        String session = signIn(TOKEN).orElseThrow();
        HttpResponse<String> page = get("/console/revisions", session);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("Publish the draft").contains("Sign out");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow())
                .isEqualTo("default-src 'self'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'");
        assertThat(page.headers().firstValue("Cache-Control")).contains("no-store");
        assertThat(page.body())
                .as("no inline script or style")
                .doesNotContain("<script>")
                .doesNotContain("style=");
    }

    @Test
    void publish_needsTheSessionsCsrfToken_thenPublishesThroughTheSameCode() throws Exception {
        String session = signIn(TOKEN).orElseThrow();
        String csrf = hidden(get("/console/revisions", session).body(), "_csrf");
        assertThat(post("/console/publish", session, "reason=no+token").statusCode())
                .isEqualTo(403);
        assertThat(post("/console/publish", session, "reason=x&_csrf=" + "A".repeat(csrf.length()))
                        .statusCode())
                .isEqualTo(403);
        String other = signIn(TOKEN).orElseThrow();
        assertThat(post("/console/publish", other, "reason=x&_csrf=" + csrf).statusCode())
                .as("another session's token")
                .isEqualTo(403);
        assertThat(xds.servedRevision("local")).isEmpty();

        HttpResponse<String> ok = post("/console/publish", session, "reason=first+publish&_csrf=" + csrf);
        assertThat(ok.statusCode()).isEqualTo(303);
        long served = xds.servedRevision("local").orElseThrow();
        assertThat(xds.revisions().get(served).orElseThrow().reason()).isEqualTo("first publish");
        assertThat(xds.revisions().get(served).orElseThrow().actor())
                .as("the token file's holder")
                .isEqualTo("admin");
        assertThat(get("/console/revisions", session).body()).contains("Group local now serves revision " + served);
    }

    @Test
    void landing_sendsASignedInCallerToTheFirstScreenItsRolesOpen() throws Exception {
        String session = signIn(TOKEN).orElseThrow();
        HttpResponse<String> landing = get("/console", session);
        assertThat(landing.statusCode()).isEqualTo(303);
        assertThat(landing.headers().firstValue("Location"))
                .as("the token file's holder may read revisions")
                .contains("/console/revisions");
        String welcome = get("/console", "").body();
        assertThat(welcome)
                .as("no session: the sign-in link")
                .contains("/console/signin")
                .contains("<title>Welcome · meshguard console</title>")
                .contains("<link rel=\"icon\" href=\"/console/assets/favicon.svg\"");
        HttpResponse<String> icon = get("/console/assets/favicon.svg", "");
        assertThat(icon.statusCode()).isEqualTo(200);
        assertThat(icon.headers().firstValue("content-type")).hasValue("image/svg+xml");
        HttpResponse<String> none = get("/console/assets/nothing.js", "");
        assertThat(none.statusCode()).isEqualTo(404);
        assertThat(none.body()).as("the loop's refusal page, as every refusal").contains("Not found", "nothing.js");
    }

    @Test
    void problemCodes_areExplainedByTheConsoleItself_everyCodeWithItsAnchor() throws Exception {
        String session = signIn(TOKEN).orElseThrow();
        HttpResponse<String> page = get("/console/problem-codes", session);
        assertThat(page.statusCode()).isEqualTo(200);
        for (io.meshguard.xds.validate.ProblemCode code : io.meshguard.xds.validate.ProblemCode.values()) {
            assertThat(page.body()).contains("id=\"" + code.anchor() + "\"");
        }
        assertThat(get("/console/problem-codes", "").statusCode())
                .as("sent to sign in")
                .isEqualTo(303);
    }

    @Test
    void signOut_endsTheSession() throws Exception {
        String session = signIn(TOKEN).orElseThrow();
        String csrf = hidden(get("/console/revisions", session).body(), "_csrf");
        assertThat(post("/console/signout", session, "_csrf=" + csrf).statusCode())
                .isEqualTo(200);
        assertThat(get("/console/revisions", session).statusCode())
                .as("sent to sign in")
                .isEqualTo(303);
    }

    @Test
    void auditExport_goesThroughTheApisExport_andIsARowOfTheAdminTrail() throws Exception {
        String session = signIn(TOKEN).orElseThrow();
        HttpResponse<String> csv = get("/console/audit/export?since=1h&until=&format=csv", session);
        assertThat(csv.statusCode()).as(csv.body()).isEqualTo(200);
        assertThat(csv.headers().firstValue("Content-Type")).contains("text/csv; charset=utf-8");
        assertThat(csv.body().lines().findFirst())
                .hasValueSatisfying(h -> assertThat(h).contains("occurred_at"));
        try (var c = PG.dataSource().getConnection();
                var ps = c.prepareStatement("select count(*) from admin_trail where action = 'audit-export'");
                var rs = ps.executeQuery()) {
            rs.next();
            assertThat(rs.getLong(1)).isGreaterThanOrEqualTo(1);
        }
    }

    @Test
    void templates_escapeWhatTheyShow() throws Exception {
        String session = signIn(TOKEN).orElseThrow();
        HttpResponse<String> page = get("/console/audit?subject=%3Cscript%3Ealert(1)%3C%2Fscript%3E", session);
        assertThat(page.statusCode()).isEqualTo(200);
        // in an attribute value '<' is escaped ('>' needs no escape there)
        assertThat(page.body())
                .doesNotContain("<script>alert(1)")
                .contains("value=\"&lt;script>alert(1)&lt;/script>\"");
    }

    /**
     * The console's pages answer on the admin port's request loop: a path without a page is 404 and a path served
     * for another method 405 with Allow, as on the admin API, each as a message page with the console's headers; a
     * signed-in POST with a broken percent-escape in its form is 400, not a form with the field left out.
     */
    @Test
    void refusals_answerTheAdminTablesStatuses_asPagesWithTheConsolesHeaders() throws Exception {
        HttpResponse<String> missing = get("/console/no-such-page", "");
        assertThat(missing.statusCode()).isEqualTo(404);
        HttpResponse<String> wrongMethod = get("/console/signout", "");
        assertThat(wrongMethod.statusCode()).isEqualTo(405);
        assertThat(wrongMethod.headers().firstValue("Allow")).contains("POST");
        String session = signIn(TOKEN).orElseThrow();
        HttpResponse<String> broken = post("/console/publish", session, "reason=%zz&_csrf=x");
        assertThat(broken.statusCode()).as(broken.body()).isEqualTo(400);
        for (HttpResponse<String> r : List.of(missing, wrongMethod, broken)) {
            assertThat(r.headers().firstValue("Content-Type")).contains("text/html; charset=utf-8");
            assertThat(r.headers().firstValue("Content-Security-Policy"))
                    .hasValueSatisfying(v -> assertThat(v).startsWith("default-src 'self'"));
            assertThat(r.headers().firstValue("X-Frame-Options")).contains("DENY");
            assertThat(r.headers().firstValue("Referrer-Policy")).contains("no-referrer");
            assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
            assertThat(r.headers().firstValue("x-request-id")).isPresent();
        }
    }

    private static HttpResponse<String> get(String path, String cookie) throws Exception {
        return AdminHttp.page(URI.create(base + path), cookie);
    }

    private static HttpResponse<String> post(String path, String cookie, String form) throws Exception {
        return AdminHttp.form(URI.create(base + path), cookie, form);
    }

    private static String cookie(HttpResponse<String> r, String name) {
        String header = r.headers().allValues("Set-Cookie").stream()
                .filter(c -> c.startsWith(name + "="))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no " + name + " cookie: " + r.headers()));
        assertThat(header)
                .contains("HttpOnly")
                .doesNotContain("Secure")
                .contains(name.equals(Console.SESSION_COOKIE) ? "SameSite=Strict" : "SameSite=Lax");
        return header.substring(name.length() + 1, header.indexOf(';'));
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
