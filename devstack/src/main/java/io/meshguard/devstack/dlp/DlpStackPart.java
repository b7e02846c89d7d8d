package io.meshguard.devstack.dlp;

import io.meshguard.cli.common.RunningStack;
import io.meshguard.devstack.audit.AuditPart;
import io.meshguard.devstack.part.LocalSecret;
import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.StackPart;
import io.meshguard.dlpserver.AuditLogRecorder;
import io.meshguard.dlpserver.DlpServer;
import io.meshguard.dlpserver.DlpServerSettings;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.util.List;
import java.util.Map;

/**
 * The DLP server in {@code meshguard up}: ext_proc on 127.0.0.1:9002 with {@code policies/dlp.yaml}, findings and
 * stream summaries recorded through the audit part's writer (started before this part).
 */
public final class DlpStackPart implements StackPart {
    private final AuditPart audit;
    private DlpServer server;
    private java.nio.file.Path missing;

    public DlpStackPart(AuditPart audit) {
        this.audit = audit;
    }

    @Override
    public String name() {
        return "dlp";
    }

    @Override
    public List<ServerComponent> components(StackContext context) throws Exception {
        java.nio.file.Path policy = context.policiesDir().resolve("dlp.yaml");
        if (!java.nio.file.Files.isRegularFile(policy)) {
            // No DLP rules in this policies directory: nothing to enforce; the listing says so.
            missing = policy;
            return List.of();
        }
        // MESHGUARD_DLP_HASH_KEY_FILE, then MESHGUARD_DLP_HASH_KEY (same rule as the server's config keys), else
        // a key kept in the data directory: hash tokens and audit HMACs stay comparable across restarts of `up`.
        byte[] key = DlpServerSettings.keyFromEnvironment(System.getenv());
        if (key.length == 0) {
            key = DlpServerSettings.readKeyFile(
                    LocalSecret.ensure(context.dataDir().resolve("dlp-hash-key"), "", 32));
        }
        DlpServerSettings settings = DlpServerSettings.defaults(policy).withHashKey(key);
        settings = settings.withGrpc(DlpServerSettings.withMaxMessage(
                GrpcServerSettings.defaults(DlpServerSettings.DEFAULT_GRPC_PORT)
                        .withAddress("127.0.0.1", context.ports().dlp()),
                settings.grpc().maxInboundMessageBytes()));
        server = DlpServer.create(
                settings,
                new AuditLogRecorder(audit.component().sink()),
                context.metrics().forServer("extproc-dlp"),
                context.tracing());
        // every reload of dlp.yaml, taken or refused, is a row of the admin trail
        server.policy()
                .addReloadListener(new io.meshguard.audit.trail.TrailedPolicyReloads(
                        new io.meshguard.audit.trail.AdminTrail(context.dataSource()),
                        "extproc-dlp",
                        System.getenv().getOrDefault("HOSTNAME", "local")));
        return List.of(server);
    }

    /** The ext_proc port; the default port when the part runs no server. */
    public int grpcPort() {
        return server == null ? DlpServerSettings.DEFAULT_GRPC_PORT : server.grpcPort();
    }

    @Override
    public Map<String, Integer> ports() {
        return server == null ? Map.of() : Map.of(RunningStack.DLP, server.grpcPort());
    }

    @Override
    public List<String> endpoints() {
        if (missing != null) {
            return List.of("not started: " + missing + " not found");
        }
        return List.of("gRPC 127.0.0.1:" + (server == null ? DlpServerSettings.DEFAULT_GRPC_PORT : server.grpcPort())
                + " (ext_proc Process, DLP)");
    }
}
