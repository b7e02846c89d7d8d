package io.meshguard.audit.component;

import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.BatchWriteMethod;
import io.meshguard.audit.DecisionLogSettings;
import io.meshguard.audit.FindingHasher;
import io.meshguard.audit.PathPolicy;
import io.meshguard.audit.als.AccessLogHeaders;
import io.meshguard.audit.als.AccessLogSenders;
import io.meshguard.audit.spool.FsyncPolicy;
import io.meshguard.audit.spool.SpoolFullPolicy;
import io.meshguard.audit.spool.SpoolSettings;
import io.meshguard.contract.RouteContract.AccessLogTags;
import io.meshguard.contract.peer.SidecarPeer;
import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The {@code audit.*} configuration keys and how they become {@link AuditSettings}. */
public final class AuditConfig {
    private AuditConfig() {}

    /**
     * Environment variable holding the DLP finding HMAC key itself. Read directly, never through the config
     * loader, so the key never shows in a configuration dump.
     */
    public static final String HMAC_KEY_ENV = "MESHGUARD_AUDIT_DLP_HMAC_KEY";

    public static final ConfigKey<Integer> QUEUE_CAPACITY = ConfigKey.integer(
            "audit.queue_capacity",
            65_536,
            1000,
            10_000_000,
            "Audit events held in memory before record() refuses (and counts) them.");
    public static final ConfigKey<Integer> BATCH_SIZE =
            ConfigKey.integer("audit.batch_size", 1000, 1, 100_000, "Audit events per database batch.");
    public static final ConfigKey<Duration> FLUSH_INTERVAL = ConfigKey.duration(
            "audit.flush_interval", Duration.ofMillis(200), "A partial audit batch is written after this long.");
    public static final ConfigKey<Duration> SLOW_DB_THRESHOLD = ConfigKey.duration(
            "audit.slow_db_threshold",
            Duration.ofMillis(500),
            "A batch goes to the spool when PostgreSQL has left the writer's call unanswered this long (a writer only"
                    + " short of CPU keeps batches in memory, up to half of audit.queue_capacity).");
    public static final ConfigKey<Duration> WRITE_TIMEOUT = ConfigKey.duration(
            "audit.write_timeout",
            Duration.ofSeconds(10),
            "Network timeout of one audit batch; a hung database counts as down after it.");
    public static final ConfigKey<Duration> RETRY_BACKOFF_MAX = ConfigKey.duration(
            "audit.retry_backoff_max",
            Duration.ofSeconds(5),
            "Longest pause between reconnection attempts while PostgreSQL is down.");
    public static final ConfigKey<String> WRITE_METHOD = ConfigKey.oneOf(
            "audit.write_method",
            "copy",
            List.of("copy", "insert"),
            "How batches reach PostgreSQL: COPY (faster) or multi-row INSERT.");
    public static final ConfigKey<Boolean> KEEP_QUERY_STRING = ConfigKey.bool(
            "audit.keep_query_string",
            false,
            "Keep query strings in audited paths (never for streams). Off: they often carry identifiers.");
    // A relative default under the git-ignored data directory: a server started from a working tree must not leave
    // a spool in the repository. Installations set it (the manifests use /var/spool/meshguard on a volume).
    public static final ConfigKey<Path> SPOOL_DIR = ConfigKey.path(
            "audit.spool.dir",
            Path.of(".meshguard", "spool"),
            "Directory of the on-disk audit spool (one writer per directory; keep it on a persistent volume). Unset, each"
                    + " server uses its own subdirectory of the default, e.g. .meshguard/spool/meshguard-extauthz.");
    public static final ConfigKey<Long> SPOOL_MAX_BYTES = ConfigKey.byteSize(
            "audit.spool.max_bytes",
            SpoolSettings.DEFAULT_MAX_BYTES,
            64 * 1024,
            Long.MAX_VALUE,
            "Disk cap of the audit spool.");
    public static final ConfigKey<Long> SPOOL_SEGMENT_BYTES = ConfigKey.byteSize(
            "audit.spool.segment_bytes",
            SpoolSettings.DEFAULT_SEGMENT_BYTES,
            4096,
            1024L * 1024 * 1024,
            "Size at which a spool segment is sealed.");
    public static final ConfigKey<String> SPOOL_FSYNC = ConfigKey.oneOf(
            "audit.spool.fsync",
            "every_batch",
            List.of("every_batch", "interval", "none"),
            "When spooled events are forced to disk: after every batch, once per interval, or left to the OS.");
    public static final ConfigKey<Duration> SPOOL_FSYNC_INTERVAL = ConfigKey.duration(
            "audit.spool.fsync_interval", Duration.ofSeconds(1), "Interval of audit.spool.fsync=interval.");
    public static final ConfigKey<String> SPOOL_WHEN_FULL = ConfigKey.oneOf(
            "audit.spool.when_full",
            "reject",
            List.of("reject", "drop_oldest"),
            "At the spool cap: reject new events, or delete the oldest spooled ones. Both are counted and logged.");
    public static final ConfigKey<Integer> RETENTION_MONTHS = ConfigKey.integer(
            "audit.retention_months",
            13,
            1,
            1200,
            "Full months of audit events kept before the current month; older partitions are dropped "
                    + "unless under legal hold.");
    public static final ConfigKey<Integer> TRAIL_RETENTION_MONTHS = ConfigKey.integer(
            "audit.admin_trail.retention_months",
            13,
            io.meshguard.audit.trail.AdminTrailMaintenance.MIN_RETENTION_MONTHS,
            1200,
            "Full months of the admin trail kept before the current month (at least 13); older months are "
                    + "dropped whole after an anchor is recorded, so `meshguard audit verify` still walks the chain.");
    public static final ConfigKey<Integer> PARTITIONS_AHEAD = ConfigKey.integer(
            "audit.partitions_ahead", 3, 1, 120, "Monthly audit partitions created ahead of the current month.");
    public static final ConfigKey<Duration> MAINTENANCE_INTERVAL = ConfigKey.duration(
            "audit.maintenance_interval",
            Duration.ofHours(24),
            "How often partition maintenance runs (it also runs at start).");
    public static final ConfigKey<Duration> COVERAGE_INTERVAL = ConfigKey.duration(
            "audit.coverage.interval",
            Duration.ofSeconds(15),
            "How often the DLP server joins the access log with the Checks and DLP sessions (proof of coverage,"
                    + " meshguard_coverage_requests_total); 0s: never. Needs db.url.");
    public static final ConfigKey<Duration> COVERAGE_LAG = ConfigKey.duration(
            "audit.coverage.lag",
            Duration.ofSeconds(10),
            "The coverage join stops this long before now, so the access-log, Check and DLP rows of a request have"
                    + " mostly reached PostgreSQL through their writers.");
    public static final ConfigKey<Duration> COVERAGE_SETTLE = ConfigKey.duration(
            "audit.coverage.settle",
            Duration.ofSeconds(30),
            "A request the coverage join finds without its Check or DLP session is counted uncovered only once it"
                    + " has stayed so this long: a row still in a writer's retry is no alarm. Detection takes lag +"
                    + " interval + settle.");
    public static final ConfigKey<Optional<Path>> DLP_HMAC_KEY_FILE = ConfigKey.optionalPath(
            "audit.dlp_hmac_key_file",
            "File holding the key for HMACs of DLP findings (else env " + HMAC_KEY_ENV + ").");
    public static final ConfigKey<String> DECISION_LOG = ConfigKey.oneOf(
            "audit.decision_log",
            "auto",
            List.of("auto", "stdout", "off"),
            "Decision log of extauthz and dlp: every decision and finding as one JSON object per line on standard"
                    + " output (stdout), or none (off); auto: stdout when db.url is not set, off when it is.");
    public static final ConfigKey<Integer> DECISION_LOG_QUEUE_CAPACITY = ConfigKey.integer(
            "audit.decision_log_queue_capacity",
            65_536,
            1000,
            10_000_000,
            "Decision log events held in memory while stdout is not read; beyond it they are dropped and counted.");
    public static final ConfigKey<Duration> DECISION_LOG_FLUSH_INTERVAL = ConfigKey.duration(
            "audit.decision_log_flush_interval",
            Duration.ofMillis(200),
            "Decision log lines are written at the latest after this long (sooner per 64 KiB).");
    public static final ConfigKey<Duration> DECISION_LOG_MAX_WAIT = ConfigKey.duration(
            "audit.decision_log_max_wait",
            Duration.ZERO,
            "How long a Check may wait for room in a full decision log queue before the event is"
                    + " dropped (at most 1s; 0: never wait).");
    public static final ConfigKey<String> ALS_BIND = ConfigKey.string(
            "audit.als.bind", "0.0.0.0", "Address of the standalone Envoy access-log (ALS) gRPC listener.");
    public static final ConfigKey<Integer> ALS_PORT = ConfigKey.integer(
            "audit.als.port",
            0,
            0,
            65535,
            "Port of the access-log (ALS) receiver's own gRPC listener (meshguard dlp, meshguard audit receiver); set, "
                    + "the DLP server no longer serves it on its ext_proc port. 0: none (the DLP server hosts the "
                    + "receiver on its ext_proc port).");
    public static final ConfigKey<String> ALS_PEER_IDENTITY = ConfigKey.oneOf(
            "audit.als.peer_identity",
            "xfcc",
            List.of("xfcc", "local-development", "local-development-any-peer"),
            "How an access-log sender is identified. xfcc: the SPIFFE ID the DLP pod's Istio sidecar writes in "
                    + "x-forwarded-client-cert (proxyHeaders.forwardedClientCert: SANITIZE_SET on the pod), from "
                    + "audit.als.trusted_proxies only, admitted by audit.als.senders. local-development: loopback "
                    + "senders only, no identity (meshguard up). local-development-any-peer: any peer, no identity "
                    + "(deploy/local's compose stack; refused inside Kubernetes).");
    public static final ConfigKey<List<String>> ALS_TRUSTED_PROXIES = ConfigKey.stringList(
            "audit.als.trusted_proxies",
            SidecarPeer.ISTIO_INBOUND_SOURCES,
            "Source IPs of the receiving pod's own sidecar toward the app (Istio binds inbound clusters to 127.0.0.6 "
                    + "and ::6); an access-log stream from elsewhere is refused.");
    public static final ConfigKey<List<String>> ALS_SENDERS = ConfigKey.stringList(
            "audit.als.senders",
            List.of(),
            "The proxies whose access-log rows are taken, as sidecar=|waypoint=|gateway=spiffe://<trust domain>/ns/"
                    + "<namespace>/sa/<service account> ('*' stands for one whole path segment). A sidecar's rows keep "
                    + "tenant and subject only for nodes in its own namespace. Empty: every stream is refused (xfcc).");
    public static final ConfigKey<String> ALS_REQUEST_ID_HEADER = header("request_id", "x-request-id");
    public static final ConfigKey<String> ALS_TRACEPARENT_HEADER = header("traceparent", "traceparent");
    public static final ConfigKey<String> ALS_TENANT_HEADER = header("tenant", AccessLogTags.TENANT_HEADER);
    public static final ConfigKey<String> ALS_SUBJECT_HEADER = header("subject", AccessLogTags.SUBJECT_HEADER);
    public static final ConfigKey<String> ALS_CLIENT_ID_HEADER = header("client_id", AccessLogTags.CLIENT_ID_HEADER);
    public static final ConfigKey<String> ALS_SOURCE_HEADER = header("source", "x-dwp-source");
    public static final ConfigKey<String> ALS_CALLER_TYPE_HEADER = header("caller_type", "x-dwp-caller-type");
    public static final ConfigKey<String> ALS_CONTENT_TYPE_HEADER = ConfigKey.string(
            "audit.als.content_type_header",
            "content-type",
            "Logged response header telling streams (text/event-stream) apart.");

    private static ConfigKey<String> header(String field, String defaultName) {
        return ConfigKey.string(
                "audit.als." + field + "_header",
                defaultName,
                "Logged request header carrying the " + field.replace('_', ' ') + " (Envoy: "
                        + "additional_request_headers_to_log).");
    }

    /** Every key, in documentation order. */
    public static List<ConfigKey<?>> keys() {
        return List.of(
                QUEUE_CAPACITY,
                BATCH_SIZE,
                FLUSH_INTERVAL,
                SLOW_DB_THRESHOLD,
                WRITE_TIMEOUT,
                RETRY_BACKOFF_MAX,
                WRITE_METHOD,
                KEEP_QUERY_STRING,
                SPOOL_DIR,
                SPOOL_MAX_BYTES,
                SPOOL_SEGMENT_BYTES,
                SPOOL_FSYNC,
                SPOOL_FSYNC_INTERVAL,
                SPOOL_WHEN_FULL,
                RETENTION_MONTHS,
                TRAIL_RETENTION_MONTHS,
                PARTITIONS_AHEAD,
                MAINTENANCE_INTERVAL,
                COVERAGE_INTERVAL,
                COVERAGE_LAG,
                COVERAGE_SETTLE,
                DLP_HMAC_KEY_FILE,
                DECISION_LOG,
                DECISION_LOG_QUEUE_CAPACITY,
                DECISION_LOG_FLUSH_INTERVAL,
                DECISION_LOG_MAX_WAIT,
                ALS_BIND,
                ALS_PORT,
                ALS_PEER_IDENTITY,
                ALS_TRUSTED_PROXIES,
                ALS_SENDERS,
                ALS_REQUEST_ID_HEADER,
                ALS_TRACEPARENT_HEADER,
                ALS_TENANT_HEADER,
                ALS_SUBJECT_HEADER,
                ALS_CLIENT_ID_HEADER,
                ALS_SOURCE_HEADER,
                ALS_CALLER_TYPE_HEADER,
                ALS_CONTENT_TYPE_HEADER);
    }

    /** The keys and how to read them, for a server's {@code ConfigSchema}. */
    public static ConfigGroup<AuditSettings> configGroup() {
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return AuditConfig.keys();
            }

            @Override
            public AuditSettings read(Config config) {
                return AuditConfig.read(config);
            }
        };
    }

    /** Reads the settings; invalid combinations fail with the key names in the message. */
    public static AuditSettings read(Config c) {
        SpoolSettings spool = new SpoolSettings(
                c.get(SPOOL_DIR),
                c.get(SPOOL_MAX_BYTES),
                c.get(SPOOL_SEGMENT_BYTES),
                FsyncPolicy.parse(c.get(SPOOL_FSYNC)),
                c.get(SPOOL_FSYNC_INTERVAL),
                SpoolFullPolicy.parse(c.get(SPOOL_WHEN_FULL)));
        AuditWriterSettings writer = new AuditWriterSettings(
                c.get(QUEUE_CAPACITY),
                c.get(BATCH_SIZE),
                c.get(FLUSH_INTERVAL),
                c.get(SLOW_DB_THRESHOLD),
                c.get(WRITE_TIMEOUT),
                c.get(RETRY_BACKOFF_MAX),
                BatchWriteMethod.parse(c.get(WRITE_METHOD)),
                new PathPolicy(c.get(KEEP_QUERY_STRING)),
                spool);
        int port = c.get(ALS_PORT);
        AccessLogHeaders headers = new AccessLogHeaders(
                c.get(ALS_REQUEST_ID_HEADER),
                c.get(ALS_TRACEPARENT_HEADER),
                c.get(ALS_TENANT_HEADER),
                c.get(ALS_SUBJECT_HEADER),
                c.get(ALS_CLIENT_ID_HEADER),
                c.get(ALS_SOURCE_HEADER),
                c.get(ALS_CALLER_TYPE_HEADER),
                c.get(ALS_CONTENT_TYPE_HEADER));
        return new AuditSettings(
                writer,
                c.get(RETENTION_MONTHS),
                c.get(PARTITIONS_AHEAD),
                c.get(MAINTENANCE_INTERVAL),
                c.get(ALS_BIND),
                port == 0 ? Optional.empty() : Optional.of(port),
                headers,
                AccessLogSenders.of(
                        c.get(ALS_PEER_IDENTITY), c.get(ALS_TRUSTED_PROXIES), c.get(ALS_SENDERS), System.getenv()),
                c.get(TRAIL_RETENTION_MONTHS));
    }

    /**
     * Whether the decision log runs: {@code audit.decision_log}, where {@code auto} means "on standard output when
     * there is no audit database" so that a server without PostgreSQL still leaves a record of every decision.
     */
    public static boolean decisionLogOn(Config c, boolean databaseConfigured) {
        return switch (c.get(DECISION_LOG)) {
            case "stdout" -> true;
            case "off" -> false;
            default -> !databaseConfigured;
        };
    }

    /** The decision log's settings; {@code labels} go on every line (service, instance). */
    public static DecisionLogSettings decisionLog(Config c, Map<String, String> labels) {
        Duration maxWait = c.get(DECISION_LOG_MAX_WAIT);
        if (maxWait.compareTo(Duration.ofSeconds(1)) > 0) {
            // A longer wait would hold Checks up past Envoy's ext_authz timeout: the decision log must not deny.
            throw new IllegalArgumentException(DECISION_LOG_MAX_WAIT.name() + " must be at most 1s, got " + maxWait);
        }
        return DecisionLogSettings.defaults(labels)
                .withQueueCapacity(c.get(DECISION_LOG_QUEUE_CAPACITY))
                .withFlushInterval(c.get(DECISION_LOG_FLUSH_INTERVAL))
                .withMaxWait(c.get(DECISION_LOG_MAX_WAIT))
                .withPaths(new PathPolicy(c.get(KEEP_QUERY_STRING)));
    }

    /** Settings with every default, the spool under {@code spoolDir}. */
    public static AuditSettings defaults(Path spoolDir) {
        return new AuditSettings(
                AuditWriterSettings.defaults(SpoolSettings.defaults(spoolDir)),
                RETENTION_MONTHS.defaultValue(),
                PARTITIONS_AHEAD.defaultValue(),
                MAINTENANCE_INTERVAL.defaultValue(),
                ALS_BIND.defaultValue(),
                Optional.empty(),
                AccessLogHeaders.defaults(),
                // loopback senders only: the defaults serve meshguard up and tests, never a cluster (read() does)
                AccessLogSenders.localDevelopment(),
                TRAIL_RETENTION_MONTHS.defaultValue());
    }

    /**
     * The DLP finding hasher: from {@code audit.dlp_hmac_key_file} if set, else from the environment variable
     * {@link #HMAC_KEY_ENV}; empty when neither is configured (a DLP server must then refuse to start).
     */
    public static Optional<FindingHasher> findingHasher(Config c, Map<String, String> env) {
        Optional<Path> file = c.get(DLP_HMAC_KEY_FILE);
        if (file.isPresent()) {
            return Optional.of(FindingHasher.fromKeyFile(file.get()));
        }
        if (env.containsKey(HMAC_KEY_ENV)) {
            return Optional.of(FindingHasher.fromEnvironment(env, HMAC_KEY_ENV));
        }
        return Optional.empty();
    }
}
