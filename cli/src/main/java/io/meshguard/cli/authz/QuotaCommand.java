package io.meshguard.cli.authz;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PostgresAuditStore;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.authz.policy.QuotaPolicy;
import io.meshguard.cli.common.AdminTokenFileOption;
import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbConfig;
import io.meshguard.extauthz.quota.LiveCounters;
import io.meshguard.extauthz.quota.QuotaAdminApi;
import io.meshguard.extauthz.quota.QuotaAudit;
import io.meshguard.extauthz.quota.QuotaOperations;
import io.meshguard.extauthz.quota.QuotaStore;
import io.meshguard.extauthz.redis.RedisConfig;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import javax.sql.DataSource;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard quota show|adjust|reset}: one caller's calendar quota in the current period, as extauthz counts it
 * (docs/operate/sell-an-api.md, "Calendar quotas"). Changes need {@code --reason}, are recorded in {@code quota_adjustment} with the
 * actor and written to the audit log as {@code quota} events, and take effect on the live counter at once: through the
 * admin API on the server's own Redis; with {@code --direct-db} on {@code --redis}, {@code MESHGUARD_REDIS_URL},
 * {@code redis.url} in {@code --config}, or the Redis of the running {@code meshguard up} (from its {@code up.json}).
 */
@Command(
        name = "quota",
        mixinStandardHelpOptions = true,
        description = "Show, adjust or reset a caller's calendar quota (quotas: in the authz policy).",
        subcommands = {QuotaCommand.Show.class, QuotaCommand.Adjust.class, QuotaCommand.Reset.class})
public final class QuotaCommand implements Runnable {
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
            new com.fasterxml.jackson.databind.ObjectMapper();

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (show, adjust, reset)");
    }

    /**
     * Where the quota is defined and counted. By default the command acts through the admin API ({@code /quotas}) as
     * the caller its token names, so the permission check and the audit apply ({@code --url URL --token-file FILE}, or
     * the running {@code meshguard up}); {@code --direct-db} is break-glass with the database's and Redis's own
     * credentials.
     */
    static final class Target {
        @Option(
                names = "--url",
                description =
                        "Admin API holding /quotas: extauthz's HTTP port, or `meshguard up`'s admin port (default: the running `meshguard up`'s).")
        String url;

        @CommandLine.Mixin
        AdminTokenFileOption tokenFile = new AdminTokenFileOption();

        @Option(
                names = "--direct-db",
                description =
                        "Break-glass: change the counters with the database's credentials instead of the admin API (no permission check; the actor is self-declared).")
        boolean directDb;

        @Option(
                names = "--config",
                paramLabel = "FILE",
                description = "With --direct-db: YAML file with db.* and redis.* settings, as extauthz reads them.")
        Path config;

        @CommandLine.Mixin
        DatabaseOptions database = new DatabaseOptions();

        @Option(
                names = "--redis",
                paramLabel = "URL",
                description =
                        "Redis of the extauthz replicas (default: $MESHGUARD_REDIS_URL, else redis.url in --config).")
        String redisUrl;

        @Option(
                names = "--policy",
                paramLabel = "FILE",
                description =
                        "The authz policy defining the quota (default: $MESHGUARD_POLICY_FILE, else ${DEFAULT-VALUE}).",
                defaultValue = "policies/authz.yaml")
        Path policy;

        @Option(
                names = "--quota",
                required = true,
                paramLabel = "NAME",
                description = "The quota's name in the policy.")
        String quota;

        @Option(
                names = "--caller",
                required = true,
                paramLabel = "KEY",
                description =
                        "api_key:<key id>, tenant:<tenant> or subject:<issuer>/<subject> (as in quota audit events).")
        String caller;

        QuotaPolicy quotaPolicy() throws PolicyInvalidException {
            Path file = Optional.ofNullable(System.getenv("MESHGUARD_POLICY_FILE"))
                    .filter(s -> !s.isBlank() && policy.equals(Path.of("policies/authz.yaml")))
                    .map(Path::of)
                    .orElse(policy);
            AuthzPolicy p = new AuthzPolicyParser().parse(file);
            return p.quotas().stream()
                    .filter(q -> q.name().equals(quota))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the policy " + file + " has no quota named '"
                            + quota + "' (it has: "
                            + String.join(
                                    ", ",
                                    p.quotas().stream().map(QuotaPolicy::name).toList()) + ")"));
        }

        /** The admin API these options name. */
        AdminClient adminClient() throws java.io.IOException {
            return AdminClient.resolve(url, tokenFile.file(), database.dataDir());
        }

        /** Calls the admin API and prints its answer; non-zero when it refused. */
        int viaAdminApi(CommandSpec spec, String method, String path, String body) throws Exception {
            java.net.http.HttpResponse<String> r = adminClient().send(method, path, body);
            PrintWriter to = r.statusCode() / 100 == 2
                    ? spec.commandLine().getOut()
                    : spec.commandLine().getErr();
            if (r.statusCode() / 100 != 2) {
                to.printf("meshguard quota: the admin API answered %d: ", r.statusCode());
            }
            to.println(r.body().strip());
            to.flush();
            return r.statusCode() / 100 == 2 ? 0 : 1;
        }

        String quotaPath() {
            return QuotaAdminApi.PREFIX + "/"
                    + java.net.URLEncoder.encode(quota, java.nio.charset.StandardCharsets.UTF_8);
        }

        /** Runs {@code action} with the operations on the database and, if given, Redis; both closed afterwards. */
        <T> T run(PrintWriter err, OperationsAction<T> action) throws Exception {
            err.println("meshguard quota: --direct-db changes counters with the database's credentials: no permission "
                    + "check, and the actor is what --actor says (break-glass)");
            err.flush();
            QuotaPolicy q = quotaPolicy();
            Config loaded = null;
            if (config != null) {
                ConfigSchema schema = ConfigSchema.builder()
                        .add(new DbConfig("meshguard-quota"))
                        .add(new RedisConfig())
                        .build();
                loaded = ConfigLoader.load(schema, Optional.of(config), System.getenv());
            }
            RedisSettings redis = redis(loaded, err);
            HikariDataSource pool = null;
            RedisConnection conn = null;
            try {
                DataSource ds;
                if (loaded != null && !loaded.get(DbConfig.URL).isBlank()) {
                    pool = DataSourceFactory.create(new DbConfig("meshguard-quota").read(loaded));
                    ds = pool;
                } else {
                    ds = database.open("meshguard-quota", System.getenv());
                }
                if (redis.enabled()) {
                    conn = RedisConnection.open(redis);
                } else {
                    err.println(
                            "note: no Redis given (--redis, MESHGUARD_REDIS_URL, redis.url): if the extauthz replicas use"
                                    + " Redis, their live counters do not see this until the counter is seeded again");
                    err.flush();
                }
                RedisConnection live = conn;
                QuotaOperations ops = new QuotaOperations(
                        new QuotaStore(ds),
                        () -> Optional.ofNullable(live),
                        new LiveCounters(redis.keyPrefix(), Duration.ofSeconds(2)),
                        audit(ds, err),
                        Clock.systemUTC());
                return action.apply(ops, q);
            } finally {
                if (conn != null) {
                    conn.close();
                }
                if (pool != null) {
                    pool.close();
                }
            }
        }

        /**
         * The Redis whose live counters extauthz reads: {@code --redis}, {@code MESHGUARD_REDIS_URL} or
         * {@code redis.url} in {@code --config} when given; otherwise, when the database is the running
         * {@code meshguard up}'s, that stack's Redis (URL, password and key prefix from its {@code up.json}): the one
         * place every command finds the stack.
         */
        private RedisSettings redis(Config loaded, PrintWriter err) throws java.io.IOException {
            RedisSettings fromConfig = loaded != null ? new RedisConfig().read(loaded) : RedisSettings.none();
            Optional<String> named = Optional.ofNullable(redisUrl)
                    .or(() -> Optional.ofNullable(System.getenv("MESHGUARD_REDIS_URL")))
                    .filter(s -> !s.isBlank())
                    .or(() -> Optional.of(fromConfig.url()).filter(s -> !s.isBlank()));
            if (named.isPresent()) {
                String password = Optional.ofNullable(System.getenv("MESHGUARD_REDIS_PASSWORD"))
                        .orElse(fromConfig.password());
                return new RedisSettings(
                        named.get(),
                        password,
                        fromConfig.tlsCaFile(),
                        fromConfig.connectTimeout(),
                        Duration.ofSeconds(2),
                        fromConfig.keyPrefix());
            }
            boolean databaseNamed = loaded != null && !loaded.get(DbConfig.URL).isBlank();
            Optional<io.meshguard.cli.common.RunningStack> up =
                    databaseNamed ? Optional.empty() : database.runningStack(System.getenv());
            if (up.isPresent()) {
                Optional<RedisSettings> upRedis = up.get().redisSettings();
                if (upRedis.isPresent()) {
                    err.println("live counters: the Redis of the `meshguard up` on "
                            + up.get().dataDir() + " (" + upRedis.get().redactedUrl() + ")");
                    err.flush();
                    return upRedis.get().withCommandTimeout(Duration.ofSeconds(2));
                }
            }
            return RedisSettings.none();
        }

        /**
         * The change as a {@code quota} audit event, written to the same database right away (the CLI has no
         * background writer); if that fails the change stands (it is in {@code quota_adjustment}) and the command says so.
         */
        private static QuotaAudit audit(DataSource ds, PrintWriter err) {
            return new QuotaAudit() {
                @Override
                public void alert(
                        io.meshguard.extauthz.quota.QuotaKey key,
                        int threshold,
                        long used,
                        long limit,
                        java.time.Instant at) {
                    // the CLI never counts requests
                }

                @Override
                public void change(QuotaStore.Change c, String requestId) {
                    java.util.List<AuditEvent> events = new java.util.ArrayList<>();
                    QuotaAudit.to(events::add).change(c, requestId);
                    try (PostgresAuditStore store = new PostgresAuditStore(
                            ConnectionSource.of(ds), BatchWriteMethod.INSERT, Duration.ofSeconds(10))) {
                        store.ensurePartitionsFor(events);
                        store.write(events);
                        err.printf(
                                "audited: quota_adjustment #%d, audit event %s (%s by %s at %s)%n",
                                c.id(), events.get(0).eventId(), c.action(), c.actor(), c.at());
                    } catch (java.sql.SQLException e) {
                        err.printf(
                                "warning: the change is made (quota_adjustment #%d) but its audit event could not be written: %s%n",
                                c.id(), e.getMessage());
                    }
                    err.flush();
                }
            };
        }
    }

    interface OperationsAction<T> {
        T apply(QuotaOperations ops, QuotaPolicy quota) throws Exception;
    }

    /** Who makes a change, and why. */
    static final class Change {
        @Option(names = "--reason", required = true, description = "Why (goes to the audit log; required).")
        String reason;

        @Option(
                names = "--actor",
                paramLabel = "NAME",
                description =
                        "With --direct-db: who makes the change (default: $USER); through the admin API the actor is the token's caller.")
        String actor;

        String actor() {
            return Optional.ofNullable(actor)
                    .or(() -> Optional.ofNullable(System.getenv("USER")))
                    .or(() -> Optional.ofNullable(System.getProperty("user.name")))
                    .orElse("unknown");
        }
    }

    static void print(PrintWriter out, QuotaOperations.Standing s) {
        QuotaPolicy q = s.quota();
        out.printf(
                "quota=%s caller=%s period=%s timezone=%s period_start=%s resets_at=%s used=%d durable=%d live=%s%n",
                q.name(),
                s.caller(),
                q.period().yaml(),
                q.zone().getId(),
                s.window().start(),
                s.window().endsAt(),
                s.used(),
                s.durable(),
                s.live().isPresent() ? Long.toString(s.live().getAsLong()) : "-");
        for (QuotaStore.Change c : s.changes()) {
            out.printf(
                    "  #%d %s %s %+d (%d -> %d) by %s via %s: %s%n",
                    c.id(),
                    c.at(),
                    c.action(),
                    c.delta(),
                    c.usedBefore(),
                    c.usedAfter(),
                    c.actor(),
                    c.via(),
                    c.reason());
        }
    }

    static void print(PrintWriter out, QuotaOperations.Applied a) {
        QuotaStore.Change c = a.change();
        out.printf(
                "%s quota=%s caller=%s period_start=%s delta=%+d durable=%d live=%s%n",
                c.action(),
                c.key().quota(),
                c.key().caller(),
                c.key().periodStart(),
                c.delta(),
                c.usedAfter(),
                a.live().isPresent() ? Long.toString(a.live().getAsLong()) : "-");
        out.println("  " + a.liveNote());
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "A caller's count in the current period and its changes.")
    static final class Show implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Target target = new Target();

        @Override
        public Integer call() throws Exception {
            if (!target.directDb) {
                return target.viaAdminApi(
                        spec,
                        "GET",
                        target.quotaPath() + "?caller="
                                + java.net.URLEncoder.encode(target.caller, java.nio.charset.StandardCharsets.UTF_8),
                        null);
            }
            PrintWriter out = spec.commandLine().getOut();
            target.run(spec.commandLine().getErr(), (ops, q) -> {
                print(out, ops.show(q, target.caller));
                return null;
            });
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "adjust",
            mixinStandardHelpOptions = true,
            description = "Add requests to a caller's current period (negative --by gives requests back).")
    static final class Adjust implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Target target = new Target();

        @CommandLine.Mixin
        Change change = new Change();

        @Option(
                names = "--by",
                required = true,
                paramLabel = "N",
                description = "Requests to add; negative gives them back (e.g. --by=-500).")
        long by;

        @Override
        public Integer call() throws Exception {
            if (!target.directDb) {
                return target.viaAdminApi(
                        spec,
                        "POST",
                        target.quotaPath() + "/adjust",
                        JSON.createObjectNode()
                                .put("caller", target.caller)
                                .put("delta", by)
                                .put("reason", change.reason)
                                .toString());
            }
            PrintWriter out = spec.commandLine().getOut();
            target.run(spec.commandLine().getErr(), (ops, q) -> {
                print(
                        out,
                        ops.adjust(
                                q,
                                target.caller,
                                by,
                                change.actor(),
                                "cli",
                                change.reason,
                                "cli-" + UUID.randomUUID()));
                return null;
            });
            out.flush();
            return 0;
        }
    }

    @Command(
            name = "reset",
            mixinStandardHelpOptions = true,
            description = "Set a caller's current period back to zero requests.")
    static final class Reset implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Target target = new Target();

        @CommandLine.Mixin
        Change change = new Change();

        @Override
        public Integer call() throws Exception {
            if (!target.directDb) {
                return target.viaAdminApi(
                        spec,
                        "POST",
                        target.quotaPath() + "/reset",
                        JSON.createObjectNode()
                                .put("caller", target.caller)
                                .put("reason", change.reason)
                                .toString());
            }
            PrintWriter out = spec.commandLine().getOut();
            target.run(spec.commandLine().getErr(), (ops, q) -> {
                print(
                        out,
                        ops.reset(q, target.caller, change.actor(), "cli", change.reason, "cli-" + UUID.randomUUID()));
                return null;
            });
            out.flush();
            return 0;
        }
    }
}
