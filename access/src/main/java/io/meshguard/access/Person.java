package io.meshguard.access;

import java.util.Objects;

/**
 * Who a person is for separation of duties (four eyes, manual subscription approval): the verified subject, never the
 * display name, which a realm may leave out or let its user change.
 *
 * @param id {@code oidc <issuer> <sub>} for a signed-in person, {@code token <name>} or {@code break-glass <name>} for
 *     the token file's entries
 * @param name what the trail shows ({@link AdminCaller#actor()})
 * @param method how the person authenticated: break-glass is the platform's shared key, never a second person
 */
public record Person(String id, String name, AuthMethod method) {
    public Person {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(method, "method");
    }

    /** Whether this person may be the second person on someone else's change. */
    public boolean maySecond() {
        return method != AuthMethod.BREAK_GLASS;
    }
}
