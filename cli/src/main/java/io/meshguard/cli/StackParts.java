package io.meshguard.cli;

import java.util.List;

/** The servers {@code meshguard up} runs, in start order. Each server's issue adds its part here. */
final class StackParts {
    private StackParts() {}

    static List<StackPart> all() {
        return List.of();
    }
}
