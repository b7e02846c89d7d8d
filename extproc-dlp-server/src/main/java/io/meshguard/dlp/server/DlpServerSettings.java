package io.meshguard.dlp.server;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;

/**
 * What the DLP server needs to run.
 *
 * @param grpc the ext_proc listener (default port 9002)
 * @param policyFile the dlp.yaml to enforce (hot-reloaded)
 * @param hashKey master key for keyed hashes (HASH action and audit HMACs); empty = random per process
 * @param reloadInterval how often the policy file is checked for changes
 */
public record DlpServerSettings(GrpcServerSettings grpc, Path policyFile, byte[] hashKey, Duration reloadInterval) {
    public static final int DEFAULT_GRPC_PORT = 9002;
    public static final int DEFAULT_HTTP_PORT = 9102;

    /** {@code dlp.policy}: the rules file. */
    public static final ConfigKey<Path> POLICY = ConfigKey.path("dlp.policy", Path.of("policies/dlp.yaml"),
            "DLP rules (dlp.yaml); hot-reloaded, an invalid edit keeps the running rules.");
    /** {@code dlp.hash_key}: hex (64+ digits) or text of at least 32 bytes. */
    public static final ConfigKey<String> HASH_KEY = ConfigKey.string("dlp.hash_key", "",
            "Master key for keyed hashes of found values (action hash, audit HMACs), hex or >= 32 bytes of text; "
                    + "empty = random per process (tokens change on restart). Prefer MESHGUARD_DLP_HASH_KEY.");
    /** {@code dlp.policy_reload_interval}. */
    public static final ConfigKey<Duration> RELOAD_INTERVAL = ConfigKey.duration("dlp.policy_reload_interval",
            Duration.ofSeconds(2), "How often dlp.yaml is checked for changes.");
    /** {@code dlp.max_message_bytes}: one body chunk, or a whole BUFFERED body. */
    public static final ConfigKey<Long> MAX_MESSAGE_BYTES = ConfigKey.byteSize("dlp.max_message_bytes",
            16L * 1024 * 1024, 64 * 1024, 1L << 30,
            "Largest ext_proc message accepted (a body chunk, or a whole BUFFERED body); larger fails the stream.");

    /** Every key {@code meshguard dlp} reads (gRPC and HTTP groups included). */
    public static ConfigSchema schema() {
        return ConfigSchema.builder()
                .addAll(GrpcServerSettings.configGroup(DEFAULT_GRPC_PORT).keys())
                .addAll(HttpServerSettings.configGroup(DEFAULT_HTTP_PORT).keys())
                .add(POLICY, HASH_KEY, RELOAD_INTERVAL, MAX_MESSAGE_BYTES)
                .build();
    }

    /** Reads the settings from a loaded config. */
    public static DlpServerSettings from(Config config) {
        GrpcServerSettings g = GrpcServerSettings.configGroup(DEFAULT_GRPC_PORT).read(config);
        return new DlpServerSettings(withMaxMessage(g, config.get(MAX_MESSAGE_BYTES).intValue()), config.get(POLICY),
                parseKey(config.get(HASH_KEY)), config.get(RELOAD_INTERVAL));
    }

    /** Defaults on the standard port. */
    public static DlpServerSettings defaults(Path policyFile) {
        return new DlpServerSettings(withMaxMessage(GrpcServerSettings.defaults(DEFAULT_GRPC_PORT),
                MAX_MESSAGE_BYTES.defaultValue().intValue()), policyFile, new byte[0], RELOAD_INTERVAL.defaultValue());
    }

    public DlpServerSettings withGrpc(GrpcServerSettings g) {
        return new DlpServerSettings(g, policyFile, hashKey, reloadInterval);
    }

    public DlpServerSettings withHashKey(byte[] key) {
        return new DlpServerSettings(grpc, policyFile, key, reloadInterval);
    }

    /** A gRPC settings copy with another inbound message limit. */
    public static GrpcServerSettings withMaxMessage(GrpcServerSettings g, int maxBytes) {
        return new GrpcServerSettings(g.bind(), g.port(), maxBytes, g.maxConcurrentCalls(), g.keepAliveTime(),
                g.keepAliveTimeout(), g.permitKeepAliveTime(), g.maxConnectionAge(), g.maxConnectionAgeGrace(),
                g.drainTimeout(), g.shutdownTimeout(), g.reflection());
    }

    /**
     * A master key from configuration: 64 or more hex digits are decoded; other text of at least 32 bytes is used
     * as it is; empty means none.
     *
     * @throws IllegalArgumentException for a key too short to be safe
     */
    public static byte[] parseKey(String text) {
        if (text.isEmpty()) {
            return new byte[0];
        }
        if (text.length() >= 64 && text.length() % 2 == 0 && text.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            return HexFormat.of().parseHex(text);
        }
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        if (raw.length < 32) {
            throw new IllegalArgumentException("dlp.hash_key must be at least 32 bytes (or 64 hex digits)");
        }
        return raw;
    }
}
