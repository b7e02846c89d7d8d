package io.meshguard.dlpserver;

import io.meshguard.dlp.scan.Finding;
import java.util.Optional;

/**
 * Why a message is refused: a blocking finding, or a body the policy does not let through unscanned
 * ({@code non_text}, {@code oversize}, {@code unknown_encoding}, {@code corrupt_encoding}).
 */
record BlockDecision(String reason, Optional<Finding> finding) {
    static BlockDecision of(Finding f) {
        return new BlockDecision("finding", Optional.of(f));
    }

    static BlockDecision because(String reason) {
        return new BlockDecision(reason, Optional.empty());
    }
}
