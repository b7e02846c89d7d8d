package io.meshguard.runtime.http;

/**
 * What went wrong with an admin request, and the one HTTP status each kind is answered with on every admin port (the
 * table docs/problem-codes.md shows; {@code AdminStatusTableTest} holds the two together). A handler refuses with a
 * kind, never with a number of its own choosing, so two APIs on one port cannot answer the same mistake differently.
 */
public enum ErrorKind {
    MALFORMED(
            400,
            "the request cannot be read: not JSON, not a JSON object, a field of the wrong type, a path or query value"
                    + " that does not parse"),
    UNAUTHENTICATED(401, "no valid credential; answered with WWW-Authenticate: Bearer"),
    FORBIDDEN(
            403,
            "authenticated, but no grant carries the route's permission at its scope, or a tenant not the caller's"),
    NOT_FOUND(404, "no such object, or another tenant's (the same answer), or no route for the path"),
    METHOD_NOT_ALLOWED(405, "the path has routes, none for this method; the Allow header lists them"),
    CONFLICT(409, "the object's state refuses it now: a lifecycle move not allowed, a concurrent or stale change"),
    TOO_LARGE(413, "the body is longer than the operation reads"),
    UNSUPPORTED_MEDIA_TYPE(415, "a body sent with a Content-Type other than application/json"),
    INVALID(
            422,
            "readable, but refused: a required field missing, a field out of range, a name or state that is not allowed"),
    INTERNAL(500, "a fault of the server; its log has it under the request id"),
    UNAVAILABLE(503, "a store or the identity provider cannot be reached; nothing was changed");

    private final int status;
    private final String meaning;

    ErrorKind(int status, String meaning) {
        this.status = status;
        this.meaning = meaning;
    }

    public int status() {
        return status;
    }

    /** When a request is refused with this kind, as the documented table says it. */
    public String meaning() {
        return meaning;
    }
}
