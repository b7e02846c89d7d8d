package io.meshguard.dlpserver;

/** Thrown out of body processing when the message must be refused. */
final class BlockedException extends Exception {
    private final BlockDecision decision;

    BlockedException(BlockDecision decision) {
        super(decision.reason(), null, false, false);
        this.decision = decision;
    }

    BlockDecision decision() {
        return decision;
    }
}
