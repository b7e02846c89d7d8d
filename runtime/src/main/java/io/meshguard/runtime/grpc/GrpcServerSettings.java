package io.meshguard.runtime.grpc;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a {@link GrpcServerHost} listens, bounds its work and shuts down. Read from the {@code grpc.*} keys
 * ({@link #configGroup(int)}) or built directly in code and tests ({@link #defaults(int)}).
 *
 * @param bind address to listen on
 * @param port TCP port; 0 picks a free one
 * @param maxInboundMessageBytes largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED
 * @param maxConcurrentCalls calls (streams included) served at once; more fail with RESOURCE_EXHAUSTED
 * @param keepAliveTime idle time after which the server pings a client to find dead connections
 * @param keepAliveTimeout how long the server waits for that ping's answer before closing the connection
 * @param permitKeepAliveTime the shortest client ping interval tolerated
 * @param maxConnectionAge when set, connections get a GOAWAY after this age (empty: never)
 * @param maxConnectionAgeGrace after that GOAWAY, how long calls may still run (empty: no limit)
 * @param drainTimeout how long health reports NOT_SERVING before the server stops accepting calls
 * @param shutdownTimeout after that, how long in-flight calls may run before they are cancelled
 * @param reflection whether to serve gRPC server reflection (v1)
 * @param flowControlWindowBytes HTTP/2 flow-control window of each call (stream): the most request bytes a client may
 *     send ahead of what the server has read, so the most a held stream can make the server buffer unread; 0 leaves
 *     it to grpc-java's auto-tuning (1 MiB, grown by bandwidth-delay probes up to 8 MiB)
 */
public record GrpcServerSettings(
        String bind,
        int port,
        int maxInboundMessageBytes,
        int maxConcurrentCalls,
        Duration keepAliveTime,
        Duration keepAliveTimeout,
        Duration permitKeepAliveTime,
        Optional<Duration> maxConnectionAge,
        Optional<Duration> maxConnectionAgeGrace,
        Duration drainTimeout,
        Duration shutdownTimeout,
        boolean reflection,
        int flowControlWindowBytes) {

    /** {@code grpc.bind}. */
    public static final ConfigKey<String> BIND =
            ConfigKey.string("grpc.bind", "0.0.0.0", "Address the gRPC server binds to.");
    /** {@code grpc.max_inbound_message_bytes}. */
    public static final ConfigKey<Long> MAX_INBOUND_MESSAGE_BYTES = ConfigKey.byteSize(
            "grpc.max_inbound_message_bytes",
            4L * 1024 * 1024,
            1024,
            Integer.MAX_VALUE,
            "Largest gRPC request message accepted; larger ones fail with RESOURCE_EXHAUSTED.");
    /**
     * {@code grpc.max_concurrent_calls}. 60,000 by default: an ext_proc stream holds its permit for as long as its
     * HTTP answer lasts (minutes for an LLM event stream), and one DLP replica is sized for more than 50,000 of them
     * ({@code ConcurrentStreams} in bench/ measures the heap each held stream keeps, see
     * docs/benchmarks.md). The limit is a fail-fast bound, not the memory guard: size the heap for the streams
     * allowed here. Unary Checks never come near it.
     */
    public static final ConfigKey<Integer> MAX_CONCURRENT_CALLS = ConfigKey.integer(
            "grpc.max_concurrent_calls",
            60_000,
            1,
            1_000_000,
            "Calls served at once, open streams included (an ext_proc stream lasts as long as its HTTP request);"
                    + " beyond it calls fail fast with RESOURCE_EXHAUSTED instead of queueing.");
    /** {@code grpc.keepalive_time}. */
    public static final ConfigKey<Duration> KEEPALIVE_TIME = ConfigKey.duration(
            "grpc.keepalive_time",
            Duration.ofSeconds(60),
            "Idle time after which the server pings a client to detect a dead connection.");
    /** {@code grpc.keepalive_timeout}. */
    public static final ConfigKey<Duration> KEEPALIVE_TIMEOUT = ConfigKey.duration(
            "grpc.keepalive_timeout",
            Duration.ofSeconds(20),
            "How long the server waits for a keepalive ping answer before closing the connection.");
    /** {@code grpc.permit_keepalive_time}. */
    public static final ConfigKey<Duration> PERMIT_KEEPALIVE_TIME = ConfigKey.duration(
            "grpc.permit_keepalive_time",
            Duration.ofSeconds(10),
            "Shortest interval between client pings tolerated (Envoy's HTTP/2 connection keepalive pings, also on"
                    + " idle connections); clients pinging faster get GOAWAY too_many_pings.");
    /** {@code grpc.max_connection_age}. */
    public static final ConfigKey<Optional<Duration>> MAX_CONNECTION_AGE = ConfigKey.optionalDuration(
            "grpc.max_connection_age",
            Optional.empty(),
            "Age after which a connection is sent GOAWAY, or off. Off by default: ext_proc streams live as long as"
                    + " their HTTP request (minutes for SSE) and xDS streams as long as the Envoy, and a forced"
                    + " reconnect makes Envoy re-fetch all xDS resources; set it (e.g. 30m) only to rebalance"
                    + " connections after scaling out.");
    /** {@code grpc.max_connection_age_grace}. */
    public static final ConfigKey<Optional<Duration>> MAX_CONNECTION_AGE_GRACE = ConfigKey.optionalDuration(
            "grpc.max_connection_age_grace",
            Optional.empty(),
            "After a max_connection_age GOAWAY, how long calls on that connection may still run, or off (no limit,"
                    + " so long streams end on their own).");
    /** {@code grpc.drain_timeout}. */
    public static final ConfigKey<Duration> DRAIN_TIMEOUT = ConfigKey.duration(
            "grpc.drain_timeout",
            Duration.ofSeconds(5),
            "On shutdown, how long gRPC health reports NOT_SERVING (and /readyz 503) while still serving, so Envoy"
                    + " and load balancers stop sending before the port closes.");
    /** {@code grpc.shutdown_timeout}. */
    public static final ConfigKey<Duration> SHUTDOWN_TIMEOUT = ConfigKey.duration(
            "grpc.shutdown_timeout",
            Duration.ofSeconds(20),
            "After the drain, how long in-flight calls may finish before they are cancelled; drain_timeout plus"
                    + " this must stay below the pod's terminationGracePeriodSeconds (default 30s).");
    /** {@code grpc.reflection}. */
    public static final ConfigKey<Boolean> REFLECTION = ConfigKey.bool(
            "grpc.reflection",
            true,
            "Serve gRPC server reflection (grpc.reflection.v1) so grpcurl can list and call services.");

    /** {@code grpc.flow_control_window}. */
    public static final ConfigKey<Long> FLOW_CONTROL_WINDOW = ConfigKey.byteSize(
            "grpc.flow_control_window",
            0,
            0,
            Integer.MAX_VALUE,
            "HTTP/2 flow-control window of each call (stream): the most a client may send on one stream ahead of"
                    + " what the server has read, so the most one stream can make the server buffer unread (a stream"
                    + " whose messages are answered as they come buffers nothing). 0: grpc-java's auto-tuning (1 MiB,"
                    + " grown by bandwidth-delay probes up to 8 MiB); a size fixes it (e.g. 256KiB bounds the worst"
                    + " case of many held streams behind a slow scan at that much each).");

    public GrpcServerSettings {
        Objects.requireNonNull(bind, "bind");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("grpc port out of range: " + port);
        }
        if (maxInboundMessageBytes < 1 || maxConcurrentCalls < 1) {
            throw new IllegalArgumentException("message size and concurrent calls must be positive");
        }
        if (flowControlWindowBytes < 0) {
            throw new IllegalArgumentException("flow-control window must not be negative (0: auto-tuned)");
        }
        for (Duration d :
                List.of(keepAliveTime, keepAliveTimeout, permitKeepAliveTime, drainTimeout, shutdownTimeout)) {
            if (d.isNegative()) {
                throw new IllegalArgumentException("durations must not be negative: " + d);
            }
        }
    }

    /** {@code grpc.port} with this server's default port. */
    public static ConfigKey<Integer> portKey(int defaultPort) {
        return ConfigKey.integer(
                "grpc.port", defaultPort, 0, 65535, "TCP port of the gRPC server (0 picks a free port).");
    }

    /** Every default, on {@code port}. */
    public static GrpcServerSettings defaults(int port) {
        return new GrpcServerSettings(
                BIND.defaultValue(),
                port,
                MAX_INBOUND_MESSAGE_BYTES.defaultValue().intValue(),
                MAX_CONCURRENT_CALLS.defaultValue(),
                KEEPALIVE_TIME.defaultValue(),
                KEEPALIVE_TIMEOUT.defaultValue(),
                PERMIT_KEEPALIVE_TIME.defaultValue(),
                MAX_CONNECTION_AGE.defaultValue(),
                MAX_CONNECTION_AGE_GRACE.defaultValue(),
                DRAIN_TIMEOUT.defaultValue(),
                SHUTDOWN_TIMEOUT.defaultValue(),
                REFLECTION.defaultValue(),
                FLOW_CONTROL_WINDOW.defaultValue().intValue());
    }

    /** A copy listening on {@code bind:port}. */
    public GrpcServerSettings withAddress(String newBind, int newPort) {
        return new GrpcServerSettings(
                newBind,
                newPort,
                maxInboundMessageBytes,
                maxConcurrentCalls,
                keepAliveTime,
                keepAliveTimeout,
                permitKeepAliveTime,
                maxConnectionAge,
                maxConnectionAgeGrace,
                drainTimeout,
                shutdownTimeout,
                reflection,
                flowControlWindowBytes);
    }

    /** A copy with other drain and shutdown timeouts. */
    public GrpcServerSettings withShutdown(Duration newDrainTimeout, Duration newShutdownTimeout) {
        return new GrpcServerSettings(
                bind,
                port,
                maxInboundMessageBytes,
                maxConcurrentCalls,
                keepAliveTime,
                keepAliveTimeout,
                permitKeepAliveTime,
                maxConnectionAge,
                maxConnectionAgeGrace,
                newDrainTimeout,
                newShutdownTimeout,
                reflection,
                flowControlWindowBytes);
    }

    /** A copy with other limits. */
    public GrpcServerSettings withLimits(int newMaxInboundMessageBytes, int newMaxConcurrentCalls) {
        return new GrpcServerSettings(
                bind,
                port,
                newMaxInboundMessageBytes,
                newMaxConcurrentCalls,
                keepAliveTime,
                keepAliveTimeout,
                permitKeepAliveTime,
                maxConnectionAge,
                maxConnectionAgeGrace,
                drainTimeout,
                shutdownTimeout,
                reflection,
                flowControlWindowBytes);
    }

    /** A copy with another per-call flow-control window. */
    public GrpcServerSettings withFlowControlWindow(int newFlowControlWindowBytes) {
        return new GrpcServerSettings(
                bind,
                port,
                maxInboundMessageBytes,
                maxConcurrentCalls,
                keepAliveTime,
                keepAliveTimeout,
                permitKeepAliveTime,
                maxConnectionAge,
                maxConnectionAgeGrace,
                drainTimeout,
                shutdownTimeout,
                reflection,
                newFlowControlWindowBytes);
    }

    /** The {@code grpc.*} keys with this server's default port, and how to read them. */
    public static ConfigGroup<GrpcServerSettings> configGroup(int defaultPort) {
        ConfigKey<Integer> port = portKey(defaultPort);
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(
                        BIND,
                        port,
                        MAX_INBOUND_MESSAGE_BYTES,
                        MAX_CONCURRENT_CALLS,
                        KEEPALIVE_TIME,
                        KEEPALIVE_TIMEOUT,
                        PERMIT_KEEPALIVE_TIME,
                        MAX_CONNECTION_AGE,
                        MAX_CONNECTION_AGE_GRACE,
                        DRAIN_TIMEOUT,
                        SHUTDOWN_TIMEOUT,
                        REFLECTION,
                        FLOW_CONTROL_WINDOW);
            }

            @Override
            public GrpcServerSettings read(Config config) {
                return new GrpcServerSettings(
                        config.get(BIND),
                        config.get(port),
                        config.get(MAX_INBOUND_MESSAGE_BYTES).intValue(),
                        config.get(MAX_CONCURRENT_CALLS),
                        config.get(KEEPALIVE_TIME),
                        config.get(KEEPALIVE_TIMEOUT),
                        config.get(PERMIT_KEEPALIVE_TIME),
                        config.get(MAX_CONNECTION_AGE),
                        config.get(MAX_CONNECTION_AGE_GRACE),
                        config.get(DRAIN_TIMEOUT),
                        config.get(SHUTDOWN_TIMEOUT),
                        config.get(REFLECTION),
                        config.get(FLOW_CONTROL_WINDOW).intValue());
            }
        };
    }
}
