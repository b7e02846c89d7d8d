package io.meshguard.audit.als;

/** An access-log entry that cannot become an audit event (missing request, missing or invalid time). */
public final class MalformedEntryException extends Exception {
    private static final long serialVersionUID = 1L;

    public MalformedEntryException(String message) {
        super(message);
    }
}
