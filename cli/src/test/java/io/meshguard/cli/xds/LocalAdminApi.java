package io.meshguard.cli.xds;

import io.meshguard.access.AdminGate;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.xds.XdsController;
import io.meshguard.xds.XdsSettings;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Path;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * A real controller and its admin API on loopback ports over a real PostgreSQL, its callers the bearer tokens of a
 * token file (local mode): what a command under test talks to.
 */
public record LocalAdminApi(XdsController xds, StatusHttpServer http) implements AutoCloseable {
    /** Starts both; {@code name} names the HTTP server in its metrics and logs. */
    public static LocalAdminApi start(String name, DataSource db, Path tokenFile) throws Exception {
        return start(name, db, AdminGate.local(new BearerTokens(Optional.of(tokenFile)), "xds.admin.token_file"));
    }

    /** Starts both, admitting callers through {@code gate} (an identity provider's tokens and role bindings). */
    public static LocalAdminApi start(String name, DataSource db, AdminGate gate) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        XdsController xds =
                XdsController.create(XdsSettings.onLoopback("test", Optional.empty()), db, registry, c -> {});
        StatusHttpServer http = new StatusHttpServer(name, HttpServerSettings.onPort(0), registry);
        xds.mountAdminApi(http, gate);
        xds.start();
        http.start();
        return new LocalAdminApi(xds, http);
    }

    /** The admin API's port on 127.0.0.1. */
    public int port() {
        return http.port();
    }

    @Override
    public void close() {
        http.close();
        xds.close();
    }
}
