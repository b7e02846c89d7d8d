package io.meshguard.authz.request;

/** A request header the upstream will get. */
public record HeaderMutation(String name, String value, Mode mode) {
    public enum Mode {
        /** Replace whatever the client sent (identity, credentials). */
        OVERWRITE,
        /** Only when the client sent none (header-contract defaults). */
        ADD_IF_ABSENT
    }

    /**
     * Envoy's {@code HeaderValueOption.append_action} this mutation is sent with ({@code CheckResponses}); what
     * {@code meshguard authz check} and {@code policy test} print, so a reviewer sees that identity is overwritten.
     */
    public String appendAction() {
        return mode == Mode.OVERWRITE ? "OVERWRITE_IF_EXISTS_OR_ADD" : "ADD_IF_ABSENT";
    }
}
