package io.meshguard.dlpserver;

import io.meshguard.dlp.policy.Direction;
import java.time.Instant;
import java.util.Map;

/**
 * Where the processor reports what it saw, for the audit log. Implementations must not block the caller (the audit
 * module's writer is non-blocking); values never appear here, only their keyed hash.
 */
public interface DlpAuditSink {
    /**
     * One finding.
     *
     * @param time when it was decided
     * @param requestId Envoy's x-request-id (empty when absent)
     * @param tenant tenant id from the tenant header (empty when absent)
     * @param path request path without query string
     * @param route the Envoy route's name (empty when the route config hands none over)
     * @param profile policy profile that applied
     * @param direction request or response
     * @param detector detector name
     * @param action action taken
     * @param location where in the body (JSON pointer, form field, SSE stream)
     * @param length length of the value in Unicode code points (characters), not bytes
     * @param valueHmac hex HMAC-SHA256 of the value under the tenant key
     * @param keyId which master key the tenant key was derived from (first bytes of its SHA-256)
     * @param confidence final confidence
     */
    record FindingEvent(
            Instant time,
            String requestId,
            String traceId,
            String tenant,
            String host,
            String path,
            String route,
            String profile,
            Direction direction,
            String detector,
            String action,
            String location,
            long length,
            String valueHmac,
            String keyId,
            double confidence) {}

    /**
     * One summary per ext_proc stream (one HTTP request/response).
     *
     * @param outcome {@code pass}, {@code rewritten}, {@code blocked}, {@code cancelled} or {@code error}
     * @param findings findings per detector
     * @param notes what was not scanned and why (non_text, oversize, unknown_encoding), per direction
     */
    record ApiCallEvent(
            Instant time,
            String requestId,
            String traceId,
            String tenant,
            String host,
            String method,
            String path,
            String route,
            int status,
            boolean eventStream,
            String outcome,
            Map<String, Integer> findings,
            long requestBytes,
            long responseBytes,
            Map<String, String> notes) {}

    void finding(FindingEvent event);

    void apiCall(ApiCallEvent event);

    /**
     * Records nothing: for a server whose operator turned both the audit database and the decision log off (the
     * command line logs that as an ERROR at start). Findings still count in the DLP metrics.
     */
    DlpAuditSink NONE = new DlpAuditSink() {
        @Override
        public void finding(FindingEvent event) {}

        @Override
        public void apiCall(ApiCallEvent event) {}
    };
}
