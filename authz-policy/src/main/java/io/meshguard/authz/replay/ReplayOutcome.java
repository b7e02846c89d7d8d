package io.meshguard.authz.replay;

import java.util.Optional;

/** What replaying one recorded decision against a draft gave. */
public sealed interface ReplayOutcome {
    /** The draft decides as the server did (same allow/deny and status). */
    record Unchanged() implements ReplayOutcome {}

    /**
     * The draft decides otherwise.
     *
     * @param rule what is responsible under the draft: the deny rule, else the route decided on, else the reason
     */
    record Flip(String from, String to, String reason, Optional<String> route, String rule) implements ReplayOutcome {}

    /** The recorded facts do not determine the draft's decision; {@code reason} says which fact is missing. */
    record NotReplayable(String reason) implements ReplayOutcome {}
}
