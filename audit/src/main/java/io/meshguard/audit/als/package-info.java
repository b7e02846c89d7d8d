/**
 * Envoy Access Log Service receiver ({@code envoy.service.accesslog.v3.AccessLogService/StreamAccessLogs}):
 * turns HTTP access-log entries into {@code api_call} audit events.
 */
package io.meshguard.audit.als;
