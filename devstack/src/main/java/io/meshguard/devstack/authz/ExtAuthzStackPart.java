package io.meshguard.devstack.authz;

import io.meshguard.cli.common.RunningStack;
import io.meshguard.devstack.audit.AuditPart;
import io.meshguard.devstack.dev.DevIssuerStackPart;
import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.StackPart;
import io.meshguard.extauthz.audit.AuditSinkDecisions;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.extauthz.subscription.SubscriptionStateSettings;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * extauthz in {@code meshguard up}: the dev policy (the repository's {@code policies/authz.yaml} plus the local
 * development issuer and its demo route, written by {@link DevIssuerStackPart}), the local PostgreSQL for API keys,
 * decisions into the audit writer, the stack's Redis for global limits ({@code --redis}), gRPC on 127.0.0.1:9001
 * ({@code --extauthz-port}).
 */
public final class ExtAuthzStackPart implements StackPart {
    public static final int GRPC_PORT = 9001;

    private final AuditPart audit;
    private final DevIssuerStackPart devIssuer;
    private ExtAuthzServer server;

    /**
     * @param audit the audit part started before this one; its writer receives every decision
     * @param devIssuer the dev issuer part started before this one; its generated policy is the one enforced
     */
    public ExtAuthzStackPart(AuditPart audit, DevIssuerStackPart devIssuer) {
        this.audit = audit;
        this.devIssuer = devIssuer;
    }

    @Override
    public String name() {
        return "extauthz";
    }

    @Override
    public List<ServerComponent> components(StackContext context) {
        ExtAuthzConfig config = ExtAuthzConfig.defaults()
                .withGrpc("127.0.0.1", context.ports().extauthz())
                .withShutdown(Duration.ZERO, Duration.ofSeconds(5))
                .withPolicy(devIssuer.policyFile(), Duration.ofSeconds(2))
                // up's own redis-server (or --redis URL): the global limits run as in a cluster; --redis none keeps
                // per-process local limits.
                .withRedis(context.redis());
        // product routes follow the local controller's subscription state, as a cluster's replicas do (LocalStack
        // has picked the ADS port before any part starts)
        config = config.withSubscriptions(new SubscriptionStateSettings(
                Optional.of("127.0.0.1:" + context.ports().ads()), SubscriptionStateSettings.NONE.maxStaleness()));
        server = new ExtAuthzServer(
                config,
                context.metrics().forServer("extauthz"),
                Optional.of(context.dataSource()),
                new AuditSinkDecisions(audit.component().sink()),
                Clock.systemUTC(),
                context.tracing());
        return List.of(new WithoutJwksReadiness(server));
    }

    /** The server; only after {@link #components}. */
    public ExtAuthzServer server() {
        return server;
    }

    /** The Check port; {@link #GRPC_PORT} until {@link #components} ran. */
    public int grpcPort() {
        return server == null ? GRPC_PORT : server.grpcPort();
    }

    @Override
    public Map<String, Integer> ports() {
        return server == null ? Map.of() : Map.of(RunningStack.EXTAUTHZ, server.grpcPort());
    }

    @Override
    public List<String> endpoints() {
        return List.of("gRPC 127.0.0.1:" + grpcPort() + " (ext_authz Check)");
    }

    /**
     * The server as {@code up} runs it. Readiness leaves out the {@code jwks} check: the repository's example issuers
     * are not reachable from a laptop, and the local stack should still report ready. Their tokens are denied
     * (503 {@code jwks_unavailable}) all the same; the dev issuer's keys are served locally. Production
     * ({@code meshguard extauthz}) keeps the check.
     */
    private record WithoutJwksReadiness(ExtAuthzServer server) implements ServerComponent {
        @Override
        public String name() {
            return server.name();
        }

        @Override
        public void start() throws Exception {
            server.start();
        }

        @Override
        public List<ReadinessCheck> readinessChecks() {
            return server.readinessChecks().stream()
                    .filter(c -> !c.name().equals("jwks"))
                    .toList();
        }

        @Override
        public void close() {
            server.close();
        }
    }
}
