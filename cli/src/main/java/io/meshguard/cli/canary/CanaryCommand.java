package io.meshguard.cli.canary;

import io.meshguard.access.BearerTokenSource;
import io.meshguard.access.ClientCredentialsTokens;
import io.meshguard.authz.decision.SecretFiles;
import io.meshguard.cli.common.ServerCommand;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.IdpTrust;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import javax.net.ssl.SSLContext;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard canary}: sends each protected route's canaries through the real path on a schedule and serves
 * their metrics (status HTTP 9104); with {@code --once}, sends them once, prints what each found and exits 0 when all
 * passed, 3 when one got through, 4 when one could not reach its route.
 */
@Command(
        name = "canary",
        mixinStandardHelpOptions = true,
        description = {
            "Send canaries through protected routes: an expired token the Check must deny, a card "
                    + "number the DLP must block. Keys (file or MESHGUARD_* environment): canary.routes_file, "
                    + "canary.interval, canary.timeout, canary.block_status, canary.expired_token_file, "
                    + "canary.token_endpoint, canary.client_id, canary.client_secret_file, canary.credential_file, "
                    + "canary.audit_url, canary.audit_client_id, canary.audit_client_secret_file, "
                    + "canary.audit_token_file, canary.renew_before, canary.evidence_wait, "
                    + "http.* (port 9104). A canary passes only when the audit log holds meshguard's own rows for "
                    + "it (found by its trace id).",
            "",
            "Exit codes with --once: 0 all passed, 3 a canary got through, 4 a route could not be reached."
        })
public final class CanaryCommand implements Callable<Integer>, ServerCommand {
    /** A canary got through: the route is not protected. */
    public static final int EXIT_GOT_THROUGH = 3;
    /** A route could not be reached or its canary credential was refused: nothing is proven. */
    public static final int EXIT_UNREACHABLE = 4;

    @Spec
    CommandSpec spec;

    @Option(names = "--config", description = "YAML configuration file (keys as listed above).")
    Path config;

    @Option(names = "--once", description = "Send every canary once, print the results and exit (a CronJob, CI).")
    boolean once;

    static ConfigSchema schema() {
        return ConfigSchema.builder()
                .add(CanarySettings.configGroup())
                .add(HttpServerSettings.configGroup(CanarySettings.DEFAULT_HTTP_PORT))
                .build();
    }

    @Override
    public Integer call() throws Exception {
        Config cfg = ConfigLoader.load(schema(), Optional.ofNullable(config), System.getenv());
        CanarySettings settings = CanarySettings.configGroup().read(cfg);
        List<CanaryRoute> routes = CanaryRoute.read(settings.routesFile());
        // the routes, the token endpoint and the admin API alike: a bank's CA is trusted by all three or by none
        Optional<SSLContext> tls = IdpTrust.context(CanarySettings.TLS_CA_FILE.name(), settings.tlsCaFile());
        try (ProcessMetrics metrics = ProcessMetrics.create();
                ComponentStack stack = new ComponentStack()) {
            CanaryProbe probe = new CanaryProbe(
                    routes,
                    new HttpCanaryTransport(settings.timeout(), tls),
                    settings.expiredToken(),
                    settings.credential().map(t -> tokens(t, settings, tls)),
                    settings.blockStatus(),
                    settings.interval(),
                    new AuditApiEvidence(
                            new AdminClient(settings.auditUrl(), tokens(settings.auditToken(), settings, tls), tls)),
                    settings.evidenceWait(),
                    Clock.systemUTC(),
                    metrics.forServer("canary"));
            if (once) {
                return report(probe.runOnce(), spec.commandLine().getOut());
            }
            stack.closeOnJvmShutdown();
            StatusHttpServer http = new StatusHttpServer(
                    "canary-http",
                    HttpServerSettings.configGroup(CanarySettings.DEFAULT_HTTP_PORT)
                            .read(cfg),
                    metrics.registry());
            stack.start(probe);
            stack.start(http);
            stack.awaitClosed();
        }
        return 0;
    }

    /**
     * Where a token comes from at each use: a file re-read when it changes, or a client that signs in and renews its
     * token before it expires (its secret file re-read when it changes too).
     */
    static BearerTokenSource tokens(
            CanarySettings.TokenSetting setting, CanarySettings settings, Optional<SSLContext> tls) {
        SecretFiles files = new SecretFiles(System::nanoTime);
        return switch (setting) {
            case CanarySettings.TokenFile(Path file) -> () -> AdminClient.readTokenFile(file);
            case CanarySettings.SignIn(URI endpoint, String clientId, Path secretFile) ->
                new ClientCredentialsTokens(
                        endpoint,
                        clientId,
                        () -> files.read(secretFile),
                        settings.renewBefore(),
                        settings.timeout(),
                        Clock.systemUTC(),
                        tls);
        };
    }

    /** Prints one line per canary and returns the exit code {@code --once} ends with. */
    static int report(List<CanaryResult> results, PrintWriter out) {
        int exit = 0;
        for (CanaryResult r : results) {
            out.printf("%-12s %-14s %-30s %s%n", r.outcome().id(), r.kind().id(), r.route(), r.detail());
            if (r.outcome() == CanaryResult.Outcome.GOT_THROUGH) {
                exit = EXIT_GOT_THROUGH;
            } else if (r.outcome() == CanaryResult.Outcome.UNREACHABLE && exit == 0) {
                exit = EXIT_UNREACHABLE;
            }
        }
        out.flush();
        return exit;
    }
}
