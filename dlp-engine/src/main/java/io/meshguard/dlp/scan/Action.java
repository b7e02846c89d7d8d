package io.meshguard.dlp.scan;

/**
 * An action with its parameters.
 *
 * @param kind what to do
 * @param keepLast for MASK: how many trailing letters/digits stay readable
 * @param maskChar for MASK: the replacement character
 * @param template for REDACT and HASH: the replacement text; {@code {detector}} and {@code {hash}} are filled in
 */
public record Action(ActionKind kind, int keepLast, char maskChar, String template) {
    public static Action of(ActionKind kind) {
        return switch (kind) {
            case MASK -> new Action(kind, 4, '*', "");
            case REDACT -> new Action(kind, 0, '*', "[REDACTED:{detector}]");
            case HASH -> new Action(kind, 0, '*', "[{detector}:{hash}]");
            default -> new Action(kind, 0, '*', "");
        };
    }
}
