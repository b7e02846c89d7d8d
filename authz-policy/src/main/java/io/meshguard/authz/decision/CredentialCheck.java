package io.meshguard.authz.decision;

import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.HttpRequestView;

/**
 * Reads and verifies the request's credential for a route's auth mode. The server verifies the bearer token or API key
 * the request carries; a replay of recorded decisions answers with the identity the server verified then.
 */
public interface CredentialCheck {
    AuthResult authenticate(HttpRequestView request, AuthMode mode);
}
