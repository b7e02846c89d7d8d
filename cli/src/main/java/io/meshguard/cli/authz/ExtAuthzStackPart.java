package io.meshguard.cli.authz;

import io.meshguard.cli.StackContext;
import io.meshguard.cli.StackPart;
import io.meshguard.extauthz.audit.LogDecisionSink;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.extauthz.server.ExtAuthzServer;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** extauthz in {@code meshguard up}: the repository's policies, the local PostgreSQL for API keys, gRPC on 9001. */
public final class ExtAuthzStackPart implements StackPart {
    private ExtAuthzServer server;

    @Override
    public String name() {
        return "extauthz";
    }

    @Override
    public List<ServerComponent> components(StackContext context) {
        ExtAuthzConfig config = ExtAuthzConfig.defaults().withGrpc("127.0.0.1", 9001)
                .withPolicy(context.policiesDir().resolve("authz.yaml"), Duration.ofSeconds(2));
        server = new ExtAuthzServer(config, context.metrics().forServer("extauthz"), Optional.of(context.dataSource()),
                new LogDecisionSink(), Clock.systemUTC());
        return List.of(server);
    }

    @Override
    public List<String> endpoints() {
        return List.of("gRPC 127.0.0.1:" + server.grpcPort() + " (ext_authz Check)");
    }
}
