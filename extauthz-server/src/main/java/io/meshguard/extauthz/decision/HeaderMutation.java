package io.meshguard.extauthz.decision;

/** A request header the upstream will get. */
public record HeaderMutation(String name, String value, Mode mode) {
    public enum Mode {
        /** Replace whatever the client sent (identity, credentials). */
        OVERWRITE,
        /** Only when the client sent none (header-contract defaults). */
        ADD_IF_ABSENT
    }
}
