package io.meshguard.catalog;

import java.util.Optional;

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

    /**
     * The problem code of an application name its tenant already uses, documented in {@code docs/problem-codes.md}:
     * a name is what the console's and the portal's dropdowns show, so two alike could not be told apart there.
     */
    public static final String APPLICATION_NAME_TAKEN = "MG-APPLICATION-001";

    private final Kind kind;
    private final transient Optional<String> code;

    public CatalogRefusal(Kind kind, String message) {
        this(kind, Optional.empty(), message);
    }

    private CatalogRefusal(Kind kind, Optional<String> code, String message) {
        super(message);
        this.kind = kind;
        this.code = code;
    }

    public Kind kind() {
        return kind;
    }

    /** The problem code tooling can match on, where the refusal has one. */
    public Optional<String> code() {
        return code;
    }

    static CatalogRefusal applicationNameTaken(String tenant, String name, String holder) {
        return new CatalogRefusal(
                Kind.CONFLICT,
                Optional.of(APPLICATION_NAME_TAKEN),
                "tenant " + tenant + " already has an application named '" + name + "' (" + holder
                        + "); names are compared without regard to case");
    }

    /** Two changes raced for one name and the database's unique index refused the later one. */
    static CatalogRefusal applicationNameTakenMeanwhile() {
        return new CatalogRefusal(
                Kind.CONFLICT,
                Optional.of(APPLICATION_NAME_TAKEN),
                "another application of the tenant took that name meanwhile; choose another");
    }

    static CatalogRefusal notFound(String what, String id) {
        return new CatalogRefusal(Kind.NOT_FOUND, what + " " + id + " not found");
    }
}
