package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminEvent;
import io.meshguard.access.AdminGate;
import io.meshguard.catalog.CatalogStore;
import io.meshguard.catalog.PlanChangeReplay;
import io.meshguard.catalog.api.ApplicationKeys;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.approval.GoldPlanScene;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One person's browser without a browser: signed in to the console's token form (no issuer) with their access token,
 * its session cookie kept; forms are posted with the CSRF token of the page they are on, as a browser posts them.
 */
final class TokenSignedBrowser {
    private static final Pattern HIDDEN = Pattern.compile("name=\"(_signin|_csrf)\" value=\"([^\"]+)\"");

    private final String base;
    private final String session;

    TokenSignedBrowser(int port, String token) throws Exception {
        this.base = "http://127.0.0.1:" + port;
        HttpResponse<String> form = AdminHttp.page(URI.create(base + "/console/signin"), "");
        String binding = AdminHttp.cookie(form, Console.SIGN_IN_COOKIE);
        HttpResponse<String> r = AdminHttp.form(
                URI.create(base + "/console/signin"),
                Console.SIGN_IN_COOKIE + "=" + binding,
                "_signin=" + hidden(form.body(), "_signin") + "&next=%2Fconsole&token="
                        + URLEncoder.encode(token, StandardCharsets.UTF_8));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
        this.session = Console.SESSION_COOKIE + "=" + AdminHttp.cookie(r, Console.SESSION_COOKIE);
    }

    /**
     * Mounts the console in local mode (no issuer: people sign in on the token form) beside what {@code http} serves,
     * and starts the controller and the listener.
     */
    static void serveConsole(
            XdsController xds, StatusHttpServer http, AdminGate gate, Optional<CatalogConsole> catalogue)
            throws java.io.IOException {
        ConsoleMount.mount(
                xds,
                http,
                gate,
                ConsoleSettings.of(Optional.empty(), "meshguard-console", Optional.empty(), "http://127.0.0.1"),
                catalogue);
        xds.start();
        http.start();
    }

    /**
     * The scene's catalogue API ({@link GoldPlanScene#catalogue}) and the API keys mounted on {@code http}, and the
     * console with Approvals, the portal and Plan changes over them; started. Returns the catalogue API.
     */
    static CatalogApi serveCatalogueConsole(
            XdsController xds,
            StatusHttpServer http,
            AdminGate gate,
            javax.sql.DataSource db,
            List<AdminEvent> events,
            PlanChangeReplay replay)
            throws java.io.IOException {
        xds.mountAdminApi(http, gate);
        CatalogApi catalog = GoldPlanScene.catalogue(db, gate, events, xds, replay);
        ApiKeyAdminApi keys =
                new ApiKeyAdminApi(Optional.of(new JdbcApiKeyStore(db)), Clock.systemUTC(), gate, Optional.empty());
        http.addHandler(CatalogApi.PREFIX, catalog);
        serveConsole(
                xds,
                http,
                gate,
                Optional.of(new CatalogConsole(
                        new CatalogStore(db),
                        catalog.service(),
                        new ApplicationKeys(catalog.service(), keys.admin()),
                        catalog.planChanges(),
                        catalog.productApis())));
        return catalog;
    }

    /** A page that must answer 200. */
    HttpResponse<String> get(String path) throws Exception {
        HttpResponse<String> r = open(path);
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return r;
    }

    /** A page, whatever it answers. */
    HttpResponse<String> open(String path) throws Exception {
        return AdminHttp.page(URI.create(base + path), session);
    }

    /**
     * Posts a decision form of {@code page} to {@code action} with {@code reason}; the answer (303 back to
     * {@code back} when the console took it).
     */
    HttpResponse<String> post(String action, String page, String back, String reason) throws Exception {
        return AdminHttp.form(
                URI.create(base + action),
                session,
                "_csrf=" + hidden(page, "_csrf") + "&back=" + URLEncoder.encode(back, StandardCharsets.UTF_8)
                        + "&reason=" + URLEncoder.encode(reason, StandardCharsets.UTF_8));
    }

    /** Posts a decision form and answers the page it leads back to (with the outcome's sentence). */
    String decide(String action, String page, String back, String reason) throws Exception {
        HttpResponse<String> r = post(action, page, back, reason);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(303);
        return get(back).body();
    }

    static String hidden(String body, String name) {
        Matcher m = HIDDEN.matcher(body);
        while (m.find()) {
            if (m.group(1).equals(name)) {
                return URLEncoder.encode(m.group(2), StandardCharsets.UTF_8);
            }
        }
        throw new AssertionError("no hidden " + name + " in:\n" + body);
    }
}
