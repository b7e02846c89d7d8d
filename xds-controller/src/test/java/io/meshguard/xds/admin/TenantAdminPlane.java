package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminTokenVerifier;
import io.meshguard.access.LoggedAdminEvents;
import io.meshguard.access.RoleBindings;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.AdminHttp;
import io.meshguard.testing.TestIssuer;
import io.meshguard.xds.XdsController;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import javax.sql.DataSource;

/**
 * A controller's admin API on a loopback port over a real PostgreSQL, its people signed in at a test issuer: the
 * platform's operators ({@code ops}, system admins) and two tenants' developers ({@code acme-dev}, {@code globex-dev},
 * api-developers in their tenants). What the tenant-seam tests of the admin plane start from.
 */
public final class TenantAdminPlane implements AutoCloseable {
    /** Each caller's groups at the issuer. */
    public static final Map<String, List<String>> GROUPS = Map.of(
            "ops", List.of("platform-admins"),
            "acme-dev", List.of("acme-devs"),
            "globex-dev", List.of("globex-devs"));

    private static final String BINDINGS = """
            claims: [groups]
            roles:
              system-admin:
                permissions: [config:read, group:read, group:update, upstream:read, upstream:update, api:read,
                              api:update, route:read, route:update, route:delete, cluster:read, cluster:update]
              api-developer:
                permissions: [config:read, group:read, upstream:read, upstream:update, api:read, api:update,
                              route:read, route:update, route:delete]
            bindings:
              - {match: platform-admins, role: system-admin, scope: system}
              - {match: acme-devs, role: api-developer, scope: "tenant:acme"}
              - {match: globex-devs, role: api-developer, scope: "tenant:globex"}
            """;

    private final XdsController xds;
    private final StatusHttpServer http;
    private final TestIssuer issuer;
    private final AdminGate gate;
    private final Map<String, List<String>> groups;

    private TenantAdminPlane(
            XdsController xds,
            StatusHttpServer http,
            TestIssuer issuer,
            AdminGate gate,
            Map<String, List<String>> groups) {
        this.xds = xds;
        this.http = http;
        this.issuer = issuer;
        this.gate = gate;
        this.groups = groups;
    }

    /**
     * Starts the controller and its admin port; {@code mount} adds handlers beside the admin API (the catalogue's)
     * before the port opens.
     */
    public static TenantAdminPlane start(DataSource db, BiConsumer<StatusHttpServer, TenantAdminPlane> mount)
            throws Exception {
        return start(db, BINDINGS, GROUPS, mount);
    }

    /**
     * As {@link #start(DataSource, BiConsumer)} with other people: {@code bindings} (a role-bindings document over the
     * {@code groups} claim) and each caller's groups at the issuer.
     */
    public static TenantAdminPlane start(
            DataSource db,
            String bindings,
            Map<String, List<String>> groups,
            BiConsumer<StatusHttpServer, TenantAdminPlane> mount)
            throws Exception {
        return start(db, bindings, groups, Optional.empty(), mount);
    }

    /**
     * As {@link #start(DataSource, String, Map, BiConsumer)}, with the platform's break-glass bearer tokens of
     * {@code breakGlassTokens} accepted beside the issuer's (admin.break_glass).
     */
    public static TenantAdminPlane start(
            DataSource db,
            String bindings,
            Map<String, List<String>> groups,
            Optional<Path> breakGlassTokens,
            BiConsumer<StatusHttpServer, TenantAdminPlane> mount)
            throws Exception {
        TestIssuer issuer = new TestIssuer();
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        XdsController xds = XdsController.create(AdminApiTest.settings(Optional.empty()), db, registry, c -> {});
        StatusHttpServer http = new StatusHttpServer("xds-tenants", HttpServerSettings.onPort(0), registry);
        AdminGate gate = new AdminGate(
                Optional.of(new AdminTokenVerifier(
                        new AdminTokenVerifier.Settings(issuer.issuer(), "meshguard-admin", Duration.ofSeconds(30)))),
                RoleBindings.parse("bindings", bindings),
                new BearerTokens(breakGlassTokens),
                breakGlassTokens.isPresent(),
                new LoggedAdminEvents(),
                Clock.systemUTC(),
                "xds.admin.token_file");
        TenantAdminPlane plane = new TenantAdminPlane(xds, http, issuer, gate, groups);
        xds.mountAdminApi(http, gate);
        mount.accept(http, plane);
        xds.start();
        http.start();
        return plane;
    }

    public AdminGate gate() {
        return gate;
    }

    public XdsController xds() {
        return xds;
    }

    /** Where {@code path} of the admin port is. */
    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + http.port() + path);
    }

    /** An admin access token of {@code caller} (one of the callers the plane was started with). */
    public String token(String caller) {
        return issuer.accessToken(caller, "meshguard-admin", groups.get(caller));
    }

    /** An admin API call as {@code caller} (one of the callers the plane was started with); {@code body} null: none. */
    public HttpResponse<String> call(String caller, String method, String path, String body) throws Exception {
        return send(token(caller), method, path, body);
    }

    /** A token of exactly these claims (a realm that maps other claims than the callers' groups), five minutes. */
    public String tokenWith(Map<String, Object> claims) {
        return issuer.token(claims, Duration.ofMinutes(5));
    }

    /** An admin API call with this bearer token; {@code body} null: none. */
    public HttpResponse<String> send(String token, String method, String path, String body) throws Exception {
        return AdminHttp.send(uri(path), token, method, body);
    }

    /** A call that must answer 200. */
    public void ok(String caller, String method, String path, String body) throws Exception {
        HttpResponse<String> r = call(caller, method, path, body);
        assertThat(r.statusCode())
                .as("%s %s %s: %s", caller, method, path, r.body())
                .isEqualTo(200);
    }

    @Override
    public void close() {
        http.close();
        xds.close();
        issuer.close();
    }
}
