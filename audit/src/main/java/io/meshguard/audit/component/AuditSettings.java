package io.meshguard.audit.component;

import io.meshguard.audit.AuditWriterSettings;
import io.meshguard.audit.als.AccessLogHeaders;
import io.meshguard.audit.als.AccessLogSenders;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the audit component needs: the writer, partition maintenance, and the access-log receiver.
 *
 * @param writer              the asynchronous writer and its spool
 * @param retentionMonths     full months kept before the current one
 * @param partitionsAhead     months created after the current one
 * @param maintenanceInterval how often maintenance runs (it also runs at start)
 * @param alsBind             address of the standalone access-log gRPC listener
 * @param alsPort             its port; empty: not started (the receiver is hosted by another server)
 * @param alsHeaders          which logged headers carry identity
 * @param trailRetentionMonths full months of the admin trail kept before the current one (at least 13)
 */
public record AuditSettings(
        AuditWriterSettings writer,
        int retentionMonths,
        int partitionsAhead,
        Duration maintenanceInterval,
        String alsBind,
        Optional<Integer> alsPort,
        AccessLogHeaders alsHeaders,
        AccessLogSenders alsSenders,
        int trailRetentionMonths) {

    public AuditSettings {
        Objects.requireNonNull(writer, "writer");
        Objects.requireNonNull(maintenanceInterval, "maintenanceInterval");
        Objects.requireNonNull(alsBind, "alsBind");
        Objects.requireNonNull(alsPort, "alsPort");
        Objects.requireNonNull(alsHeaders, "alsHeaders");
        Objects.requireNonNull(alsSenders, "alsSenders");
    }

    public AuditSettings withAlsPort(Optional<Integer> port) {
        return new AuditSettings(
                writer,
                retentionMonths,
                partitionsAhead,
                maintenanceInterval,
                alsBind,
                port,
                alsHeaders,
                alsSenders,
                trailRetentionMonths);
    }

    public AuditSettings withAlsBind(String bind) {
        return new AuditSettings(
                writer,
                retentionMonths,
                partitionsAhead,
                maintenanceInterval,
                bind,
                alsPort,
                alsHeaders,
                alsSenders,
                trailRetentionMonths);
    }

    public AuditSettings withAlsSenders(AccessLogSenders senders) {
        return new AuditSettings(
                writer,
                retentionMonths,
                partitionsAhead,
                maintenanceInterval,
                alsBind,
                alsPort,
                alsHeaders,
                senders,
                trailRetentionMonths);
    }

    public AuditSettings withTrailRetentionMonths(int months) {
        return new AuditSettings(
                writer,
                retentionMonths,
                partitionsAhead,
                maintenanceInterval,
                alsBind,
                alsPort,
                alsHeaders,
                alsSenders,
                months);
    }

    public AuditSettings withWriter(AuditWriterSettings w) {
        return new AuditSettings(
                w,
                retentionMonths,
                partitionsAhead,
                maintenanceInterval,
                alsBind,
                alsPort,
                alsHeaders,
                alsSenders,
                trailRetentionMonths);
    }
}
