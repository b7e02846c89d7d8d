package io.meshguard.catalogmodel.apikey;

/**
 * The key ids a replica knows to exist, so that a presented id it does not know (a made-up key, or one created a
 * moment ago whose notice has not arrived) can be told apart from one it must look up.
 */
public interface ApiKeyIds {
    /** Knows nothing: every id may exist (no database to follow, or its ids not read yet). */
    ApiKeyIds UNKNOWN = keyId -> true;

    /** False only when {@code keyId} is known not to be a stored key's id. */
    boolean mayExist(String keyId);
}
