package io.meshguard.dlpserver;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigKey;
import io.meshguard.runtime.config.ConfigSchema;
import io.meshguard.runtime.config.ConfigSource;
import io.meshguard.runtime.grpc.GrpcServerSettings;
import io.meshguard.runtime.http.HttpServerSettings;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

/**
 * What the DLP server needs to run.
 *
 * @param grpc the ext_proc listener (default port 9002)
 * @param policyFile the dlp.yaml to enforce (hot-reloaded)
 * @param hashKey master key for keyed hashes (HASH action and audit HMACs), from dlp.hash_key_file or dlp.hash_key;
 *     empty = random per process
 * @param reloadInterval how often the policy file is checked for changes
 * @param deadlines how long the server may take per message phase before it fails the stream closed
 */
public record DlpServerSettings(
        GrpcServerSettings grpc, Path policyFile, byte[] hashKey, Duration reloadInterval, PhaseDeadlines deadlines) {
    public static final int DEFAULT_GRPC_PORT = 9002;
    public static final int DEFAULT_HTTP_PORT = 9102;

    /** {@code dlp.policy}: the rules file. */
    public static final ConfigKey<Path> POLICY = ConfigKey.path(
            "dlp.policy",
            Path.of("policies/dlp.yaml"),
            "DLP rules (dlp.yaml); hot-reloaded, an invalid edit keeps the running rules.");
    /** {@code dlp.hash_key}: hex (64+ digits) or text of at least 32 bytes. */
    public static final ConfigKey<String> HASH_KEY = ConfigKey.string(
            "dlp.hash_key",
            "",
            "Master key for keyed hashes of found values (action hash, audit HMACs), hex or >= 32 bytes of text; "
                    + "empty = random per process (tokens change on restart). Prefer dlp.hash_key_file.");
    /** {@code dlp.hash_key_file}: the key from a file (a mounted Secret), read once at start. */
    public static final ConfigKey<Optional<Path>> HASH_KEY_FILE = ConfigKey.optionalPath(
            "dlp.hash_key_file",
            "File holding the master key (a mounted Secret; same format as dlp.hash_key, surrounding whitespace "
                    + "ignored); read once at start, so rotating it means a restart; takes precedence over "
                    + "dlp.hash_key. A missing, empty or unreadable file stops the server.");
    /** {@code dlp.approval_key_file}: the HMAC key of held tool calls' argument digests. */
    public static final ConfigKey<Optional<Path>> APPROVAL_KEY_FILE = ConfigKey.optionalPath(
            "dlp.approval_key_file",
            "File holding the HMAC key (hex or >= 32 bytes of text) that binds a tool call held for approval to its"
                    + " arguments (dlp.yaml mcp_approval); with db.url set, held calls are recorded there. Kept outside"
                    + " the database; replicas share it. Without it a held tool is answered 503 and never runs.");
    /** {@code dlp.policy_reload_interval}. */
    public static final ConfigKey<Duration> RELOAD_INTERVAL = ConfigKey.duration(
            "dlp.policy_reload_interval", Duration.ofSeconds(2), "How often dlp.yaml is checked for changes.");
    /** {@code dlp.require_approval}: four eyes on dlp.yaml, as {@code policy.require_approval} on extauthz's files. */
    public static final ConfigKey<Boolean> REQUIRE_APPROVAL = ConfigKey.bool(
            "dlp.require_approval",
            false,
            "Enforce only a dlp.yaml whose digest the newest approval of the dlp policy names (meshguard policy "
                    + "requests open --policy dlp; read from PostgreSQL): another file keeps the policy in force, and "
                    + "readiness, metrics, logs and the admin trail say so; at first install the server stays not "
                    + "ready until one is approved. Needs db.url.");
    /** {@code dlp.deadline.headers}. */
    public static final ConfigKey<Duration> DEADLINE_HEADERS = ConfigKey.duration(
            "dlp.deadline.headers",
            PhaseDeadlines.DEFAULTS.headers(),
            "Longest the server may take to answer a headers message; over it the "
                    + "request gets 504 (Envoy times nothing out in FULL_DUPLEX_STREAMED, see docs/operate/respond-to-an-alert.md).");
    /** {@code dlp.deadline.body_chunk}. */
    public static final ConfigKey<Duration> DEADLINE_BODY_CHUNK = ConfigKey.duration(
            "dlp.deadline.body_chunk",
            PhaseDeadlines.DEFAULTS.bodyChunk(),
            "Longest the server may take over one body message; over it the "
                    + "request gets 504, or the stream is reset once the response has started.");
    /** {@code dlp.deadline.trailers}. */
    public static final ConfigKey<Duration> DEADLINE_TRAILERS = ConfigKey.duration(
            "dlp.deadline.trailers",
            PhaseDeadlines.DEFAULTS.trailers(),
            "Longest the server may take to answer a trailers message (the "
                    + "held-back tail of the body is decided there).");
    /** {@code dlp.deadline.stream}. */
    public static final ConfigKey<Duration> DEADLINE_STREAM = ConfigKey.duration(
            "dlp.deadline.stream",
            PhaseDeadlines.DEFAULTS.stream(),
            "Longest a whole stream may stay open, event streams and WebSocket "
                    + "upgrades excepted; 0 = no bound (route timeouts bound slow peers).");

    /** Settings with the default deadlines. */
    public DlpServerSettings(GrpcServerSettings grpc, Path policyFile, byte[] hashKey, Duration reloadInterval) {
        this(grpc, policyFile, hashKey, reloadInterval, PhaseDeadlines.DEFAULTS);
    }

    /**
     * Default of {@code grpc.max_inbound_message_bytes} for this server (one body chunk, or a whole BUFFERED body);
     * the runtime's general default of 4 MiB is below Envoy's usual buffer limits.
     */
    public static final int DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

    /** Every key {@code meshguard dlp} reads (gRPC and HTTP groups included). */
    public static ConfigSchema schema() {
        return ConfigSchema.builder()
                .addAll(GrpcServerSettings.configGroup(DEFAULT_GRPC_PORT).keys())
                .addAll(HttpServerSettings.configGroup(DEFAULT_HTTP_PORT).keys())
                .add(POLICY, HASH_KEY_FILE, HASH_KEY, RELOAD_INTERVAL, REQUIRE_APPROVAL, APPROVAL_KEY_FILE)
                .add(DEADLINE_HEADERS, DEADLINE_BODY_CHUNK, DEADLINE_TRAILERS, DEADLINE_STREAM)
                .build();
    }

    /** Reads the settings from a loaded config. */
    public static DlpServerSettings from(Config config) {
        GrpcServerSettings g = GrpcServerSettings.configGroup(DEFAULT_GRPC_PORT).read(config);
        if (config.source(GrpcServerSettings.MAX_INBOUND_MESSAGE_BYTES) instanceof ConfigSource.Default) {
            g = withMaxMessage(g, DEFAULT_MAX_MESSAGE_BYTES);
        }
        byte[] key = config.get(HASH_KEY_FILE)
                .map(DlpServerSettings::readKeyFile)
                .orElseGet(() -> parseKey(HASH_KEY.name(), config.get(HASH_KEY)));
        PhaseDeadlines deadlines = new PhaseDeadlines(
                config.get(DEADLINE_HEADERS),
                config.get(DEADLINE_BODY_CHUNK),
                config.get(DEADLINE_TRAILERS),
                config.get(DEADLINE_STREAM));
        return new DlpServerSettings(g, config.get(POLICY), key, config.get(RELOAD_INTERVAL), deadlines);
    }

    /**
     * Reads the master key from {@code dlp.hash_key_file}. Only read at start: replicas must share one key, and a
     * key that changed under a running process would split its hashes in two, so rotation is a rolling restart.
     *
     * @throws IllegalArgumentException when the file is missing, unreadable, empty or holds a key too short
     */
    public static byte[] readKeyFile(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("dlp.hash_key_file " + file + " does not exist");
        } catch (MalformedInputException e) {
            throw new IllegalArgumentException(
                    "dlp.hash_key_file " + file + " is not UTF-8 text (write the key " + "as 64+ hex digits)");
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read dlp.hash_key_file " + file + ": " + e.getMessage(), e);
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException("dlp.hash_key_file " + file + " is empty");
        }
        return parseKey("dlp.hash_key_file " + file, text);
    }

    /**
     * The master key for commands that run the engine outside a server config ({@code meshguard up},
     * {@code meshguard dlp scan}): {@code MESHGUARD_DLP_HASH_KEY_FILE}, else {@code MESHGUARD_DLP_HASH_KEY}, else
     * none (empty).
     *
     * @throws IllegalArgumentException as {@link #readKeyFile} and {@link #parseKey} do
     */
    public static byte[] keyFromEnvironment(java.util.Map<String, String> env) {
        String file = env.getOrDefault(HASH_KEY_FILE.envVar(), "");
        if (!file.isBlank()) {
            return readKeyFile(Path.of(file.strip()));
        }
        return parseKey(HASH_KEY.envVar(), env.getOrDefault(HASH_KEY.envVar(), ""));
    }

    /** Defaults on the standard port. */
    public static DlpServerSettings defaults(Path policyFile) {
        return new DlpServerSettings(
                withMaxMessage(GrpcServerSettings.defaults(DEFAULT_GRPC_PORT), DEFAULT_MAX_MESSAGE_BYTES),
                policyFile,
                new byte[0],
                RELOAD_INTERVAL.defaultValue());
    }

    public DlpServerSettings withGrpc(GrpcServerSettings g) {
        return new DlpServerSettings(g, policyFile, hashKey, reloadInterval, deadlines);
    }

    public DlpServerSettings withHashKey(byte[] key) {
        return new DlpServerSettings(grpc, policyFile, key, reloadInterval, deadlines);
    }

    public DlpServerSettings withPolicyFile(Path file) {
        return new DlpServerSettings(grpc, file, hashKey, reloadInterval, deadlines);
    }

    public DlpServerSettings withDeadlines(PhaseDeadlines d) {
        return new DlpServerSettings(grpc, policyFile, hashKey, reloadInterval, d);
    }

    /** A gRPC settings copy with another inbound message limit. */
    public static GrpcServerSettings withMaxMessage(GrpcServerSettings g, int maxBytes) {
        return new GrpcServerSettings(
                g.bind(),
                g.port(),
                maxBytes,
                g.maxConcurrentCalls(),
                g.keepAliveTime(),
                g.keepAliveTimeout(),
                g.permitKeepAliveTime(),
                g.maxConnectionAge(),
                g.maxConnectionAgeGrace(),
                g.drainTimeout(),
                g.shutdownTimeout(),
                g.reflection(),
                g.flowControlWindowBytes());
    }

    /**
     * A master key from configuration: 64 or more hex digits are decoded; other text of at least 32 bytes is used
     * as it is; empty means none.
     *
     * @throws IllegalArgumentException for a key too short to be safe
     */
    public static byte[] parseKey(String text) {
        return parseKey("dlp.hash_key", text);
    }

    private static byte[] parseKey(String origin, String text) {
        if (text.isEmpty()) {
            return new byte[0];
        }
        if (text.length() >= 64 && text.length() % 2 == 0 && text.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
            return HexFormat.of().parseHex(text);
        }
        byte[] raw = text.getBytes(StandardCharsets.UTF_8);
        if (raw.length < 32) {
            throw new IllegalArgumentException(origin + ": the key must be at least 32 bytes (or 64 hex digits)");
        }
        return raw;
    }
}
