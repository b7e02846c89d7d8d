package io.meshguard.audit;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** What an audit event records; {@link #dbName()} is the value stored in {@code audit_event.kind}. */
public enum AuditKind {
    /** An ext_authz allow/deny decision. */
    AUTHZ_DECISION("authz_decision"),
    /** A DLP detector hit (never the value itself, only its keyed hash). */
    DLP_FINDING("dlp_finding"),
    /** One request/response seen by Envoy (from the access-log service) or by the DLP processor. */
    API_CALL("api_call"),
    /** A configuration change (policy reload, gateway route publish, ...). */
    CONFIG_CHANGE("config_change"),
    /** A calendar quota event: an alert threshold reached, or an operator's adjust/reset of a counter. */
    QUOTA("quota");

    private final String dbName;

    AuditKind(String dbName) {
        this.dbName = dbName;
    }

    /** The lower-case name used in the database, the CLI and JSON output. */
    public String dbName() {
        return dbName;
    }

    /** Parses {@code authz_decision}, {@code AUTHZ_DECISION} or {@code authz-decision}. */
    public static Optional<AuditKind> parse(String text) {
        String normalized = text.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        return Arrays.stream(values()).filter(k -> k.dbName.equals(normalized)).findFirst();
    }
}
