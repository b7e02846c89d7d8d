package io.meshguard.cli.authz;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.cli.DatabaseOptions;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbConfig;
import io.meshguard.extauthz.apikey.ApiKey;
import io.meshguard.extauthz.apikey.ApiKeyService;
import io.meshguard.extauthz.apikey.JdbcApiKeyStore;
import io.meshguard.extauthz.policy.Durations;
import io.meshguard.runtime.config.ConfigLoader;
import io.meshguard.runtime.config.ConfigSchema;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard apikey create|rotate|revoke|list}: API keys for machine clients, stored hashed in PostgreSQL.
 * The database comes from {@code db.*} settings ({@code --config FILE}), {@code --db} / {@code MESHGUARD_DB_URL}, or
 * the running {@code meshguard up}. Standard output carries only the result (the one-time key first), so
 * {@code KEY=$(meshguard apikey create … | head -n1)} works; everything else goes to standard error.
 */
@Command(name = "apikey", mixinStandardHelpOptions = true, description = "Create, rotate, revoke and list API keys.",
        subcommands = {ApiKeyCommand.Create.class, ApiKeyCommand.Rotate.class, ApiKeyCommand.Revoke.class, ApiKeyCommand.ListKeys.class})
public final class ApiKeyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required (create, rotate, revoke, list)");
    }

    /**
     * Options every subcommand shares: where the database is. {@code --config FILE} reads {@code db.*} settings as
     * the servers do; otherwise {@code --db} / {@code MESHGUARD_DB_*} or the running {@code meshguard up}
     * ({@link DatabaseOptions}).
     */
    static final class Db {
        @Option(names = "--config", paramLabel = "FILE", description = "YAML file with db.* settings, as the servers read them.")
        Path config;

        @CommandLine.Mixin
        DatabaseOptions database = new DatabaseOptions();

        /** Runs {@code action} against the key store, holding the database only for that long. */
        <T> T withKeys(KeysAction<T> action) throws Exception {
            if (config == null) {
                return action.apply(new ApiKeyService(new JdbcApiKeyStore(database.open("meshguard-apikey", System.getenv())),
                        Clock.systemUTC()));
            }
            DbConfig db = new DbConfig("meshguard-apikey");
            ConfigSchema schema = ConfigSchema.builder().add(db).build();
            try (HikariDataSource ds = DataSourceFactory.create(
                    db.read(ConfigLoader.load(schema, Optional.of(config), System.getenv())))) {
                return action.apply(new ApiKeyService(new JdbcApiKeyStore(ds), Clock.systemUTC()));
            }
        }
    }

    interface KeysAction<T> {
        T apply(ApiKeyService keys) throws Exception;
    }

    static List<String> split(String csv) {
        List<String> out = new ArrayList<>();
        if (csv != null) {
            for (String s : csv.split(",")) {
                if (!s.isBlank()) {
                    out.add(s.trim());
                }
            }
        }
        return out;
    }

    static void describe(PrintWriter out, ApiKey k) {
        out.printf("%s  tenant=%s owner=%s name=%s tier=%s roles=%s scopes=%s created=%s expires=%s revoked=%s uses=%d last_used=%s%n",
                k.keyId(), k.tenant(), k.owner(), k.name(), k.tier(), String.join(",", k.roles()), String.join(",", k.scopes()),
                k.createdAt(), k.expiresAt().map(Instant::toString).orElse("never"),
                k.revokedAt().map(Instant::toString).orElse("no"), k.useCount(),
                k.lastUsedAt().map(Instant::toString).orElse("never"));
    }

    @Command(name = "create", mixinStandardHelpOptions = true,
            description = "Create a key; prints it ONCE (only its hash is stored).")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Db db = new Db();

        @Option(names = "--name", required = true, description = "What the key is for, e.g. 'statements export'.")
        String name;

        @Option(names = "--owner", required = true, description = "Who holds it (becomes the subject upstream).")
        String owner;

        @Option(names = "--tenant", required = true)
        String tenant;

        @Option(names = "--roles", paramLabel = "A,B", description = "Comma-separated roles.")
        String roles;

        @Option(names = "--scopes", paramLabel = "A,B", description = "Comma-separated scopes.")
        String scopes;

        @Option(names = "--tier", defaultValue = "free", description = "Rate-limit tier (default: ${DEFAULT-VALUE}).")
        String tier;

        @Option(names = "--expires", paramLabel = "ISO-8601", description = "Expiry instant, e.g. 2027-01-01T00:00:00Z.")
        String expires;

        @Override
        public Integer call() throws Exception {
            Optional<Instant> expiry;
            try {
                expiry = Optional.ofNullable(expires).map(Instant::parse);
            } catch (DateTimeParseException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--expires: not an ISO-8601 instant: " + expires);
            }
            ApiKeyService.Created c = db.withKeys(keys ->
                    keys.create(name, owner, tenant, split(roles), split(scopes), tier, expiry));
            // Only the key on stdout (KEY=$(meshguard apikey create ...)); what it is and the advice on stderr.
            PrintWriter out = spec.commandLine().getOut();
            out.println(c.text());
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            describe(err, c.key());
            err.println("Store the key now: it cannot be shown again.");
            err.flush();
            return 0;
        }
    }

    @Command(name = "rotate", mixinStandardHelpOptions = true,
            description = "Issue a successor with the same rights; the old key keeps working for --grace, then expires.")
    static final class Rotate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Db db = new Db();

        @Parameters(paramLabel = "KEY_ID")
        String keyId;

        @Option(names = "--grace", defaultValue = "24h", description = "How long the old key still works (default: ${DEFAULT-VALUE}).")
        String grace;

        @Override
        public Integer call() throws Exception {
            Duration g = Durations.parse(grace).orElseThrow(() ->
                    new CommandLine.ParameterException(spec.commandLine(), "--grace: not a duration like 30m, 24h, 7d: " + grace));
            ApiKeyService.Created c = db.withKeys(keys -> keys.rotate(keyId, g));
            PrintWriter out = spec.commandLine().getOut();
            out.println(c.text());
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            describe(err, c.key());
            err.printf("Old key %s stops working at %s. Store the new key now: it cannot be shown again.%n", keyId,
                    Instant.now().plus(g));
            err.flush();
            return 0;
        }
    }

    @Command(name = "revoke", mixinStandardHelpOptions = true,
            description = "Revoke a key; servers stop accepting it within apikey.cache_ttl.")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Db db = new Db();

        @Parameters(paramLabel = "KEY_ID")
        String keyId;

        @Override
        public Integer call() throws Exception {
            if (!db.withKeys(keys -> keys.revoke(keyId))) {
                spec.commandLine().getErr().printf("meshguard apikey revoke: no active key %s%n", keyId);
                spec.commandLine().getErr().flush();
                return 1;
            }
            spec.commandLine().getOut().printf("revoked %s%n", keyId);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (never their secrets).")
    static final class ListKeys implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Db db = new Db();

        @Option(names = "--all", description = "Include revoked keys.")
        boolean all;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            for (ApiKey k : db.withKeys(keys -> keys.list(all))) {
                describe(out, k);
            }
            out.flush();
            return 0;
        }
    }
}
