package io.meshguard.audit.component;

import io.meshguard.audit.AuditSink;
import io.meshguard.audit.AuditWriter;
import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.PartitionMaintenance;
import io.meshguard.audit.als.AccessLogMapper;
import io.meshguard.audit.als.AccessLogReceiver;
import io.meshguard.audit.als.AccessLogServer;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.runtime.lifecycle.ServerComponent;
import io.meshguard.runtime.tracing.Tracing;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Clock;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The audit log as one startable part: the writer (with its spool), partition maintenance of the audit log and of
 * the admin trail (at start, then daily), and the Envoy access-log receiver, on a listener of its own when {@code audit.als.port} is set.
 * Producers in the same process get the writer through {@link #sink()}; a server that hosts the receiver on its
 * own gRPC port adds {@link #accessLogReceiver()} there.
 *
 * <p>Readiness stays "ready" while events are spooled (the audit path must never take traffic down), but says
 * so in {@code /readyz}: {@code audit: spool in use (N bytes ...), PostgreSQL unreachable}.
 */
public final class AuditComponent implements ServerComponent {
    private final AuditSettings settings;
    private final ConnectionSource writerConnections;
    private final DataSource maintenanceDataSource;
    private final MeterRegistry meters;
    private final Clock clock;
    private final Tracing tracing;
    private volatile AuditWriter writer;
    private PartitionMaintenance maintenance;
    private io.meshguard.audit.trail.AdminTrailMaintenance trailMaintenance;
    private AccessLogReceiver receiver;
    private AccessLogServer alsServer;

    private AuditComponent(
            AuditSettings settings,
            ConnectionSource writerConnections,
            DataSource maintenanceDataSource,
            MeterRegistry meters,
            Clock clock,
            Tracing tracing) {
        this.tracing = Objects.requireNonNull(tracing, "tracing");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.writerConnections = Objects.requireNonNull(writerConnections, "writerConnections");
        this.maintenanceDataSource = Objects.requireNonNull(maintenanceDataSource, "maintenanceDataSource");
        this.meters = Objects.requireNonNull(meters, "meters");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * @param writerConnections the writer's own connection (unpooled, see {@link ConnectionSource#forUrl})
     * @param maintenanceDataSource pooled connections for maintenance
     */
    public static AuditComponent create(
            AuditSettings settings,
            ConnectionSource writerConnections,
            DataSource maintenanceDataSource,
            MeterRegistry meters) {
        return create(settings, writerConnections, maintenanceDataSource, meters, Tracing.disabled());
    }

    /** With a CLIENT span per batch written to PostgreSQL (tracing on). */
    public static AuditComponent create(
            AuditSettings settings,
            ConnectionSource writerConnections,
            DataSource maintenanceDataSource,
            MeterRegistry meters,
            Tracing tracing) {
        return new AuditComponent(
                settings, writerConnections, maintenanceDataSource, meters, Clock.systemUTC(), tracing);
    }

    @Override
    public String name() {
        return "audit";
    }

    @Override
    public void start() throws Exception {
        writer = AuditWriter.start(settings.writer(), writerConnections, meters, tracing);
        maintenance = new PartitionMaintenance(
                maintenanceDataSource, clock, settings.partitionsAhead(), settings.retentionMonths(), meters);
        maintenance.start(settings.maintenanceInterval());
        // the admin trail lives in the same database: its months are created ahead and retired the same way
        trailMaintenance = new io.meshguard.audit.trail.AdminTrailMaintenance(
                maintenanceDataSource, clock, settings.partitionsAhead(), settings.trailRetentionMonths());
        trailMaintenance.start(settings.maintenanceInterval());
        receiver = new AccessLogReceiver(
                writer,
                new AccessLogMapper(settings.alsHeaders(), settings.writer().paths()),
                settings.alsSenders(),
                meters);
        if (settings.alsPort().isPresent()) {
            alsServer = AccessLogServer.start(
                    receiver, settings.alsBind(), settings.alsPort().get());
        }
    }

    /** The pooled connections of maintenance, for appending to the admin trail in the audit database. */
    public DataSource database() {
        return maintenanceDataSource;
    }

    /** Where in-process producers record events; only valid after {@link #start()}. */
    public AuditSink sink() {
        return requireStarted();
    }

    /** The writer, for status and orderly shutdown; only valid after {@link #start()}. */
    public AuditWriter writer() {
        return requireStarted();
    }

    /** The receiver, for a server that hosts it on its own gRPC port; only valid after {@link #start()}. */
    public AccessLogReceiver accessLogReceiver() {
        requireStarted();
        return receiver;
    }

    /** The port of the standalone access-log listener, if one was started. */
    public Optional<Integer> accessLogPort() {
        return alsServer == null ? Optional.empty() : Optional.of(alsServer.port());
    }

    private AuditWriter requireStarted() {
        AuditWriter w = writer;
        if (w == null) {
            throw new IllegalStateException("the audit component is not started");
        }
        return w;
    }

    @Override
    public List<ReadinessCheck> readinessChecks() {
        return List.of(ReadinessCheck.of("audit", () -> {
            AuditWriter w = writer;
            if (w == null) {
                return ReadinessCheck.Result.notReady("audit writer not started");
            }
            // Spooling is reported, not failed: traffic must not stop because PostgreSQL is away.
            return ReadinessCheck.Result.ready(w.status().describe());
        }));
    }

    @Override
    public void close() {
        // Receiver first (no new events), writer last (flushes or spools what is in memory).
        if (alsServer != null) {
            alsServer.close();
            alsServer = null;
        }
        if (maintenance != null) {
            maintenance.close();
        }
        if (trailMaintenance != null) {
            trailMaintenance.close();
        }
        if (writer != null) {
            writer.close();
        }
    }
}
