package io.meshguard.runtime.yaml;

/**
 * A YAML document that cannot be used: a syntax error, a duplicate key, a value of the wrong type, a missing
 * or unknown key. The message reads {@code authz.yaml:12: reason} so people can jump to the line.
 */
public final class InvalidYamlException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String sourceName;
    private final int line;
    private final String reason;

    /**
     * @param sourceName file name shown to people, e.g. {@code authz.yaml}
     * @param line 1-based line, or 0 when the problem has no line (e.g. the document is too large)
     * @param reason what is wrong, without the location
     */
    public InvalidYamlException(String sourceName, int line, String reason) {
        super(format(sourceName, line, reason));
        this.sourceName = sourceName;
        this.line = line;
        this.reason = reason;
    }

    /** The file name given to {@link YamlDocument#parse(String, String)}. */
    public String sourceName() {
        return sourceName;
    }

    /** 1-based line of the offending node, 0 when unknown. */
    public int line() {
        return line;
    }

    /** What is wrong, without the location prefix. */
    public String reason() {
        return reason;
    }

    /** {@code file:line}, or just {@code file} when the line is unknown. */
    public String location() {
        return line > 0 ? sourceName + ":" + line : sourceName;
    }

    private static String format(String sourceName, int line, String reason) {
        return (line > 0 ? sourceName + ":" + line : sourceName) + ": " + reason;
    }
}
