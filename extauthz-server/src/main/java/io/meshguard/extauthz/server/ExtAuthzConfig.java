package io.meshguard.extauthz.server;

import io.meshguard.extauthz.policy.Durations;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * Settings of the ext_authz server. Read from a YAML file ({@code extauthz:} section, nested or dotted keys) with
 * environment overrides: key {@code extauthz.grpc_port} ⇐ {@code MESHGUARD_EXTAUTHZ_GRPC_PORT}.
 */
public record ExtAuthzConfig(
        String bind,
        int grpcPort,
        int httpPort,
        Path policyFile,
        Duration policyReloadInterval,
        Duration jwksHttpTimeout,
        long tokenCacheMaxEntries,
        Duration tokenCacheMaxTtl,
        Duration apiKeyCacheTtl,
        Duration apiKeyUsageFlushInterval,
        long rateLimitMaxBuckets,
        Duration drainTimeout,
        Optional<String> dbUrl,
        Optional<String> dbUser,
        Optional<String> dbPassword) {

    /** Every key with its default and meaning (printed by {@code meshguard extauthz --help-config}). */
    public static final List<String[]> KEYS = List.of(
            new String[] {"extauthz.bind", "0.0.0.0", "address both listeners bind to"},
            new String[] {"extauthz.grpc_port", "9001", "gRPC port of envoy.service.auth.v3.Authorization (0 = any free port)"},
            new String[] {"extauthz.http_port", "9101", "HTTP port of /metrics, /healthz, /readyz (0 = any free port)"},
            new String[] {"extauthz.policy_file", "policies/authz.yaml", "the authz policy; watched and hot-reloaded"},
            new String[] {"extauthz.policy_reload_interval", "2s", "how often the policy file is checked for changes"},
            new String[] {"extauthz.jwks_http_timeout", "2s", "connect and read timeout of JWKS and OIDC discovery fetches"},
            new String[] {"extauthz.token_cache_max_entries", "100000", "verified tokens kept (by SHA-256); 0 disables the cache"},
            new String[] {"extauthz.token_cache_max_ttl", "10m", "longest time a verified token is trusted without re-verifying (never past exp)"},
            new String[] {"extauthz.apikey_cache_ttl", "30s", "how long API key records are cached; a revocation takes effect within it"},
            new String[] {"extauthz.apikey_usage_flush_interval", "10s", "how often API key use counts are written to PostgreSQL"},
            new String[] {"extauthz.ratelimit_max_buckets", "100000", "rate-limit buckets kept in memory (idle ones are dropped)"},
            new String[] {"extauthz.drain_timeout", "10s", "time in-flight Checks get to finish on shutdown"},
            new String[] {"extauthz.db_url", "(none)", "JDBC URL of PostgreSQL for API keys; without it API-key routes deny with 503"},
            new String[] {"extauthz.db_user", "(none)", "PostgreSQL user"},
            new String[] {"extauthz.db_password", "(none)", "PostgreSQL password"});

    public static ExtAuthzConfig defaults() {
        return load(Optional.empty(), Map.of());
    }

    /** Reads the file (when given) then applies environment overrides; a bad value fails with the key named. */
    public static ExtAuthzConfig load(Optional<Path> file, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String[] k : KEYS) {
            if (!k[1].equals("(none)")) {
                values.put(k[0], k[1]);
            }
        }
        if (file.isPresent()) {
            try (Reader r = Files.newBufferedReader(file.get(), StandardCharsets.UTF_8)) {
                Object doc = new Yaml(new LoaderOptions()).load(r);
                if (doc != null) {
                    flatten("", doc, values);
                }
            } catch (IOException e) {
                throw new IllegalArgumentException("config " + file.get() + ": cannot read: " + e.getMessage(), e);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("config " + file.get() + ": " + e.getMessage(), e);
            }
        }
        for (String[] k : KEYS) {
            String envName = "MESHGUARD_" + k[0].toUpperCase(Locale.ROOT).replace('.', '_');
            if (env.containsKey(envName)) {
                values.put(k[0], env.get(envName));
            }
        }
        for (String key : values.keySet()) {
            if (key.startsWith("extauthz.") && KEYS.stream().noneMatch(k -> k[0].equals(key))) {
                throw new IllegalArgumentException("config: unknown key '" + key + "'");
            }
        }
        return new ExtAuthzConfig(
                values.get("extauthz.bind"),
                port(values, "extauthz.grpc_port"),
                port(values, "extauthz.http_port"),
                Path.of(values.get("extauthz.policy_file")),
                duration(values, "extauthz.policy_reload_interval"),
                duration(values, "extauthz.jwks_http_timeout"),
                number(values, "extauthz.token_cache_max_entries"),
                duration(values, "extauthz.token_cache_max_ttl"),
                duration(values, "extauthz.apikey_cache_ttl"),
                duration(values, "extauthz.apikey_usage_flush_interval"),
                number(values, "extauthz.ratelimit_max_buckets"),
                duration(values, "extauthz.drain_timeout"),
                Optional.ofNullable(values.get("extauthz.db_url")),
                Optional.ofNullable(values.get("extauthz.db_user")),
                Optional.ofNullable(values.get("extauthz.db_password")));
    }

    public ExtAuthzConfig withPorts(int grpc, int http) {
        return new ExtAuthzConfig(bind, grpc, http, policyFile, policyReloadInterval, jwksHttpTimeout, tokenCacheMaxEntries,
                tokenCacheMaxTtl, apiKeyCacheTtl, apiKeyUsageFlushInterval, rateLimitMaxBuckets, drainTimeout, dbUrl, dbUser,
                dbPassword);
    }

    public ExtAuthzConfig withPolicyFile(Path file, Duration reloadInterval) {
        return new ExtAuthzConfig(bind, grpcPort, httpPort, file, reloadInterval, jwksHttpTimeout, tokenCacheMaxEntries,
                tokenCacheMaxTtl, apiKeyCacheTtl, apiKeyUsageFlushInterval, rateLimitMaxBuckets, drainTimeout, dbUrl, dbUser,
                dbPassword);
    }

    public ExtAuthzConfig withBind(String address) {
        return new ExtAuthzConfig(address, grpcPort, httpPort, policyFile, policyReloadInterval, jwksHttpTimeout,
                tokenCacheMaxEntries, tokenCacheMaxTtl, apiKeyCacheTtl, apiKeyUsageFlushInterval, rateLimitMaxBuckets,
                drainTimeout, dbUrl, dbUser, dbPassword);
    }

    private static void flatten(String prefix, Object node, Map<String, String> out) {
        if (node instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                flatten(prefix.isEmpty() ? String.valueOf(e.getKey()) : prefix + "." + e.getKey(), e.getValue(), out);
            }
        } else if (node != null) {
            out.put(prefix, String.valueOf(node));
        }
    }

    private static int port(Map<String, String> v, String key) {
        long n = number0(v, key);
        if (n > 65535) {
            throw new IllegalArgumentException("config " + key + ": " + n + " is not a port");
        }
        return (int) n;
    }

    private static long number(Map<String, String> v, String key) {
        return number0(v, key);
    }

    private static long number0(Map<String, String> v, String key) {
        try {
            long n = Long.parseLong(v.get(key).trim());
            if (n < 0) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("config " + key + ": expected a whole number >= 0, got '" + v.get(key) + "'");
        }
    }

    private static Duration duration(Map<String, String> v, String key) {
        return Durations.parse(v.get(key)).orElseThrow(() -> new IllegalArgumentException(
                "config " + key + ": expected a duration like 500ms, 30s, 5m, got '" + v.get(key) + "'"));
    }
}
