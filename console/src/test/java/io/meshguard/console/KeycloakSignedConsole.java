package io.meshguard.console;

import io.meshguard.access.AdminAccessSettings;
import io.meshguard.access.AdminGate;
import io.meshguard.access.LoggedAdminEvents;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.testing.FixturePolicies;
import io.meshguard.testing.KeycloakServer;
import io.meshguard.xds.LoopbackSettings;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.change.ConfigChangeAudit;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The browser tests' controller: a realm of the shared {@link KeycloakServer} imported from a test resource, an
 * {@link AdminGate} trusting that realm's tokens under the fixture {@code access.yaml}, the controller's admin API on
 * a fresh HTTP port, its config changes into an {@link AuditWriter}. A test mounts what else it serves on
 * {@link #http()}, then {@link #startConsole} mounts the console (client {@code meshguard-console}) and starts both.
 */
final class KeycloakSignedConsole implements AutoCloseable {
    private final XdsController xds;
    /** The console once {@link #startConsole} mounted it: its live streams end first on close. */
    private Optional<Console> mounted = Optional.empty();

    private final StatusHttpServer http;
    private final AuditWriter auditWriter;
    private final AdminGate gate;
    private final String issuer;
    private final String base;

    private KeycloakSignedConsole(
            XdsController xds,
            StatusHttpServer http,
            AuditWriter auditWriter,
            AdminGate gate,
            String issuer,
            String base) {
        this.xds = xds;
        this.http = http;
        this.auditWriter = auditWriter;
        this.gate = gate;
        this.issuer = issuer;
        this.base = base;
    }

    /**
     * Imports {@code realmResource} (its {@code "realm": "REALM"} renamed to {@code realm}) and builds the controller
     * with its admin API mounted on a server called {@code serverName}; nothing listens yet.
     */
    static KeycloakSignedConsole create(
            String realmResource, String realm, String serverName, DataSource dataSource, Path spoolParent)
            throws Exception {
        KeycloakServer keycloak = KeycloakServer.shared();
        try (InputStream in = KeycloakSignedConsole.class.getResourceAsStream(realmResource)) {
            keycloak.importRealm(new String(in.readAllBytes(), StandardCharsets.UTF_8)
                    .replace("\"realm\": \"REALM\"", "\"realm\": \"" + realm + "\""));
        }
        String issuer = keycloak.issuer(realm);
        AdminGate gate = new AdminAccessSettings(
                        Optional.of(issuer),
                        "meshguard-admin",
                        Duration.ofSeconds(30),
                        Optional.of(FixturePolicies.file("access.yaml")),
                        false)
                .gate(new BearerTokens(Optional.empty()), "xds.admin.token_file", new LoggedAdminEvents());

        AuditWriter auditWriter = AuditWriter.start(
                AuditWriterSettings.defaults(SpoolSettings.defaults(spoolParent.resolve("spool"))),
                ConnectionSource.of(dataSource),
                new SimpleMeterRegistry());
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        XdsController xds =
                XdsController.create(LoopbackSettings.of(), dataSource, registry, ConfigChangeAudit.to(auditWriter));
        int port = freePort();
        StatusHttpServer http = new StatusHttpServer(serverName, HttpServerSettings.onPort(port), registry);
        xds.mountAdminApi(http, gate);
        return new KeycloakSignedConsole(xds, http, auditWriter, gate, issuer, "http://127.0.0.1:" + port);
    }

    /** Mounts the console (with Approvals and the portal when {@code catalog} is there) and starts serving. */
    void startConsole(Optional<CatalogConsole> catalog) throws IOException {
        mounted = Optional.of(ConsoleMount.mount(
                xds,
                http,
                gate,
                ConsoleSettings.of(Optional.of(issuer), "meshguard-console", Optional.of("console-secret"), base),
                catalog));
        xds.start();
        http.start();
    }

    XdsController xds() {
        return xds;
    }

    StatusHttpServer http() {
        return http;
    }

    AuditWriter auditWriter() {
        return auditWriter;
    }

    AdminGate gate() {
        return gate;
    }

    /** The console's origin, {@code http://127.0.0.1:PORT}. */
    String base() {
        return base;
    }

    @Override
    public void close() {
        mounted.ifPresent(Console::closeStreams);
        http.close();
        xds.close();
        auditWriter.close();
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
