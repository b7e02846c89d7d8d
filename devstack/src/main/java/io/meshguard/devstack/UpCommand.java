package io.meshguard.devstack;

import io.meshguard.cli.common.RunningStack;
import io.meshguard.cli.common.UpState;
import io.meshguard.devstack.idp.LocalIdp;
import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.StackPart;
import io.meshguard.devstack.part.UpPorts;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import io.meshguard.runtime.http.StatusHttpServer;
import io.meshguard.runtime.lifecycle.ComponentStack;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.logging.JulBridge;
import io.meshguard.runtime.metrics.ProcessMetrics;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshguard up}: PostgreSQL, migrations, a Redis (extauthz's global rate limits) and every server of this
 * build in one process, with a combined status listener. Ctrl-C or SIGTERM closes everything in reverse start order:
 * the servers drain first, Redis and PostgreSQL stop after them.
 */
@Command(
        name = "up",
        mixinStandardHelpOptions = true,
        description = {
            "Start the whole stack locally on an embedded PostgreSQL and Redis; Ctrl-C stops everything.",
            "",
            "Every port is fixed by its flag; a busy port stops `up` with the port and the flag named. "
                    + "0 picks a free port; the banner and DATA_DIR/up.json (which every other command reads) say "
                    + "which."
        })
final class UpCommand implements Callable<Integer>, io.meshguard.cli.common.ServerCommand {
    @Option(
            names = "--data-dir",
            defaultValue = ".meshguard",
            description = "Local state: database, spools, up.json (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(
            names = "--status-port",
            defaultValue = "9100",
            description = "Combined /readyz, /healthz, /metrics (default: ${DEFAULT-VALUE}).")
    int statusPort;

    @Option(
            names = "--pg-port",
            defaultValue = "15432",
            description = "Embedded PostgreSQL on 127.0.0.1 (default: ${DEFAULT-VALUE}).")
    int pgPort;

    @Option(
            names = "--extauthz-port",
            defaultValue = "9001",
            description = "extauthz gRPC, ext_authz Check (default: ${DEFAULT-VALUE}).")
    int extauthzPort;

    @Option(
            names = "--dlp-port",
            defaultValue = "9002",
            description = "DLP server gRPC, ext_proc Process (default: ${DEFAULT-VALUE}).")
    int dlpPort;

    @Option(
            names = "--als-port",
            defaultValue = "9004",
            description = "Audit access-log receiver gRPC (default: ${DEFAULT-VALUE}).")
    int alsPort;

    @Option(
            names = "--ads-port",
            defaultValue = "18000",
            description = "xDS controller ADS gRPC (default: ${DEFAULT-VALUE}).")
    int adsPort;

    @Option(
            names = "--xds-admin-port",
            defaultValue = "9103",
            description = "xDS controller admin API (default: ${DEFAULT-VALUE}).")
    int xdsAdminPort;

    @Option(
            names = "--dev-jwks-port",
            defaultValue = "9180",
            description = "Dev issuer JWKS (default: ${DEFAULT-VALUE}).")
    int devJwksPort;

    @Option(
            names = "--redis-port",
            defaultValue = "16379",
            description = "Local Redis on 127.0.0.1, with --redis local (default: ${DEFAULT-VALUE}).")
    int redisPort;

    @Option(
            names = "--zone-hub-port",
            defaultValue = "18001",
            description = "Central's zone port, where zone controllers"
                    + " on this machine dial (default: ${DEFAULT-VALUE}; in up.json).")
    int zoneHubPort;

    @Option(
            names = "--redis",
            defaultValue = "local",
            paramLabel = "local|none|URL",
            description = {
                "Redis for extauthz's global rate limits: local (a redis-server of up's own, persisting nothing), none (each",
                "process keeps local limits), or redis://host:port / rediss://host:port (TLS) of one to use (default: ${DEFAULT-VALUE})."
            })
    String redis;

    @Option(names = "--redis-password-file", description = "File holding the password of the --redis URL's server.")
    Path redisPasswordFile;

    @Option(
            names = "--idp",
            defaultValue = "none",
            paramLabel = "none|keycloak",
            description = {
                "Identity provider for the admin plane: none (the admin token file; default) or keycloak (a local Keycloak",
                "with a `meshguard` realm and one demo user per role; the admin APIs then take its access tokens, the token",
                "file stays as break-glass). Users, passwords and clients: DATA_DIR/up.json, local realm only."
            })
    String idp;

    @Option(
            names = "--idp-issuer",
            defaultValue = "",
            paramLabel = "URL",
            description = {
                "Sign in at an identity provider you already run instead (admin.oidc.issuer): e.g.",
                "https://keycloak.bank.example/realms/meshguard, exactly as its tokens' iss says (checked against its discovery",
                "document at start). Its access tokens are admitted with the roles --access-file binds to their claims; tokens",
                "of any other issuer are refused; the admin token file stays as break-glass. docs/operate/onboard-a-tenant.md, \"Access",
                "control\"."
            })
    String idpIssuer;

    @Option(
            names = "--idp-audience",
            defaultValue = "meshguard-admin",
            description = "With --idp-issuer: the aud its"
                    + " admin access tokens carry (admin.oidc.audience; default: ${DEFAULT-VALUE}).")
    String idpAudience;

    @Option(
            names = "--access-file",
            paramLabel = "FILE",
            description =
                    "With --idp-issuer: the role bindings" + " (admin.access_file; default: POLICIES/access.yaml).")
    Path accessFile;

    @Option(
            names = "--cli-client-id",
            defaultValue = "meshguard-cli",
            description = "With --idp-issuer: the public"
                    + " client of `meshguard login`, written to up.json (default: ${DEFAULT-VALUE}).")
    String cliClientId;

    @Option(
            names = "--console-client-id",
            defaultValue = "meshguard-console",
            description = "With --idp-issuer: the"
                    + " console's confidential client (console.oidc.client_id; default: ${DEFAULT-VALUE}).")
    String consoleClientId;

    @Option(
            names = "--console-client-secret-file",
            paramLabel = "FILE",
            description = {
                "With --idp-issuer: file"
                        + " holding the console client's secret; without it the console signs in with the admin token file."
            })
    Path consoleClientSecretFile;

    @Option(
            names = "--keycloak-port",
            defaultValue = "18080",
            description = "Keycloak on 127.0.0.1, with --idp keycloak (default: ${DEFAULT-VALUE}).")
    int keycloakPort;

    @Option(
            names = "--bind",
            defaultValue = "127.0.0.1",
            description = "Address of the status listener (default: ${DEFAULT-VALUE}).")
    String bind;

    @Option(
            names = "--policies",
            defaultValue = "policies",
            description = "Policy directory the servers load (default: ${DEFAULT-VALUE}).")
    Path policiesDir;

    @Override
    public Integer call() throws Exception {
        // A person reads up's output: text logs unless asked otherwise. Logback reads this property when the first
        // logger is created, which happens below, so it must be set before anything logs.
        if (System.getenv("MESHGUARD_LOG_FORMAT") == null) {
            System.setProperty("MESHGUARD_LOG_FORMAT", "text");
        }
        JulBridge.install();
        PrintStream console = System.out;
        long begin = System.nanoTime();
        Path dir = dataDir.toAbsolutePath().normalize();
        Files.createDirectories(dir);
        // First: a second up on this directory stops here, before it touches anything the first one owns.
        DataDirLock lock = DataDirLock.acquire(dir);
        RedisChoice redisChoice;
        java.util.Optional<io.meshguard.devstack.idp.ExternalIdp> external = java.util.Optional.empty();
        UpPorts ports = new UpPorts(
                statusPort,
                pgPort,
                extauthzPort,
                dlpPort,
                alsPort,
                adsPort,
                xdsAdminPort,
                devJwksPort,
                redisPort,
                zoneHubPort);
        try {
            if (!idp.equals("none") && !idp.equals("keycloak")) {
                throw new IllegalArgumentException("--idp is none or keycloak, not '" + idp + "'");
            }
            if (!idpIssuer.isEmpty() && idp.equals("keycloak")) {
                throw new IllegalArgumentException("--idp keycloak starts a Keycloak of up's own, --idp-issuer signs"
                        + " in at one you run: pass one of them");
            }
            if (idpIssuer.isEmpty() && (accessFile != null || consoleClientSecretFile != null)) {
                throw new IllegalArgumentException(
                        "--access-file and --console-client-secret-file go with" + " --idp-issuer URL");
            }
            if (!idpIssuer.isEmpty()) {
                // before PostgreSQL starts: a wrong issuer would otherwise start a stack that refuses every token
                external = java.util.Optional.of(io.meshguard.devstack.idp.ExternalIdp.check(
                        idpIssuer,
                        idpAudience,
                        (accessFile != null ? accessFile : policiesDir.resolve("access.yaml"))
                                .toAbsolutePath()
                                .normalize(),
                        cliClientId,
                        consoleClientId,
                        java.util.Optional.ofNullable(consoleClientSecretFile)));
            }
            redisChoice = RedisChoice.parse(redis);
            if (redisPasswordFile != null && redisChoice.kind() != RedisChoice.Kind.EXTERNAL) {
                throw new IllegalArgumentException("--redis-password-file is for --redis URL; up's own Redis keeps its"
                        + " password in " + dir.resolve("redis").resolve(LocalRedis.PASSWORD_FILE));
            }
            if (redisChoice.kind() != RedisChoice.Kind.LOCAL) {
                ports = ports.withoutRedis();
            }
            // Before the port check: a redis-server left by an up that was killed holds --redis-port, and no live up
            // owns it (this process holds the data directory's lock).
            LocalRedis.stopOrphan(dir.resolve("redis"));
            if (idp.equals("keycloak")) {
                ports.requireDistinct("--keycloak-port", keycloakPort);
                LocalIdp.stopOrphan(dir);
            }
            ports.requireFree(bind);
        } catch (UpPorts.PortInUseException | IOException | RuntimeException e) {
            lock.close();
            throw e;
        }

        ProcessMetrics metrics = ProcessMetrics.create();
        io.meshguard.runtime.tracing.Tracing tracing;
        try {
            tracing = io.meshguard.runtime.tracing.Tracing.fromEnvironment(
                    System.getenv(), "meshguard", metrics.registry());
        } catch (io.meshguard.runtime.config.ConfigException e) {
            lock.close();
            throw e;
        }
        ComponentStack stack = new ComponentStack();
        stack.closeOnJvmShutdown();

        StatusHttpServer status =
                new StatusHttpServer("up-status", new HttpServerSettings(bind, ports.status()), metrics.registry());
        PostgresComponent postgres = new PostgresComponent(dir.resolve("postgres"), ports.postgres());
        List<String> endpoints = new ArrayList<>();
        Map<String, Integer> listening = new LinkedHashMap<>();
        Map<String, String> files = new LinkedHashMap<>();
        long redisPid = 0;
        String redisUrl = "";
        String redisKeyPrefix = RedisSettings.none().keyPrefix();
        io.meshguard.cli.idp.UpIdp upIdp = io.meshguard.cli.idp.UpIdp.none();
        // The status listener starts first so that /readyz answers at once; it must say 503 until all is up.
        AtomicBoolean started = new AtomicBoolean();
        status.addReadinessCheck(ReadinessCheck.of(
                "startup",
                () -> started.get()
                        ? ReadinessCheck.Result.ready("all components started")
                        : ReadinessCheck.Result.notReady("starting")));
        try {
            stack.start(new UpStateFile(dir, lock));
            stack.start(tracing); // closed (flushed) after every server
            startTracked(stack, status, status);
            startTracked(stack, postgres, status);
            endpoints.add("postgres   " + postgres.server().jdbcUrl() + "  (user "
                    + postgres.server().user() + ", schema "
                    + postgres.migration().currentVersion() + ")");
            listening.put(RunningStack.STATUS, status.port());
            listening.put(RunningStack.POSTGRES, postgres.server().port());
            RedisSettings redisSettings = RedisSettings.none();
            if (redisChoice.kind() == RedisChoice.Kind.LOCAL) {
                RedisComponent local = new RedisComponent(dir.resolve("redis"), ports.redis());
                startTracked(stack, local, status);
                redisSettings = local.settings();
                redisPid = local.server().pid();
                listening.put(RunningStack.REDIS, local.server().port());
                files.put(
                        RunningStack.REDIS_PASSWORD,
                        local.server().passwordFile().toString());
                endpoints.add(String.format(
                        "%-10s %s  (password in %s; persists nothing: rate-limit windows restart empty)",
                        "redis", local.server().url(), local.server().passwordFile()));
            } else if (redisChoice.kind() == RedisChoice.Kind.EXTERNAL) {
                redisSettings = RedisChoice.settings(redisChoice.url(), readPassword(redisPasswordFile));
                if (redisPasswordFile != null) {
                    files.put(
                            RunningStack.REDIS_PASSWORD,
                            redisPasswordFile.toAbsolutePath().toString());
                }
                endpoints.add(String.format("%-10s %s  (external, --redis)", "redis", redisSettings.redactedUrl()));
            } else {
                endpoints.add(String.format(
                        "%-10s none: extauthz keeps per-process local rate limits (--redis none)", "redis"));
            }
            Path policies = policiesDir.toAbsolutePath().normalize();
            io.meshguard.access.AdminAccessSettings adminAccess = io.meshguard.access.AdminAccessSettings.local();
            java.util.Optional<io.meshguard.cli.idp.ProductIdp> productIdp = java.util.Optional.empty();
            java.util.Optional<io.meshguard.devstack.idp.ConsoleClient> consoleClient = java.util.Optional.empty();
            if (idp.equals("keycloak")) {
                // only here: plain up loads no Keycloak code
                LocalIdp keycloak = LocalIdp.start(stack, dir, keycloakPort, policies, status);
                adminAccess = keycloak.adminAccess();
                productIdp = java.util.Optional.of(keycloak.productIdp());
                consoleClient = java.util.Optional.of(keycloak.consoleClient());
                upIdp = keycloak.state();
                endpoints.add(keycloak.endpoint());
            } else if (external.isPresent()) {
                adminAccess = external.get().adminAccess();
                consoleClient = external.get().console();
                upIdp = external.get().state();
                endpoints.add(external.get().endpoint());
            }
            // the quickstart's tenant and the realm's demo tenants exist before anyone acts in them
            UpTenants.seed(new io.meshguard.catalog.CatalogStore(postgres.dataSource()), idp.equals("keycloak"));
            StackContext context = new StackContext(
                    metrics,
                    postgres.dataSource(),
                    postgres.settings(),
                    dir,
                    policies,
                    ports,
                    redisSettings,
                    tracing,
                    adminAccess,
                    productIdp,
                    consoleClient);
            LocalStack local = LocalStack.start(
                    stack, context, component -> status.addReadinessChecks(component.readinessChecks()));
            for (StackPart part : local.parts()) {
                part.endpoints().forEach(line -> endpoints.add(String.format("%-10s %s", part.name(), line)));
                listening.putAll(part.ports());
                part.files().forEach((name, file) -> files.put(name, file.toString()));
            }
            redisUrl = redisSettings.redactedUrl();
            redisKeyPrefix = redisSettings.keyPrefix();
        } catch (Exception | Error e) {
            stack.close();
            throw e;
        }

        started.set(true);
        String statusUrl = "http://" + bind + ":" + status.port();
        endpoints.add(
                String.format("%-10s %s/readyz  %s/healthz  %s/metrics", "status", statusUrl, statusUrl, statusUrl));
        new UpState(
                        ProcessHandle.current().pid(),
                        postgres.server().pid(),
                        statusUrl,
                        postgres.server().jdbcUrl(),
                        postgres.server().user(),
                        postgres.server().passwordFile().toString(),
                        listening,
                        files,
                        endpoints,
                        redisUrl,
                        redisPid,
                        redisKeyPrefix,
                        upIdp)
                .writeTo(dir);

        console.printf("meshguard is up in %d ms (data in %s)%n", (System.nanoTime() - begin) / 1_000_000, dir);
        endpoints.forEach(line -> console.println("  " + line));
        console.println("Press Ctrl-C to stop.");
        console.flush();

        stack.awaitClosed();
        return 0;
    }

    /**
     * Started first and so closed last: removes {@code up.json} once everything else has stopped — only the one this
     * process wrote — and then releases the data directory.
     */
    private record UpStateFile(Path dataDir, DataDirLock lock) implements ServerComponent {
        @Override
        public String name() {
            return "up.json";
        }

        @Override
        public void start() {}

        @Override
        public void close() {
            Path file = dataDir.resolve(UpState.FILE_NAME);
            try {
                boolean ours = UpState.read(dataDir)
                        .map(s -> s.pid() == ProcessHandle.current().pid())
                        .orElse(false);
                if (ours) {
                    Files.deleteIfExists(file);
                }
            } catch (IOException e) {
                System.err.println("meshguard: could not remove " + file + ": " + e);
            } finally {
                lock.close();
            }
        }
    }

    private static java.util.Optional<String> readPassword(Path file) throws IOException {
        return file == null
                ? java.util.Optional.empty()
                : java.util.Optional.of(Files.readString(file).strip());
    }

    private static void startTracked(ComponentStack stack, ServerComponent component, StatusHttpServer status)
            throws Exception {
        stack.start(component);
        status.addReadinessChecks(component.readinessChecks());
    }
}
