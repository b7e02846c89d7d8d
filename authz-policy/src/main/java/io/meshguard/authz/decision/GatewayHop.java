package io.meshguard.authz.decision;

import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.policy.IdentityHeaders;
import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.HttpRequestView;
import io.meshguard.authz.request.Identity;
import io.meshguard.authz.request.Reason;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The identity a trusted edge gateway's meshguard check handed on in the identity headers, read back at the
 * workload's sidecar for the re-decision. The gateway overwrote every one of these headers and stripped the client's
 * credential, so the values are its verdict, not the client's words — which is why this is only ever called once the
 * peer is known to be a trusted gateway. The identity must be of a kind the workload's route accepts.
 */
final class GatewayHop {
    private GatewayHop() {}

    static AuthResult identity(HttpRequestView request, IdentityHeaders names, AuthMode mode) {
        for (String n : names.all()) {
            if (request.all(n).size() > 1) {
                return new AuthResult.Rejected(Reason.DUPLICATE_HEADER, "identity header sent more than once: " + n);
            }
        }
        String method = request.first(names.authMethod()).orElse("");
        boolean accepted =
                switch (method) {
                    case "jwt" -> mode.acceptsJwt();
                    case "apikey" -> mode.acceptsApiKey();
                    case MeshCaller.MTLS -> mode == AuthMode.MTLS;
                    default -> false;
                };
        if (!accepted) {
            return new AuthResult.Rejected(
                    Reason.MISSING_CREDENTIAL,
                    method.isEmpty() || method.equals("none")
                            ? "the gateway forwarded no authenticated identity"
                            : "the gateway authenticated a credential this route does not accept");
        }
        String subject = method.equals(MeshCaller.MTLS)
                ? request.first(names.callerPrincipal()).orElse("")
                : request.first(names.subject()).orElse("");
        if (subject.isBlank()) {
            return new AuthResult.Rejected(Reason.MISSING_CREDENTIAL, "the gateway forwarded no subject");
        }
        Identity id = new Identity(
                subject.trim(),
                nonBlank(request.first(names.tenant())),
                split(request.first(names.roles()), ','),
                split(request.first(names.scopes()), ' '),
                nonBlank(request.first(names.clientId())),
                method,
                request.first(names.issuer()).map(String::trim).orElse("gateway"),
                Optional.empty(),
                nonBlank(request.first(names.credentialId())));
        return new AuthResult.Authenticated(id, false);
    }

    private static Optional<String> nonBlank(Optional<String> v) {
        return v.map(String::trim).filter(s -> !s.isEmpty());
    }

    private static List<String> split(Optional<String> v, char separator) {
        List<String> out = new ArrayList<>();
        if (v.isPresent()) {
            for (String part : v.get().split(separator == ' ' ? "\\s+" : ",")) {
                String t = part.trim();
                if (!t.isEmpty()) {
                    out.add(t);
                }
            }
        }
        return List.copyOf(out);
    }
}
