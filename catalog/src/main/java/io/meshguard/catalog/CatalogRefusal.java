package io.meshguard.catalog;

/**
 * A catalogue change refused for a reason the caller can act on; {@link Kind} says which HTTP answer it is. Objects of
 * other tenants are {@link Kind#NOT_FOUND}, never forbidden, so a caller cannot tell them from none.
 */
public final class CatalogRefusal extends RuntimeException {

    /** What kind of refusal, for the API's status code. */
    public enum Kind {
        /** 404: absent, or another tenant's. */
        NOT_FOUND,
        /** 409: the object's state does not allow it (a closed plan, a second subscription, …). */
        CONFLICT,
        /** 422: the request names things that do not fit together (a plan of another product, …). */
        INVALID,
        /** 403: this person may not do it although the role may (the requester approving its own subscription). */
        FORBIDDEN
    }

    private final Kind kind;

    public CatalogRefusal(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    static CatalogRefusal notFound(String what, String id) {
        return new CatalogRefusal(Kind.NOT_FOUND, what + " " + id + " not found");
    }
}
