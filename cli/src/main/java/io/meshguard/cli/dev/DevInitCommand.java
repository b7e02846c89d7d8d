package io.meshguard.cli.dev;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshguard dev init}: what {@code up} does for its dev issuer, without starting anything, for stacks that
 * run extauthz elsewhere (Docker Compose): the key, its public JWKS file and the dev policy.
 */
@Command(
        name = "init",
        mixinStandardHelpOptions = true,
        description = {
            "Create (once) the development issuer key in --data-dir and write its public JWKS and the dev policy",
            "(policies/authz.yaml + the dev issuer + route " + DevIssuer.DEMO_ROUTE + ") without starting a server.",
            "Docker Compose (deploy/local) serves the JWKS and mounts the policy; run it again after editing authz.yaml."
        })
public final class DevInitCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(
            names = "--data-dir",
            defaultValue = ".meshguard",
            description = "Where the key and generated files go (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(
            names = "--policies",
            defaultValue = "policies",
            description = "Policy directory holding authz.yaml (default: ${DEFAULT-VALUE}).")
    Path policiesDir;

    @Option(
            names = "--jwks-uri",
            defaultValue = "http://127.0.0.1:9180/dev/jwks.json",
            description = "Where extauthz will fetch the JWKS; http only on localhost (default: ${DEFAULT-VALUE}).")
    URI jwksUri;

    @Override
    public Integer call() throws Exception {
        Path base = policiesDir.resolve("authz.yaml");
        if (!Files.isRegularFile(base)) {
            throw new java.io.IOException("no authz policy at " + base + ": pass --policies DIR");
        }
        DevIssuerFiles files = DevIssuerFiles.under(dataDir);
        DevSigningKey key = DevSigningKey.createOrLoad(files);
        DevPolicyWriter writer = new DevPolicyWriter(
                base,
                files.policy(),
                () -> jwksUri,
                java.util.Optional.empty(),
                Duration.ofSeconds(1),
                new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        writer.refreshNow();
        var out = spec.commandLine().getOut();
        out.printf("dev issuer %s (kid %s)%n", DevIssuer.ISSUER, key.keyId());
        out.printf("  signing key  %s (0600, stays here)%n", files.signingKey());
        out.printf("  public JWKS  %s (serve it at %s)%n", files.publicJwks(), jwksUri);
        out.printf("  dev policy   %s%n", files.policy());
        out.flush();
        return 0;
    }
}
