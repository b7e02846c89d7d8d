package io.meshguard.extauthz.audit;

/**
 * Where decisions are recorded. Must not block the Check call: implementations queue and write elsewhere. Adapt
 * the audit module's writer to this with one lambda.
 */
@FunctionalInterface
public interface DecisionSink {
    void record(AuthzDecisionEvent event);

    /** Records nothing (neither an audit database nor the decision log is configured; logged at start). */
    DecisionSink NONE = event -> {};
}
