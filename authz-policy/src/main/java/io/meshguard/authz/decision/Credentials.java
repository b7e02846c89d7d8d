package io.meshguard.authz.decision;

import io.meshguard.authz.apikey.ApiKeyAuthenticator;
import io.meshguard.authz.jwt.JwtAuthenticator;
import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Reason;
import java.util.List;
import java.util.Optional;

/**
 * Reads the request's credential for a route's auth mode: a bearer token (preferred when the mode takes both) or an
 * API key, each sent once, and hands it to its authenticator.
 */
final class Credentials implements CredentialCheck {
    private final AuthzPolicy policy;
    private final JwtAuthenticator jwt;
    private final Optional<ApiKeyAuthenticator> apiKeys;

    Credentials(AuthzPolicy policy, JwtAuthenticator jwt, Optional<ApiKeyAuthenticator> apiKeys) {
        this.policy = policy;
        this.jwt = jwt;
        this.apiKeys = apiKeys;
    }

    @Override
    public AuthResult authenticate(HttpRequestView request, AuthMode mode) {
        List<String> authz = request.all("authorization");
        List<String> keys = request.all(policy.apiKeyHeader());
        boolean useJwt = mode.acceptsJwt() && !authz.isEmpty();
        boolean useKey = !useJwt && mode.acceptsApiKey() && !keys.isEmpty();
        if (useJwt) {
            if (request.repeated("authorization")) {
                return new AuthResult.Rejected(Reason.DUPLICATE_CREDENTIAL, "more than one Authorization header");
            }
            String value = authz.get(0).trim();
            int space = value.indexOf(' ');
            if (space < 0 || !value.substring(0, space).equalsIgnoreCase("bearer")) {
                return new AuthResult.Rejected(Reason.INVALID_TOKEN, "Authorization must use the Bearer scheme");
            }
            String token = value.substring(space + 1).trim();
            if (token.isEmpty()) {
                return new AuthResult.Rejected(Reason.MISSING_CREDENTIAL, "bearer token is empty");
            }
            if (token.length() > policy.tokenMaxBytes()) {
                return new AuthResult.Rejected(
                        Reason.TOKEN_TOO_LARGE, "token exceeds " + policy.tokenMaxBytes() + " bytes");
            }
            return jwt.authenticate(token);
        }
        if (useKey) {
            if (keys.size() > 1) {
                return new AuthResult.Rejected(Reason.DUPLICATE_CREDENTIAL, "more than one API key header");
            }
            if (apiKeys.isEmpty()) {
                return new AuthResult.Rejected(Reason.API_KEY_STORE_UNAVAILABLE, "API keys cannot be checked here");
            }
            // the client, as rate limits see it: wrong secrets are budgeted per key id and client
            return apiKeys.get()
                    .authenticate(
                            keys.get(0),
                            ClientAddress.of(request, policy.mesh()).orElse(""));
        }
        return new AuthResult.Rejected(
                Reason.MISSING_CREDENTIAL,
                switch (mode) {
                    case JWT -> "bearer token required";
                    case APIKEY -> "API key required";
                    default -> "bearer token or API key required";
                });
    }
}
