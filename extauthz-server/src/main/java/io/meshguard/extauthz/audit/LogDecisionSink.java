package io.meshguard.extauthz.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Writes each decision as one JSON line to the {@code meshguard.audit} logger (used when no audit DB is wired). */
public final class LogDecisionSink implements DecisionSink {
    private static final Logger LOG = LoggerFactory.getLogger("meshguard.audit");
    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public void record(AuthzDecisionEvent e) {
        if (!LOG.isInfoEnabled()) {
            return;
        }
        ObjectNode n = JSON.createObjectNode();
        n.put("kind", AuthzDecisionEvent.KIND);
        n.put("time", e.time().toString());
        n.put("request_id", e.requestId());
        e.traceId().ifPresent(v -> n.put("trace_id", v));
        e.tenant().ifPresent(v -> n.put("tenant", v));
        e.subject().ifPresent(v -> n.put("subject", v));
        e.clientId().ifPresent(v -> n.put("client_id", v));
        n.put("method", e.method());
        n.put("authority", e.authority());
        n.put("path", e.path());
        e.route().ifPresent(v -> n.put("route", v));
        n.put("status", e.status());
        n.put("decision", e.decision());
        n.put("reason", e.reason());
        n.put("latency_us", e.latencyMicros());
        ObjectNode d = n.putObject("details");
        e.details().forEach(d::put);
        try {
            LOG.info(JSON.writeValueAsString(n));
        } catch (JsonProcessingException ex) {
            LOG.warn("audit event not serializable: {}", ex.getMessage());
        }
    }
}
