package io.meshguard.dlp.content;

/**
 * A body part that cannot be scanned and whose profile does not let it through unscanned: a binary part where the
 * profile says {@code non_text: block}, a charset or transfer encoding nobody decodes, a gRPC frame that cannot be
 * rewritten. The server answers it like a blocking finding (an immediate 4xx), with {@link #reason()} as the reason.
 */
public final class ContentRefused extends RuntimeException {
    private final String reason;

    public ContentRefused(String reason) {
        super(reason, null, false, false);
        this.reason = reason;
    }

    public String reason() {
        return reason;
    }
}
