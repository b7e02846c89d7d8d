package io.meshguard.access;

import java.io.IOException;

/**
 * Where a long-running client gets the bearer token for its next call: a fixed token, a file re-read when it changes,
 * or a confidential client's grant renewed before it expires ({@link ClientCredentialsTokens}).
 */
@FunctionalInterface
public interface BearerTokenSource {
    /**
     * A token to send now.
     *
     * @throws IOException when none can be had (the identity provider refused or is away, the file is gone)
     */
    String current() throws IOException;
}
