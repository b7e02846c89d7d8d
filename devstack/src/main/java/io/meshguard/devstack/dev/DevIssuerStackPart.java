package io.meshguard.devstack.dev;

import io.meshguard.cli.common.RunningStack;
import io.meshguard.cli.dev.DevIssuer;
import io.meshguard.cli.dev.DevIssuerFiles;
import io.meshguard.cli.dev.DevJwksServer;
import io.meshguard.cli.dev.DevPolicyWriter;
import io.meshguard.cli.dev.DevSigningKey;
import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.StackPart;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The local development issuer in {@code meshguard up}: makes (once) or reuses the signing key in
 * {@code DATA/dev-issuer/}, serves its JWKS on 127.0.0.1:9180 ({@code --dev-jwks-port}), and writes the dev policy
 * that extauthz in {@code up} enforces: {@code policies/authz.yaml} plus this issuer and the demo route.
 * {@code meshguard dev token} mints tokens with the same key.
 */
public final class DevIssuerStackPart implements StackPart {
    private DevIssuerFiles files;
    private DevJwksServer jwks;

    @Override
    public String name() {
        return "dev-issuer";
    }

    @Override
    public List<ServerComponent> components(StackContext context) throws Exception {
        files = DevIssuerFiles.under(context.dataDir());
        DevSigningKey key = DevSigningKey.createOrLoad(files);
        jwks = new DevJwksServer("127.0.0.1", context.ports().devJwks(), key.publicJwks());
        DevJwksServer server = jwks;
        DevPolicyWriter writer = new DevPolicyWriter(
                context.policiesDir().resolve("authz.yaml"),
                files.policy(),
                () -> DevIssuer.jwksUri(server.port()),
                context.productIdp(),
                Duration.ofSeconds(1),
                context.metrics().forServer("extauthz"));
        return List.of(jwks, writer);
    }

    /** The generated policy extauthz loads in {@code up}; known once {@link #components} ran. */
    public Path policyFile() {
        if (files == null) {
            throw new IllegalStateException("the dev issuer part has not been set up yet");
        }
        return files.policy();
    }

    /** The issuer's files (signing key, public JWKS, generated policy); known once {@link #components} ran. */
    public DevIssuerFiles issuerFiles() {
        if (files == null) {
            throw new IllegalStateException("the dev issuer part has not been set up yet");
        }
        return files;
    }

    @Override
    public Map<String, Integer> ports() {
        return jwks == null ? Map.of() : Map.of(RunningStack.DEV_JWKS, jwks.port());
    }

    @Override
    public List<String> endpoints() {
        int port = jwks == null ? DevIssuer.JWKS_PORT : jwks.port();
        return List.of(
                "JWKS " + DevIssuer.jwksUri(port) + " (iss " + DevIssuer.ISSUER + "; tokens: meshguard dev token)",
                "policy " + (files == null ? "" : files.policy()) + " (policies/authz.yaml + dev issuer + route "
                        + DevIssuer.DEMO_ROUTE + ")");
    }
}
