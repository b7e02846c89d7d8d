package io.meshguard.audit.als;

import io.meshguard.contract.RouteContract.AccessLogTags;
import java.util.Locale;
import java.util.Objects;

/**
 * Which logged request headers carry identity and context. Envoy sends only the headers listed in the access
 * logger's {@code additional_request_headers_to_log} (and response headers in
 * {@code additional_response_headers_to_log}); the Istio manifests must list every one of these, and the gateway
 * config the xDS controller emits lists the identity ones ({@code RouteContract.AccessLogTags}, whose names are the
 * defaults here).
 *
 * @param requestId   fallback when Envoy's own {@code request_id} field is empty
 * @param traceparent W3C trace context
 * @param tenant      injected by meshguard's ext_authz from the verified token
 * @param subject     injected by ext_authz (token {@code sub})
 * @param clientId    injected by ext_authz (OAuth client / agent id)
 * @param source      the caller's declared source (policy-defined)
 * @param callerType  the caller type (policy-defined)
 * @param responseContentType response header that tells a stream (SSE) apart
 */
public record AccessLogHeaders(
        String requestId,
        String traceparent,
        String tenant,
        String subject,
        String clientId,
        String source,
        String callerType,
        String responseContentType) {

    public AccessLogHeaders {
        requestId = lower(requestId);
        traceparent = lower(traceparent);
        tenant = lower(tenant);
        subject = lower(subject);
        clientId = lower(clientId);
        source = lower(source);
        callerType = lower(callerType);
        responseContentType = lower(responseContentType);
    }

    /** x-request-id, traceparent, x-tenant-id, x-user-id, x-client-id, x-dwp-source, x-dwp-caller-type; content-type. */
    public static AccessLogHeaders defaults() {
        return new AccessLogHeaders(
                "x-request-id",
                AccessLogTags.TRACEPARENT,
                AccessLogTags.TENANT_HEADER,
                AccessLogTags.SUBJECT_HEADER,
                AccessLogTags.CLIENT_ID_HEADER,
                "x-dwp-source",
                "x-dwp-caller-type",
                "content-type");
    }

    private static String lower(String name) {
        return Objects.requireNonNull(name, "header name").trim().toLowerCase(Locale.ROOT);
    }
}
