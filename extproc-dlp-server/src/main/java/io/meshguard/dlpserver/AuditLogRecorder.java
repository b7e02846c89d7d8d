package io.meshguard.dlpserver;

import io.meshguard.audit.AuditEvent;
import io.meshguard.audit.AuditKind;
import io.meshguard.audit.AuditSink;
import io.meshguard.audit.DlpFinding;
import io.meshguard.dlp.policy.Direction;

/**
 * Turns the processor's findings and stream summaries into audit events ({@code dlp_finding}, {@code api_call}) on
 * the audit module's non-blocking writer. The value itself never reaches the audit log: detector, direction,
 * location, length (characters) and the keyed hash only.
 */
public final class AuditLogRecorder implements DlpAuditSink {
    private final AuditSink sink;

    public AuditLogRecorder(AuditSink sink) {
        this.sink = sink;
    }

    @Override
    public void finding(FindingEvent e) {
        DlpFinding finding = new DlpFinding(
                e.detector(),
                e.direction() == Direction.REQUEST ? DlpFinding.Direction.REQUEST : DlpFinding.Direction.RESPONSE,
                e.location(),
                (int) Math.min(Integer.MAX_VALUE, e.length()),
                e.valueHmac(),
                e.keyId());
        AuditEvent.Builder b = finding.toEvent()
                .occurredAt(e.time())
                .decision(e.action())
                .detail("action", e.action())
                .detail("profile", e.profile())
                .detail("confidence", Math.round(e.confidence() * 100) / 100.0)
                .source("extproc-dlp");
        common(b, e.requestId(), e.traceId(), e.tenant(), e.host(), e.path(), e.route());
        sink.record(b.build());
    }

    @Override
    public void apiCall(ApiCallEvent e) {
        AuditEvent.Builder b = AuditEvent.builder(AuditKind.API_CALL).occurredAt(e.time()).decision(e.outcome()).stream(
                        e.eventStream())
                .source("extproc-dlp")
                .detail("dlp_findings", e.findings())
                .detail("dlp_notes", e.notes());
        common(b, e.requestId(), e.traceId(), e.tenant(), e.host(), e.path(), e.route());
        if (!e.method().isEmpty()) {
            b.method(e.method());
        }
        if (e.status() > 0) {
            b.status(e.status());
        }
        if (!e.eventStream()) {
            // Event streams get a summary row without sizes.
            b.requestBytes(e.requestBytes()).responseBytes(e.responseBytes());
        }
        sink.record(b.build());
    }

    private static void common(
            AuditEvent.Builder b,
            String requestId,
            String traceId,
            String tenant,
            String host,
            String path,
            String route) {
        if (!requestId.isEmpty()) {
            b.requestId(requestId);
        }
        if (traceId.length() == 32) {
            b.traceId(traceId);
        }
        if (!tenant.isEmpty()) {
            b.tenant(tenant);
        }
        if (!host.isEmpty()) {
            b.authority(host);
        }
        if (!path.isEmpty()) {
            b.path(path);
        }
        if (!route.isEmpty()) {
            b.route(route);
        }
    }
}
