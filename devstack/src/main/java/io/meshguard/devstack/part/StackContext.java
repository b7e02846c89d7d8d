package io.meshguard.devstack.part;

import io.meshguard.access.AdminAccessSettings;
import io.meshguard.cli.idp.ProductIdp;
import io.meshguard.db.DbSettings;
import io.meshguard.devstack.idp.ConsoleClient;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.runtime.metrics.ProcessMetrics;
import io.meshguard.runtime.tracing.Tracing;
import java.nio.file.Path;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * What {@code meshguard up} hands to each server it runs in its process.
 *
 * @param metrics the process's one registry; servers register through {@code metrics.forServer(name)}
 * @param dataSource pooled connections to the local database, already migrated
 * @param db the settings behind {@code dataSource}, for servers that open their own connections (LISTEN/NOTIFY)
 * @param dataDir the {@code --data-dir}; servers keep their local state (spools) below it
 * @param policiesDir the repository's {@code policies/} directory
 * @param ports the port each server listens on (0: any free one)
 * @param redis the Redis shared by the stack's servers (global rate limits), already answering;
 *     {@link RedisSettings#none()} for per-process local limits
 * @param tracing the process's one tracing (OTEL_* variables; off unless OTEL_TRACES_EXPORTER=otlp)
 * @param adminAccess who the admin APIs let in: {@link AdminAccessSettings#local()} (the token file, plain
 *     {@code up}), or the issuer of {@code up --idp keycloak}
 * @param productIdp where customers' OAuth2 clients are created and whose tokens product routes accept
 *     ({@code up --idp keycloak}); empty: product routes take API keys only
 * @param consoleClient the console's OIDC client at {@code adminAccess}'s issuer ({@code up --idp keycloak}); empty:
 *     the console signs in with the admin token file's token
 * @param gatewayTrustedHops load balancers in front of the stack's gateway that append the client to
 *     {@code x-forwarded-for} ({@code xds.gateway.xff_num_trusted_hops}); 0 for {@code up}
 */
public record StackContext(
        ProcessMetrics metrics,
        DataSource dataSource,
        DbSettings db,
        Path dataDir,
        Path policiesDir,
        UpPorts ports,
        RedisSettings redis,
        Tracing tracing,
        AdminAccessSettings adminAccess,
        Optional<ProductIdp> productIdp,
        Optional<ConsoleClient> consoleClient,
        int gatewayTrustedHops) {

    /** Without load balancers in front of the gateway: its socket peer is the client. */
    public StackContext(
            ProcessMetrics metrics,
            DataSource dataSource,
            DbSettings db,
            Path dataDir,
            Path policiesDir,
            UpPorts ports,
            RedisSettings redis,
            Tracing tracing,
            AdminAccessSettings adminAccess,
            Optional<ProductIdp> productIdp,
            Optional<ConsoleClient> consoleClient) {
        this(
                metrics,
                dataSource,
                db,
                dataDir,
                policiesDir,
                ports,
                redis,
                tracing,
                adminAccess,
                productIdp,
                consoleClient,
                0);
    }

    /** Without a console client: the console signs in with the token file's token. */
    public StackContext(
            ProcessMetrics metrics,
            DataSource dataSource,
            DbSettings db,
            Path dataDir,
            Path policiesDir,
            UpPorts ports,
            RedisSettings redis,
            Tracing tracing,
            AdminAccessSettings adminAccess,
            Optional<ProductIdp> productIdp) {
        this(
                metrics,
                dataSource,
                db,
                dataDir,
                policiesDir,
                ports,
                redis,
                tracing,
                adminAccess,
                productIdp,
                Optional.empty());
    }

    /** Local admin access (the token file), API keys only on product routes. */
    public StackContext(
            ProcessMetrics metrics,
            DataSource dataSource,
            DbSettings db,
            Path dataDir,
            Path policiesDir,
            UpPorts ports,
            RedisSettings redis,
            Tracing tracing) {
        this(
                metrics,
                dataSource,
                db,
                dataDir,
                policiesDir,
                ports,
                redis,
                tracing,
                AdminAccessSettings.local(),
                Optional.empty());
    }

    /** Without tracing. */
    public StackContext(
            ProcessMetrics metrics,
            DataSource dataSource,
            DbSettings db,
            Path dataDir,
            Path policiesDir,
            UpPorts ports,
            RedisSettings redis) {
        this(metrics, dataSource, db, dataDir, policiesDir, ports, redis, Tracing.disabled());
    }

    /** A context whose servers all listen on free ports, with per-process local limits (no Redis). */
    public StackContext(ProcessMetrics metrics, DataSource dataSource, DbSettings db, Path dataDir, Path policiesDir) {
        this(metrics, dataSource, db, dataDir, policiesDir, UpPorts.ANY, RedisSettings.none());
    }

    /** A context whose servers all listen on free ports (tests, a stack beside another), sharing {@code redis}. */
    public StackContext(
            ProcessMetrics metrics,
            DataSource dataSource,
            DbSettings db,
            Path dataDir,
            Path policiesDir,
            RedisSettings redis) {
        this(metrics, dataSource, db, dataDir, policiesDir, UpPorts.ANY, redis);
    }

    /** The same context on other ports. */
    public StackContext withPorts(UpPorts other) {
        return new StackContext(
                metrics,
                dataSource,
                db,
                dataDir,
                policiesDir,
                other,
                redis,
                tracing,
                adminAccess,
                productIdp,
                consoleClient,
                gatewayTrustedHops);
    }

    /** The same context whose product routes also take tokens of {@code idp}'s customers' clients. */
    public StackContext withProductIdp(ProductIdp idp) {
        return new StackContext(
                metrics,
                dataSource,
                db,
                dataDir,
                policiesDir,
                ports,
                redis,
                tracing,
                adminAccess,
                Optional.of(idp),
                consoleClient,
                gatewayTrustedHops);
    }

    /** The same context behind {@code hops} load balancers that append the client to {@code x-forwarded-for}. */
    public StackContext withGatewayTrustedHops(int hops) {
        return new StackContext(
                metrics,
                dataSource,
                db,
                dataDir,
                policiesDir,
                ports,
                redis,
                tracing,
                adminAccess,
                productIdp,
                consoleClient,
                hops);
    }
}
