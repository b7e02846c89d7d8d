package io.meshguard.xds.server;

import io.meshguard.contract.peer.ClientText;
import io.meshguard.contract.peer.SpiffeIdPattern;

/**
 * One reviewed line of {@code xds.ads.group_identities}: the gateway group {@code group} may be read by a peer whose
 * verified SPIFFE ID matches {@code identity}. Written {@code group=spiffe://...}.
 */
public record GroupGrant(String group, SpiffeIdPattern identity) {

    public GroupGrant {
        if (group.isBlank()) {
            throw new IllegalArgumentException("a group grant needs a group name");
        }
    }

    /** Parses {@code group=spiffe://td/ns/NS/sa/SA}. */
    public static GroupGrant parse(String text) {
        int eq = text.indexOf('=');
        if (eq <= 0) {
            throw new IllegalArgumentException("'" + ClientText.escape(text, 200)
                    + "' is not group=spiffe://<trust domain>/ns/<namespace>/sa/<service account>");
        }
        return new GroupGrant(
                text.substring(0, eq).trim(),
                new SpiffeIdPattern(text.substring(eq + 1).trim()));
    }

    @Override
    public String toString() {
        return group + "=" + identity;
    }
}
