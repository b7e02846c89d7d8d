package io.meshguard.dlp.scan;

import java.util.List;

/**
 * Words near a match that change its confidence: any boost word within {@code within} characters before or after
 * adds {@code boost}; any penalty word subtracts {@code penalty}. ASCII words match case-insensitively on word
 * boundaries; other words (Korean) match anywhere, since particles attach to them. The scan compiles every rule's
 * words once ({@link ContextWords}) and finds them through a per-stream index ({@link ContextIndex}).
 */
public record ContextRule(
        List<String> boostWords, List<String> penaltyWords, int within, double boost, double penalty) {
    public static final ContextRule NONE = new ContextRule(List.of(), List.of(), 0, 0, 0);

    public ContextRule {
        boostWords = List.copyOf(boostWords);
        penaltyWords = List.copyOf(penaltyWords);
    }
}
