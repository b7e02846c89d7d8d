package io.meshguard.cli.dev;

import io.meshguard.runtime.config.ConfigType;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code meshguard dev token}: prints a JWT signed by the local development issuer. */
@Command(
        name = "token",
        mixinStandardHelpOptions = true,
        description = {
            "Print a JWT signed by the local development issuer, whose key `meshguard up` (or `meshguard dev"
                    + " init`) made in --data-dir. Only the dev policy generated there trusts it; the shipped"
                    + " policies/authz.yaml does not.",
            "",
            "Try it on the running stack's extauthz (route dev-demo: host demo.local, paths /demo/*, role demo):",
            "  TOKEN=$(./meshguard dev token --sub alice --tenant t1)",
            "  ./meshguard authz send --host demo.local --path /demo/x \\",
            "      --header \"authorization=Bearer $TOKEN\" --header x-tenant-id=t1",
            ""
        })
public final class DevTokenCommand implements Callable<Integer> {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--sub", defaultValue = "dev-user", description = "Subject (default: ${DEFAULT-VALUE}).")
    String subject;

    @Option(
            names = "--tenant",
            defaultValue = "dev-tenant",
            description = "Tenant claim; send the same value in x-tenant-id (default: ${DEFAULT-VALUE}).")
    String tenant;

    @Option(
            names = "--roles",
            split = ",",
            defaultValue = DevIssuer.DEMO_ROLE,
            description = "Roles, comma-separated; the demo route needs '" + DevIssuer.DEMO_ROLE
                    + "' (default: ${DEFAULT-VALUE}).")
    List<String> roles;

    @Option(
            names = "--scopes",
            split = ",",
            defaultValue = "",
            description = "Scopes, comma-separated; sent as one space-delimited scope claim.")
    List<String> scopes;

    @Option(
            names = "--ttl",
            defaultValue = "15m",
            description = "Lifetime: 30s, 15m, 1h ... at most 24h (default: ${DEFAULT-VALUE}).")
    String ttl;

    @Option(
            names = "--aud",
            split = ",",
            defaultValue = DevIssuer.AUDIENCE,
            description = "Audiences, comma-separated (default: ${DEFAULT-VALUE}).")
    List<String> audiences;

    @Option(
            names = "--data-dir",
            defaultValue = ".meshguard",
            description = "Data directory of `meshguard up` (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Override
    public Integer call() throws Exception {
        Duration lifetime;
        try {
            lifetime = ConfigType.duration().parse(ttl.trim());
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--ttl: " + e.getMessage());
        }
        DevToken token;
        try {
            token = new DevToken(subject, tenant, roles, scopes, audiences, lifetime);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        DevSigningKey key = DevSigningKey.load(DevIssuerFiles.under(dataDir));
        spec.commandLine().getOut().println(key.sign(token.claims(Instant.now())));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
