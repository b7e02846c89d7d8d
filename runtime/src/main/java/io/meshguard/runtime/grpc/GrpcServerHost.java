package io.meshguard.runtime.grpc;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.grpc.MetricCollectingServerInterceptor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a server's gRPC services on grpc-java's Netty transport, with what every meshguard server needs
 * around them:
 * <ul>
 *   <li>{@code grpc.health.v1} health: SERVING for {@code ""} and each service once started, NOT_SERVING for
 *       all from the start of the drain;</li>
 *   <li>server reflection v1 (unless turned off);</li>
 *   <li>per-method metrics ({@code grpc_server_processing_duration_seconds} by service, method and status,
 *       {@code grpc_server_requests_received_messages_total}, {@code grpc_server_responses_sent_messages_total})
 *       from Micrometer's {@link MetricCollectingServerInterceptor};</li>
 *   <li>{@code request_id}/{@code trace_id} in the logging MDC ({@link RequestLogContextInterceptor});</li>
 *   <li>a bound on concurrent calls that fails the excess with RESOURCE_EXHAUSTED ({@link ConcurrentCallLimit}).</li>
 * </ul>
 * Health, reflection and metrics interceptors apply to the application services only: a saturated server
 * still answers health checks.
 *
 * <p>Calls run on virtual threads: service code may block (a database write, a JWKS fetch) without
 * holding one of a few platform threads, and the call limit, not a pool size, decides how much runs at
 * once.
 *
 * <p>Lifecycle: {@link #start()}; {@link #drainAndStop()} (also {@link #close()}) sets health NOT_SERVING,
 * waits up to {@code drain_timeout} while still serving so Envoy and load balancers move away (no longer than
 * some client is connected: with no connection open the drain ends at once), stops accepting calls, lets
 * in-flight calls finish within {@code shutdown_timeout}, then cancels what is left.
 */
public final class GrpcServerHost implements ServerComponent {
    private static final Logger log = LoggerFactory.getLogger(GrpcServerHost.class);

    private enum State {
        NEW,
        SERVING,
        DRAINING,
        STOPPED
    }

    private final String name;
    private final GrpcServerSettings settings;
    private final List<ServerServiceDefinition> services;
    private final MeterRegistry meterRegistry;
    private final HealthStatusManager health = new HealthStatusManager();
    private final ReentrantLock lifecycle = new ReentrantLock();
    private volatile State state = State.NEW;
    // Written once under the lifecycle lock in start(); volatile so port() and readiness never wait for a drain.
    private volatile Server server;
    private ExecutorService executor;
    private volatile ConcurrentCallLimit callLimit;
    private final OpenConnections connections = new OpenConnections();

    /**
     * @param name component name for logs and {@code /readyz}, e.g. {@code extauthz-grpc}
     * @param settings listen address, limits and shutdown timing
     * @param services the application services
     * @param meterRegistry registry for the gRPC metrics (a server view, see {@code ProcessMetrics.forServer})
     */
    public GrpcServerHost(
            String name,
            GrpcServerSettings settings,
            List<ServerServiceDefinition> services,
            MeterRegistry meterRegistry) {
        this.name = name;
        this.settings = settings;
        this.services = List.copyOf(services);
        this.meterRegistry = meterRegistry;
    }

    /** Service definitions of generated {@code *ImplBase} services, for the constructor. */
    public static List<ServerServiceDefinition> bind(BindableService... services) {
        return Arrays.stream(services).map(BindableService::bindService).toList();
    }

    @Override
    public String name() {
        return name;
    }

    /** Binds the port and starts serving; health turns SERVING. */
    @Override
    public void start() throws IOException {
        lifecycle.lock();
        try {
            if (state != State.NEW) {
                throw new IllegalStateException(name + " was already started");
            }
            executor = Executors.newVirtualThreadPerTaskExecutor();
            callLimit = new ConcurrentCallLimit(settings.maxConcurrentCalls(), meterRegistry);
            MetricCollectingServerInterceptor metrics = new MetricCollectingServerInterceptor(meterRegistry);
            RequestLogContextInterceptor logContext = new RequestLogContextInterceptor();
            NettyServerBuilder builder = NettyServerBuilder.forAddress(
                            new InetSocketAddress(settings.bind(), settings.port()))
                    .executor(executor)
                    .maxInboundMessageSize(settings.maxInboundMessageBytes())
                    .keepAliveTime(settings.keepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
                    .keepAliveTimeout(settings.keepAliveTimeout().toNanos(), TimeUnit.NANOSECONDS)
                    .permitKeepAliveTime(settings.permitKeepAliveTime().toNanos(), TimeUnit.NANOSECONDS)
                    // Envoy's HTTP/2 keepalive pings idle connections too; refusing them would cost a GOAWAY.
                    .permitKeepAliveWithoutCalls(true)
                    .addTransportFilter(connections)
                    .addService(health.getHealthService());
            if (settings.flowControlWindowBytes() > 0) {
                // a fixed window turns grpc-java's auto-tuning off: the bound an operator set stays the bound
                builder.flowControlWindow(settings.flowControlWindowBytes());
            }
            settings.maxConnectionAge().ifPresent(age -> builder.maxConnectionAge(age.toNanos(), TimeUnit.NANOSECONDS));
            settings.maxConnectionAgeGrace()
                    .ifPresent(grace -> builder.maxConnectionAgeGrace(grace.toNanos(), TimeUnit.NANOSECONDS));
            if (settings.reflection()) {
                builder.addService(ProtoReflectionServiceV1.newInstance());
            }
            for (ServerServiceDefinition service : services) {
                metrics.preregisterService(service);
                // The last interceptor listed runs first: metrics see every call, rejected ones included.
                builder.addService(ServerInterceptors.intercept(service, logContext, callLimit, metrics));
            }
            Server started = builder.build();
            try {
                started.start();
            } catch (IOException | RuntimeException e) {
                executor.shutdownNow();
                throw e;
            }
            server = started;
            health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, ServingStatus.SERVING);
            for (ServerServiceDefinition service : services) {
                health.setStatus(service.getServiceDescriptor().getName(), ServingStatus.SERVING);
            }
            state = State.SERVING;
            log.atInfo()
                    .addKeyValue("port", started.getPort())
                    .log(
                            "{} serving gRPC on {}:{} ({})",
                            name,
                            settings.bind(),
                            started.getPort(),
                            services.stream()
                                    .map(s -> s.getServiceDescriptor().getName())
                                    .toList());
        } finally {
            lifecycle.unlock();
        }
    }

    /** The bound port (the real one when configured as 0). */
    public int port() {
        Server running = server;
        if (running == null) {
            throw new IllegalStateException(name + " is not started");
        }
        return running.getPort();
    }

    /** The health service's status table, for servers that report a service NOT_SERVING on their own. */
    public HealthStatusManager health() {
        return health;
    }

    /** Calls in flight now (0 before start). */
    public int callsInFlight() {
        ConcurrentCallLimit limit = callLimit;
        return limit == null ? 0 : limit.inFlight();
    }

    /** True from the start of the drain on. */
    public boolean isDraining() {
        return state == State.DRAINING || state == State.STOPPED;
    }

    /** Ready while serving and not draining. */
    @Override
    public List<ReadinessCheck> readinessChecks() {
        return List.of(ReadinessCheck.of(name, () -> switch (state) {
            case NEW -> ReadinessCheck.Result.notReady("not started");
            case SERVING -> ReadinessCheck.Result.ready("serving on port " + server.getPort());
            case DRAINING -> ReadinessCheck.Result.notReady("draining for shutdown");
            case STOPPED -> ReadinessCheck.Result.notReady("stopped");
        }));
    }

    /**
     * Graceful stop: health NOT_SERVING for everything, wait up to {@code drain_timeout} while a client is connected
     * and still serving,
     * stop accepting calls, wait up to {@code shutdown_timeout} for in-flight calls, cancel the rest.
     * Blocks until done. Idempotent: later calls (and concurrent ones) wait for the first to finish.
     */
    public void drainAndStop() {
        lifecycle.lock();
        try {
            if (state != State.SERVING) {
                if (state == State.NEW) {
                    state = State.STOPPED;
                }
                return;
            }
            state = State.DRAINING;
            health.enterTerminalState();
            // The drain tells connected clients (Envoy health-checking over its connection) to go elsewhere; with
            // no connection open there is nobody to tell, so it ends at once (and as soon as the last one closes).
            log.info(
                    "{} draining: health NOT_SERVING, still serving for up to {} ({} connection(s) open)",
                    name,
                    settings.drainTimeout(),
                    connections.open());
            connections.awaitNone(settings.drainTimeout());
            server.shutdown();
            log.info(
                    "{} stopped accepting calls; waiting up to {} for {} in flight",
                    name,
                    settings.shutdownTimeout(),
                    callsInFlight());
            if (!awaitQuietly(settings.shutdownTimeout())) {
                log.warn("{}: calls still running after {}; cancelling them", name, settings.shutdownTimeout());
                server.shutdownNow();
                awaitQuietly(Duration.ofSeconds(5));
            }
            executor.shutdown();
            // grpc-java's server counts as terminated once its transports are; a call's last listener callback
            // (onComplete: its permit and its metrics) may still be queued on the executor then
            awaitListeners(Duration.ofSeconds(5));
            state = State.STOPPED;
            log.info("{} stopped", name);
        } finally {
            lifecycle.unlock();
        }
    }

    /** Blocks until the server has terminated (after {@link #drainAndStop()}). */
    public void awaitTermination() throws InterruptedException {
        Server running = server;
        if (running != null) {
            running.awaitTermination();
        }
    }

    /** Same as {@link #drainAndStop()}. */
    @Override
    public void close() {
        drainAndStop();
    }

    private void awaitListeners(Duration timeout) {
        try {
            executor.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean awaitQuietly(Duration timeout) {
        try {
            return server.awaitTermination(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return server.isTerminated();
        }
    }

    /** Connections open now (0 before start). */
    public int openConnections() {
        return connections.open();
    }

    /** Counts the server's open transports (HTTP/2 connections) and lets the drain wait until there are none. */
    private static final class OpenConnections extends io.grpc.ServerTransportFilter {
        private final ReentrantLock lock = new ReentrantLock();
        private final java.util.concurrent.locks.Condition changed = lock.newCondition();
        private int open;

        @Override
        public io.grpc.Attributes transportReady(io.grpc.Attributes attributes) {
            add(1);
            return attributes;
        }

        @Override
        public void transportTerminated(io.grpc.Attributes attributes) {
            add(-1);
        }

        private void add(int delta) {
            lock.lock();
            try {
                open += delta;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        int open() {
            lock.lock();
            try {
                return open;
            } finally {
                lock.unlock();
            }
        }

        /** Waits until no connection is open or {@code timeout} has passed; an interrupt ends the wait early. */
        void awaitNone(Duration timeout) {
            long left = timeout.toNanos();
            lock.lock();
            try {
                while (open > 0 && left > 0) {
                    left = changed.awaitNanos(left);
                }
            } catch (InterruptedException e) {
                // Asked to hurry (e.g. a second signal): skip the rest of the drain, keep the interrupt.
                Thread.currentThread().interrupt();
            } finally {
                lock.unlock();
            }
        }
    }
}
