package io.meshguard.cli.authz;

import com.zaxxer.hikari.HikariDataSource;
import io.meshguard.authz.policy.Durations;
import io.meshguard.catalog.apikey.ApiKeyAdmin;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.catalog.apikey.JdbcApiKeyStore;
import io.meshguard.catalogmodel.apikey.ApiKey;
import io.meshguard.catalogmodel.apikey.ApiKeySecret;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.cli.common.AdminTokenFileOption;
import io.meshguard.cli.common.DatabaseOptions;
import io.meshguard.cli.xds.AdminClient;
import io.meshguard.db.DataSourceFactory;
import io.meshguard.db.DbConfig;
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
@Command(
        name = "apikey",
        mixinStandardHelpOptions = true,
        description = "Create, rotate, revoke and list API keys.",
        subcommands = {
            ApiKeyCommand.Create.class,
            ApiKeyCommand.Rotate.class,
            ApiKeyCommand.Revoke.class,
            ApiKeyCommand.ListKeys.class
        })
public final class ApiKeyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(
                spec.commandLine(), "a subcommand is required (create, rotate, revoke, list)");
    }

    /**
     * Where a subcommand acts. By default through the admin API ({@code /apikeys}) as the caller its token names, so the
     * admin plane's permission check, tenants and audit apply: {@code --url URL --token-file FILE}, or the running
     * {@code meshguard up} on {@code --data-dir}. {@code --direct-db} is break-glass: it writes with the database's own
     * credentials ({@code --config FILE} with {@code db.*}, or {@code --db} / {@code MESHGUARD_DB_*}), past every check,
     * and says so.
     */
    static final class Target {
        @Option(
                names = "--url",
                description =
                        "Admin API holding /apikeys: extauthz's HTTP port, or `meshguard up`'s admin port (default: the running `meshguard up`'s).")
        String url;

        @CommandLine.Mixin
        AdminTokenFileOption tokenFile = new AdminTokenFileOption();

        @Option(
                names = "--direct-db",
                description =
                        "Break-glass: use the database's credentials instead of the admin API (no permission check, no admin audit event).")
        boolean directDb;

        @Option(
                names = "--config",
                paramLabel = "FILE",
                description = "With --direct-db: YAML file with db.* settings, as the servers read them.")
        Path config;

        @CommandLine.Mixin
        DatabaseOptions database = new DatabaseOptions();

        /** Runs {@code action} against the keys this target names. */
        <T> T withKeys(CommandSpec spec, KeysAction<T> action) throws Exception {
            if (!directDb) {
                if (config != null) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "--config is for --direct-db only");
                }
                return action.apply(new AdminApiKeys(adminClient()));
            }
            spec.commandLine()
                    .getErr()
                    .println("meshguard apikey: --direct-db writes with the database's credentials: "
                            + "no permission check and no admin audit event (break-glass)");
            spec.commandLine().getErr().flush();
            if (config == null) {
                javax.sql.DataSource ds = database.open("meshguard-apikey", System.getenv());
                return action.apply(
                        new DatabaseApiKeys(new ApiKeyService(new JdbcApiKeyStore(ds), Clock.systemUTC()), ds));
            }
            DbConfig db = new DbConfig("meshguard-apikey");
            ConfigSchema schema = ConfigSchema.builder().add(db).build();
            try (HikariDataSource ds = DataSourceFactory.create(
                    db.read(ConfigLoader.load(schema, Optional.of(config), System.getenv())))) {
                return action.apply(
                        new DatabaseApiKeys(new ApiKeyService(new JdbcApiKeyStore(ds), Clock.systemUTC()), ds));
            }
        }

        private AdminClient adminClient() throws java.io.IOException {
            return AdminClient.resolve(url, tokenFile.file(), database.dataDir());
        }
    }

    /** What the subcommands do with keys, wherever they live. */
    interface ApiKeys {
        /** {@code tier} empty: the key has none of its own (what a tenant-scoped caller may create). */
        ApiKeyService.Created create(ApiKeyAdmin.NewApiKey key) throws Exception;

        ApiKeyService.Created rotate(String keyId, Duration grace, String reason) throws Exception;

        boolean revoke(String keyId, String reason) throws Exception;

        List<ApiKey> list(boolean includeRevoked) throws Exception;
    }

    interface KeysAction<T> {
        T apply(ApiKeys keys) throws Exception;
    }

    /** Through the admin API's {@code /apikeys}: the server checks the caller and records the change. */
    record AdminApiKeys(AdminClient client) implements ApiKeys {
        private static final com.fasterxml.jackson.databind.ObjectMapper JSON =
                new com.fasterxml.jackson.databind.ObjectMapper();

        @Override
        public ApiKeyService.Created create(ApiKeyAdmin.NewApiKey key) throws Exception {
            com.fasterxml.jackson.databind.node.ObjectNode body = JSON.createObjectNode()
                    .put("name", key.name())
                    .put("owner", key.owner())
                    .put("tenant", key.tenant())
                    .put("reason", key.reason());
            // roles, scopes and tier are the bank's grant: sent only when named, so a tenant's admin can create keys
            key.tier().ifPresent(t -> body.put("tier", t));
            if (!key.roles().isEmpty()) {
                key.roles().forEach(body.putArray("roles")::add);
            }
            if (!key.scopes().isEmpty()) {
                key.scopes().forEach(body.putArray("scopes")::add);
            }
            key.expiresAt().ifPresent(e -> body.put("expires_at", e.toString()));
            com.fasterxml.jackson.databind.JsonNode created = call("POST", ApiKeyAdminApi.PREFIX, body);
            return new ApiKeyService.Created(created.path("key").asText(), ApiKeyAdminApi.parse(created));
        }

        /**
         * A key the catalogue binds to an application moves there too, as the developer portal moves it: the
         * catalogue's credential rotates to the successor with the same overlap, so the application's subscriptions
         * follow the new key. If the catalogue refuses, the successor is revoked again and the old key is untouched.
         */
        @Override
        public ApiKeyService.Created rotate(String keyId, Duration grace, String reason) throws Exception {
            Optional<String> application = boundApplication(keyId);
            String overlap =
                    application.map(app -> catalogueOverlap(keyId, app, grace)).orElse("");
            com.fasterxml.jackson.databind.JsonNode created = call(
                    "POST",
                    ApiKeyAdminApi.PREFIX + "/" + keyId + "/rotate",
                    JSON.createObjectNode()
                            .put("grace_seconds", grace.toSeconds())
                            .put("reason", reason));
            ApiKeyService.Created next =
                    new ApiKeyService.Created(created.path("key").asText(), ApiKeyAdminApi.parse(created));
            if (application.isPresent()) {
                java.net.http.HttpResponse<String> moved = client.send(
                        "POST",
                        "/v1/customer/credentials/apikey/" + keyId + "/rotate",
                        JSON.writeValueAsString(JSON.createObjectNode()
                                .put("successor", next.key().keyId())
                                .put("overlap", overlap)));
                if (moved.statusCode() / 100 != 2) {
                    revoke(
                            next.key().keyId(),
                            "the catalogue refused to move application " + application.get()
                                    + "'s credential to this key");
                    throw new IllegalStateException("the catalogue refused to move application " + application.get()
                            + "'s credential to the new key (" + moved.statusCode() + ": "
                            + moved.body().strip()
                            + "); the new key was revoked again and key " + keyId + " is unchanged");
                }
            }
            return next;
        }

        /**
         * The application whose catalogue credential {@code keyId} is. An admin API without a catalogue (extauthz's
         * own port answers 404 there) binds nothing; one that will not say (no {@code credential:read}) stops the
         * rotation rather than leave a bound application on the old key.
         */
        private Optional<String> boundApplication(String keyId) throws Exception {
            java.net.http.HttpResponse<String> r = client.send("GET", "/v1/customer/credentials", null);
            if (r.statusCode() == 404) {
                return Optional.empty();
            }
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException("cannot tell whether key " + keyId + " is bound to an application in"
                        + " the catalogue (" + r.statusCode() + " for credential:read): rotating it here could leave"
                        + " the application on the old key; rotate it in the developer portal, or with a token that"
                        + " holds credential:read and credential:rotate");
            }
            for (com.fasterxml.jackson.databind.JsonNode c : JSON.readTree(r.body())) {
                if (c.path("kind").asText().equals("apikey")
                        && c.path("id").asText().equals(keyId)
                        && c.path("state").asText().equals("active")) {
                    return Optional.of(c.path("application").asText());
                }
            }
            return Optional.empty();
        }

        /** The catalogue's overlaps are whole hours or days; a key's grace must say the same window. */
        private static String catalogueOverlap(String keyId, String application, Duration grace) {
            if (grace.isZero() || grace.toSeconds() % 3600 != 0) {
                throw new IllegalArgumentException("--grace: key " + keyId + " is bound to application " + application
                        + " in the catalogue, whose rotation overlap is whole hours: use e.g. 1h or 24h");
            }
            return grace.toHours() + "h";
        }

        @Override
        public boolean revoke(String keyId, String reason) throws Exception {
            return call(
                            "POST",
                            ApiKeyAdminApi.PREFIX + "/" + keyId + "/revoke",
                            JSON.createObjectNode().put("reason", reason))
                    .path("revoked")
                    .asBoolean();
        }

        @Override
        public List<ApiKey> list(boolean includeRevoked) throws Exception {
            List<ApiKey> out = new ArrayList<>();
            call("GET", ApiKeyAdminApi.PREFIX + (includeRevoked ? "?revoked=true" : ""), null)
                    .forEach(n -> out.add(ApiKeyAdminApi.parse(n)));
            return out;
        }

        private com.fasterxml.jackson.databind.JsonNode call(
                String method, String path, com.fasterxml.jackson.databind.JsonNode body) throws Exception {
            java.net.http.HttpResponse<String> r =
                    client.send(method, path, body == null ? null : JSON.writeValueAsString(body));
            com.fasterxml.jackson.databind.JsonNode answer =
                    r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
            if (r.statusCode() / 100 != 2) {
                throw new IllegalStateException("the admin API answered " + r.statusCode() + ": "
                        + answer.path("error").asText(r.body()));
            }
            return answer;
        }
    }

    /** Break-glass: straight into the database. */
    record DatabaseApiKeys(ApiKeyService service, javax.sql.DataSource db) implements ApiKeys {
        @Override
        public ApiKeyService.Created create(ApiKeyAdmin.NewApiKey key) throws Exception {
            return service.create(
                    key.name(),
                    key.owner(),
                    key.tenant(),
                    key.roles(),
                    key.scopes(),
                    key.tier().orElse(ApiKey.NO_TIER),
                    key.expiresAt());
        }

        /** Break-glass moves the key store only: a key the catalogue binds is refused, never split from it. */
        @Override
        public ApiKeyService.Created rotate(String keyId, Duration grace, String reason) throws Exception {
            try (java.sql.Connection c = db.getConnection();
                    java.sql.PreparedStatement ps = c.prepareStatement(
                            "select application_id from credential where kind = 'apikey' and id = ? and state = 'active'")) {
                ps.setString(1, keyId);
                try (java.sql.ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        throw new IllegalStateException("key " + keyId + " is bound to application " + rs.getString(1)
                                + " in the catalogue: rotate it through the admin API (without --direct-db), which"
                                + " moves the application's credential with it, or in the developer portal");
                    }
                }
            }
            return service.rotate(keyId, grace);
        }

        @Override
        public boolean revoke(String keyId, String reason) throws Exception {
            return service.revoke(keyId);
        }

        @Override
        public List<ApiKey> list(boolean includeRevoked) throws Exception {
            return service.list(includeRevoked);
        }
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

    /**
     * The key id {@code given} names. Operators paste the whole key as often as its id; the whole key carries the
     * secret, which must not be echoed to a terminal, a shell history's neighbour or a ticket: it is recognised by its
     * format ({@code mgk_<id>_<secret>}) and only its id is used and printed from then on.
     */
    static String keyIdOf(CommandSpec spec, String given) {
        Optional<ApiKeySecret.Parsed> whole = ApiKeySecret.parse(given.strip());
        if (whole.isPresent()) {
            spec.commandLine()
                    .getErr()
                    .printf(
                            "note: that was a whole key (secret included), not a key id: using its id"
                                    + " %s; treat the secret as exposed wherever it was pasted%n",
                            whole.get().keyId());
            spec.commandLine().getErr().flush();
            return whole.get().keyId();
        }
        if (given.startsWith("mgk_") || given.length() > 64) {
            throw new CommandLine.ParameterException(
                    spec.commandLine(),
                    "not a key id (16 hex characters) nor a whole key; nothing done (the value is not repeated here)");
        }
        return given;
    }

    /**
     * One key per line; a key issued before its id was checked against the audit's masking, whose id the logs show
     * masked, ends with {@code id_in_logs=masked (rotate it for an id the logs show)}.
     */
    static void describe(PrintWriter out, ApiKey k) {
        out.printf(
                "%s  tenant=%s owner=%s name=%s tier=%s roles=%s scopes=%s created=%s expires=%s revoked=%s uses=%d last_used=%s%s%n",
                k.keyId(),
                k.tenant(),
                k.owner(),
                k.name(),
                k.tier(),
                String.join(",", k.roles()),
                String.join(",", k.scopes()),
                k.createdAt(),
                k.expiresAt().map(Instant::toString).orElse("never"),
                k.revokedAt().map(Instant::toString).orElse("no"),
                k.useCount(),
                k.lastUsedAt().map(Instant::toString).orElse("never"),
                ApiKeySecret.readableInLogs(k.keyId()) ? "" : " id_in_logs=masked (rotate it for an id the logs show)");
    }

    @Command(
            name = "create",
            mixinStandardHelpOptions = true,
            description = "Create a key; prints it ONCE (only its hash is stored).")
    static final class Create implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Target target = new Target();

        @Option(names = "--name", required = true, description = "What the key is for, e.g. 'statements export'.")
        String name;

        @Option(names = "--owner", required = true, description = "Who holds it (becomes the subject upstream).")
        String owner;

        @Option(names = "--tenant", required = true)
        String tenant;

        @Option(
                names = "--roles",
                paramLabel = "A,B",
                description = "Comma-separated roles (the bank's grant: a " + "system-scope caller only).")
        String roles;

        @Option(
                names = "--scopes",
                paramLabel = "A,B",
                description = "Comma-separated scopes (the bank's grant: a " + "system-scope caller only).")
        String scopes;

        @Option(
                names = "--tier",
                description = "Rate-limit tier (the bank's grant: a system-scope caller only; "
                        + "without it the policy's tenant_tiers, else default_tier, apply).")
        String tier;

        @Option(
                names = "--expires",
                paramLabel = "ISO-8601",
                description = "Expiry instant, e.g. 2027-01-01T00:00:00Z.")
        String expires;

        @Option(names = "--reason", defaultValue = "", description = "Why (goes to the audit trail).")
        String reason;

        @Override
        public Integer call() throws Exception {
            Optional<Instant> expiry;
            try {
                expiry = Optional.ofNullable(expires).map(Instant::parse);
            } catch (DateTimeParseException e) {
                throw new CommandLine.ParameterException(
                        spec.commandLine(), "--expires: not an ISO-8601 instant: " + expires);
            }
            ApiKeyService.Created c = target.withKeys(
                    spec,
                    keys -> keys.create(new ApiKeyAdmin.NewApiKey(
                            name,
                            owner,
                            tenant,
                            split(roles),
                            split(scopes),
                            Optional.ofNullable(tier),
                            expiry,
                            reason)));
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

    @Command(
            name = "rotate",
            mixinStandardHelpOptions = true,
            description =
                    "Issue a successor with the same rights; the old key keeps working for --grace, then expires.")
    static final class Rotate implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Target target = new Target();

        @Parameters(paramLabel = "KEY_ID")
        String keyId;

        @Option(
                names = "--grace",
                defaultValue = "24h",
                description = "How long the old key still works, at most 30d (default: ${DEFAULT-VALUE}).")
        String grace;

        @Option(names = "--reason", defaultValue = "", description = "Why (goes to the audit trail).")
        String reason;

        @Override
        public Integer call() throws Exception {
            Duration g = Durations.parse(grace)
                    .orElseThrow(() -> new CommandLine.ParameterException(
                            spec.commandLine(), "--grace: not a duration like 30m, 24h, 7d: " + grace));
            String id = keyIdOf(spec, keyId);
            ApiKeyService.Created c = target.withKeys(spec, keys -> keys.rotate(id, g, reason));
            PrintWriter out = spec.commandLine().getOut();
            out.println(c.text());
            out.flush();
            PrintWriter err = spec.commandLine().getErr();
            describe(err, c.key());
            err.printf(
                    "Old key %s stops working at %s. Store the new key now: it cannot be shown again.%n",
                    id, Instant.now().plus(g));
            err.flush();
            return 0;
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "Revoke a key; servers stop accepting it within apikey.cache_ttl.")
    static final class Revoke implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Target target = new Target();

        @Parameters(
                paramLabel = "KEY_ID",
                description = "The key's id; a whole key is recognised and only its id used.")
        String keyId;

        @Option(names = "--reason", defaultValue = "", description = "Why (goes to the audit trail).")
        String reason;

        @Override
        public Integer call() throws Exception {
            String id = keyIdOf(spec, keyId);
            if (!target.withKeys(spec, keys -> keys.revoke(id, reason))) {
                spec.commandLine().getErr().printf("meshguard apikey revoke: no active key %s%n", id);
                spec.commandLine().getErr().flush();
                return 1;
            }
            spec.commandLine().getOut().printf("revoked %s%n", id);
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List keys (never their secrets).")
    static final class ListKeys implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @CommandLine.Mixin
        Target target = new Target();

        @Option(names = "--all", description = "Include revoked keys.")
        boolean all;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            for (ApiKey k : target.withKeys(spec, keys -> keys.list(all))) {
                describe(out, k);
            }
            out.flush();
            return 0;
        }
    }
}
