package io.meshguard.console;

import io.meshguard.access.SignedInToken;
import java.time.Instant;

/**
 * One signed-in browser, kept on the server only; the browser holds {@link #id} in an HttpOnly cookie.
 *
 * @param csrf the synchronizer token every form and htmx POST of this session carries
 * @param token the person's tokens from the issuer: each request is admitted with its access token
 * @param flash a one-time message for the next page (what the last action did), empty when none
 * @param secret a credential the next page shows once beside the flash (a new API key or client secret), with a copy
 *     button; empty when none
 */
public record Session(
        String id,
        String csrf,
        SignedInToken token,
        Instant signedInAt,
        Instant lastSeenAt,
        String flash,
        String secret) {

    Session touched(Instant now) {
        return new Session(id, csrf, token, signedInAt, now, flash, secret);
    }

    Session withToken(SignedInToken fresh) {
        return new Session(id, csrf, fresh, signedInAt, lastSeenAt, flash, secret);
    }

    Session withFlash(String message) {
        return new Session(id, csrf, token, signedInAt, lastSeenAt, message, secret);
    }

    Session withSecret(String shownOnce) {
        return new Session(id, csrf, token, signedInAt, lastSeenAt, flash, shownOnce);
    }
}
