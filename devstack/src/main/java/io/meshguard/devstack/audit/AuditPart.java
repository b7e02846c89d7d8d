package io.meshguard.devstack.audit;

import io.meshguard.audit.ConnectionSource;
import io.meshguard.audit.component.AuditComponent;
import io.meshguard.audit.component.AuditConfig;
import io.meshguard.audit.component.AuditSettings;
import io.meshguard.audit.coverage.CoverageMonitor;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.cli.common.RunningStack;
import io.meshguard.devstack.part.StackContext;
import io.meshguard.devstack.part.StackPart;
import io.meshguard.runtime.lifecycle.ServerComponent;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The audit log in {@code meshguard up}: writer (spool under {@code DATA_DIR/audit-spool}), partition
 * maintenance, the Envoy access-log receiver on {@code 127.0.0.1:9004} and the proof-of-coverage join.
 */
public final class AuditPart implements StackPart {
    /** gRPC port of the access-log receiver in {@code up} (in Kubernetes the DLP server hosts it on 9002). */
    public static final int ALS_PORT = 9004;

    private AuditComponent component;

    @Override
    public String name() {
        return "audit";
    }

    /** The running component (for other parts that record events in-process); only after {@link #components}. */
    public AuditComponent component() {
        if (component == null) {
            throw new IllegalStateException("the audit part has not been built yet");
        }
        return component;
    }

    @Override
    public List<ServerComponent> components(StackContext context) {
        AuditSettings settings = AuditConfig.defaults(context.dataDir().resolve("audit-spool"))
                .withAlsBind("127.0.0.1")
                .withAlsPort(Optional.of(context.ports().accessLog()));
        ConnectionSource writerConnections = ConnectionSource.forUrl(
                context.db().jdbcUrl(), context.db().user(), context.db().password(), Duration.ofSeconds(5));
        component = AuditComponent.create(
                settings,
                writerConnections,
                context.dataSource(),
                context.metrics().forServer("audit"),
                context.tracing());
        // the proof of coverage, as the DLP server runs it in Kubernetes: the same metric and alert under up
        CoverageMonitor coverage = new CoverageMonitor(
                new CoverageReport(context.dataSource()),
                AuditConfig.COVERAGE_INTERVAL.defaultValue(),
                AuditConfig.COVERAGE_LAG.defaultValue(),
                AuditConfig.COVERAGE_SETTLE.defaultValue(),
                Clock.systemUTC(),
                context.metrics().forServer("audit"));
        return List.of(component, coverage);
    }

    @Override
    public Map<String, Integer> ports() {
        return component == null
                ? Map.of()
                : component
                        .accessLogPort()
                        .map(port -> Map.of(RunningStack.ACCESS_LOG, port))
                        .orElse(Map.of());
    }

    @Override
    public List<String> endpoints() {
        String als = component == null
                ? "127.0.0.1:" + ALS_PORT
                : "127.0.0.1:" + component.accessLogPort().map(String::valueOf).orElse("-");
        return List.of("gRPC " + als + " (Envoy AccessLogService)", "`meshguard audit query --since 1h`");
    }
}
