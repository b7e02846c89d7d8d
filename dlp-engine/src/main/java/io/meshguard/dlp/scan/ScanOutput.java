package io.meshguard.dlp.scan;

/**
 * Receives a scanner's decisions in stream order: original bytes that pass, replacements for findings, and at most
 * one block. Bytes handed to {@link #pass} are only valid during the call.
 */
public interface ScanOutput {
    void pass(byte[] bytes, int off, int len);

    /**
     * The original bytes {@code [finding.start(), finding.end())} are replaced by {@code replacement}, which is only
     * valid during the call (a redaction's bytes are shared by all its findings).
     */
    void replace(Finding finding, byte[] replacement);

    /** The scan hit a blocking finding; nothing after it will be produced. */
    void block(Finding finding);

    /** A finding whose action leaves the bytes in place (alert); they follow through {@link #pass}. */
    default void alert(Finding finding) {}
}
