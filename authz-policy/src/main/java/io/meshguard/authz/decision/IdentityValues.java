package io.meshguard.authz.decision;

import io.meshguard.authz.request.Identity;
import io.meshguard.catalogmodel.IdentityText;
import java.util.List;
import java.util.Optional;

/**
 * Whether an identity can be handed to the upstream in headers without changing meaning. A value that fails is
 * refused (401 {@code invalid_claim}), never trimmed or filtered: a silently altered identity is a different
 * identity.
 *
 * <p>Allowed: visible ASCII ({@code 0x21..0x7E}) except {@code ,} — roles are joined with {@code ,} and Envoy's
 * own header map joins repeated headers with {@code ,}, so a comma inside a subject or tenant reads as two values
 * to the upstream. No whitespace at all (roles are comma-joined, scopes space-joined; surrounding whitespace is
 * trimmed by header parsers, so {@code " admin"} and {@code "admin"} would differ here and agree there), no control
 * characters (header splitting). Non-ASCII is refused too: RFC 9110 §5.5 leaves non-ASCII field values opaque, and
 * upstreams decode them differently (servlet containers as ISO-8859-1, Node as latin1, Go as raw bytes), so a UTF-8
 * subject would name a different user in each — map an ASCII claim (an id, not a display name) instead.
 */
public final class IdentityValues {
    /** Longest value accepted per item; Envoy's whole request header block is bounded (60 KiB by default). */
    public static final int MAX_LENGTH = IdentityText.MAX_LENGTH;

    private IdentityValues() {}

    /** The first problem of this identity, described for the client (never echoing the value); empty when fine. */
    public static Optional<String> problem(Identity id) {
        Optional<String> p = check("subject", id.subject());
        if (p.isEmpty() && id.tenant().isPresent()) {
            p = check("tenant", id.tenant().get());
        }
        if (p.isEmpty() && id.clientId().isPresent()) {
            p = check("client id", id.clientId().get());
        }
        if (p.isEmpty()) {
            p = checkAll("role", id.roles());
        }
        if (p.isEmpty()) {
            p = checkAll("scope", id.scopes());
        }
        return p;
    }

    private static Optional<String> checkAll(String what, List<String> values) {
        for (String v : values) {
            Optional<String> p = check(what, v);
            if (p.isPresent()) {
                return p;
            }
        }
        return Optional.empty();
    }

    /** The problem of one value headed for a header ({@code what} names it in the message); empty when fine. */
    public static Optional<String> check(String what, String value) {
        return IdentityText.problem(what, value);
    }
}
