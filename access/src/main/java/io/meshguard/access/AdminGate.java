package io.meshguard.access;

import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.BearerTokens;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The door of every admin surface: who is calling (OIDC access token, or the static token file as local mode or
 * break-glass), then the one {@link PermissionCheck} for the route's permission at its scope. Every refusal and
 * every break-glass use is an {@link AdminEvent}.
 * <ul>
 *   <li>No issuer configured (plain {@code meshguard up}): the token file is the way in, its holder system-admin.</li>
 *   <li>An issuer configured: only its access tokens, roles from the access file; the token file is off unless
 *       {@code admin.break_glass: true}, and then each use logs at WARN.</li>
 * </ul>
 */
public final class AdminGate {
    /** The answer for one request. */
    public sealed interface Admission permits Admitted, Refused {}

    public record Admitted(AdminCaller caller, Decision decision) implements Admission {}

    /** {@code challenge}: answer with {@code WWW-Authenticate: Bearer} (401). */
    public record Refused(int status, String message, boolean challenge) implements Admission {}

    private final Optional<AdminTokenVerifier> oidc;
    private final PermissionCheck check;
    private final RoleBindings bindings;
    private final BearerTokens tokens;
    private final boolean breakGlass;
    private final AdminEvents events;
    private final Clock clock;
    private final String tokenFileKey;
    private final SignInEvents signIns;

    /**
     * @param tokenFileKey the configuration key of the token file, named in refusals
     *        ({@code xds.admin.token_file}, {@code quota.admin.token_file})
     */
    public AdminGate(
            Optional<AdminTokenVerifier> oidc,
            RoleBindings bindings,
            BearerTokens tokens,
            boolean breakGlass,
            AdminEvents events,
            Clock clock,
            String tokenFileKey) {
        this.tokenFileKey = tokenFileKey;
        this.oidc = oidc;
        this.bindings = bindings;
        this.check = new PermissionCheck(bindings);
        this.tokens = tokens;
        this.breakGlass = breakGlass;
        this.events = events;
        this.clock = clock;
        this.signIns = new SignInEvents(events, clock);
    }

    /**
     * The tenants an admitted caller acts for in an operation needing {@code permission}: every tenant for the token
     * file's holders and for a grant carrying it at system scope, else the tenants of the grants that carry it.
     */
    public TenantScope tenantsOf(AdminCaller caller, String permission) {
        if (caller.method() != AuthMethod.OIDC) {
            return TenantScope.ALL;
        }
        java.util.Set<String> tenants = new java.util.TreeSet<>();
        for (RoleGrant g : caller.grants()) {
            if (!bindings.permissionsOf(g.role()).contains(permission)) {
                continue;
            }
            if (g.scope().kind().equals("system")) {
                return TenantScope.ALL;
            }
            if (g.scope().kind().equals("tenant")
                    && TenantScope.validId(g.scope().name())) {
                tenants.add(g.scope().name());
            }
        }
        return TenantScope.of(tenants);
    }

    /**
     * Whether an admitted {@code caller} holds {@code permission} at {@code scope}, by the same check {@link #admit}
     * makes: a console shows only the actions this allows (and {@link #admit} refuses the others anyway).
     */
    public boolean permits(AdminCaller caller, String permission, Scope scope) {
        return check.decide(caller, permission, scope).allowed();
    }

    /** Whether an issuer is configured: people sign in through it (else the token file is the way in). */
    public boolean hasIssuer() {
        return oidc.isPresent();
    }

    /** Local mode: the token file only (no issuer), as plain {@code meshguard up} runs. */
    public static AdminGate local(BearerTokens tokens, String tokenFileKey) {
        return new AdminGate(
                Optional.empty(),
                RoleBindings.none(),
                tokens,
                false,
                new LoggedAdminEvents(),
                Clock.systemUTC(),
                tokenFileKey);
    }

    /**
     * People only: tokens of the one issuer {@code verifier} checks, their permissions from {@code bindings}; no token
     * file and no break glass (a deployment whose token file is empty).
     */
    public static AdminGate people(
            AdminTokenVerifier verifier, RoleBindings bindings, AdminEvents events, String tokenFileKey) {
        return new AdminGate(
                Optional.of(verifier),
                bindings,
                new BearerTokens(Optional.empty()),
                false,
                events,
                Clock.systemUTC(),
                tokenFileKey);
    }

    /** What a refusal should tell the operator about how to get in. */
    public String howToSignIn() {
        if (oidc.isPresent()) {
            return "send 'Authorization: Bearer ACCESS_TOKEN' with an access token from "
                    + oidc.get().settings().issuer() + " for audience "
                    + oidc.get().settings().audience()
                    + " (meshguard login)";
        }
        return "send 'Authorization: Bearer TOKEN' with a token from " + tokenFileKey + " (a bare line, or the part"
                + " after 'name:'; the whole 'name:token' line works too)";
    }

    /** The issuer's discovery or keys could not be fetched: no token of it can be checked now. */
    private static final class IssuerUnavailable extends RuntimeException {
        private static final long serialVersionUID = 1L;

        IssuerUnavailable(String reason) {
            super(reason);
        }
    }

    public Admission admit(
            String authorization, String source, String requestId, AdminRoute route, List<String> segments) {
        try {
            return admitOrThrow(authorization, source, requestId, route, segments);
        } catch (IssuerUnavailable e) {
            return new Refused(
                    503,
                    "the identity provider cannot be reached to check the token, nothing is allowed " + "meanwhile: "
                            + e.getMessage(),
                    false);
        }
    }

    private Admission admitOrThrow(
            String authorization, String source, String requestId, AdminRoute route, List<String> segments) {
        String action = route.method() + " " + route.path();
        String target = "/" + String.join("/", segments);
        if (oidc.isEmpty() && !tokens.configured()) {
            return new Refused(
                    503,
                    "admin API disabled: neither an OIDC issuer (admin.oidc.issuer) nor a token " + "file ("
                            + tokenFileKey + ") is configured",
                    false);
        }
        Optional<String> bearer = bearer(authorization);
        if (bearer.isEmpty()) {
            signInFailed("anonymous", "none", source, requestId, action, target, "refused 401: no bearer token");
            return new Refused(401, "a bearer token is required: " + howToSignIn(), true);
        }
        Optional<AdminCaller> caller = identify(bearer.get(), source, requestId, action, target);
        if (caller.isEmpty()) {
            return new Refused(401, "the bearer token is not valid: " + howToSignIn(), true);
        }
        AdminCaller c = caller.get();
        Scope scope = route.scope().apply(segments);
        Decision d = check.decide(c, route.permission(), scope);
        if (!d.allowed()) {
            refused(c.actor(), c.method().label(), source, requestId, action, target, "refused 403: " + d.reason());
            return new Refused(
                    403, "permission " + route.permission() + " at " + scope + " is required: " + d.reason(), false);
        }
        if (c.method() == AuthMethod.BREAK_GLASS) {
            events.record(new AdminEvent(
                    clock.instant(),
                    c.actor(),
                    c.method().label(),
                    d.roleUsed(),
                    "",
                    source,
                    requestId,
                    action,
                    target,
                    "allowed (break-glass)",
                    "",
                    ""));
        }
        return new Admitted(c, d);
    }

    /** The client of calls to the issuer (its TLS trust), when the gate verifies an issuer's tokens. */
    public Optional<java.net.http.HttpClient> identityProviderClient() {
        return oidc.map(AdminTokenVerifier::identityProviderClient);
    }

    /**
     * Authentication alone, for a path no route serves: a caller without a valid credential learns nothing about
     * which paths exist (401 before 404).
     */
    public Optional<Refused> authenticateOnly(String authorization, String source, String requestId, String target) {
        return switch (authenticate(authorization, source, requestId, target)) {
            case Admitted a -> Optional.empty();
            case Refused r -> Optional.of(r);
        };
    }

    /**
     * Who the caller is, without any permission check: for a page that only chooses where a caller goes next (the
     * console's landing page). Nothing is admitted by it; every operation still goes through {@link #admit}.
     */
    public Admission authenticate(String authorization, String source, String requestId, String target) {
        if (oidc.isEmpty() && !tokens.configured()) {
            return new Refused(
                    503,
                    "admin API disabled: neither an OIDC issuer (admin.oidc.issuer) nor" + " a token file ("
                            + tokenFileKey + ") is configured",
                    false);
        }
        Optional<String> bearer = bearer(authorization);
        try {
            Optional<AdminCaller> caller = bearer.isEmpty()
                    ? Optional.empty()
                    : identify(bearer.get(), source, requestId, "unknown operation", target);
            return caller.<Admission>map(c -> new Admitted(c, new Decision(true, "authenticated", "")))
                    .orElseGet(() -> new Refused(401, "a valid bearer token is required: " + howToSignIn(), true));
        } catch (IssuerUnavailable e) {
            return new Refused(
                    503, "the identity provider cannot be reached to check the token: " + e.getMessage(), false);
        }
    }

    private Optional<AdminCaller> identify(
            String token, String source, String requestId, String action, String target) {
        boolean jwtShaped = token.chars().filter(ch -> ch == '.').count() == 2;
        if (oidc.isPresent() && jwtShaped) {
            AdminTokenVerifier.Result r = oidc.get().verify(token);
            if (r instanceof AdminTokenVerifier.Verified v) {
                Map<String, Object> claims = v.claims();
                String sub = String.valueOf(claims.get("sub"));
                String name = claims.get("preferred_username") instanceof String s ? s : sub;
                AdminCaller caller = new AdminCaller(
                        sub,
                        name,
                        AuthMethod.OIDC,
                        bindings.grantsFrom(claims),
                        source,
                        requestId,
                        String.valueOf(claims.get("iss")));
                signIns.succeeded(caller, claims);
                return Optional.of(caller);
            }
            AdminTokenVerifier.Rejected rej = (AdminTokenVerifier.Rejected) r;
            signInFailed(
                    "unverified",
                    AuthMethod.OIDC.label(),
                    source,
                    requestId,
                    action,
                    target,
                    (rej.unavailable() ? "refused 503: " : "refused 401: ") + rej.reason());
            if (rej.unavailable()) {
                // the IdP is away, not the caller wrong: fail closed, and say so (503, not a misleading 401)
                throw new IssuerUnavailable(rej.reason());
            }
            return Optional.empty();
        }
        if (oidc.isPresent() && !breakGlass) {
            signInFailed(
                    "unverified",
                    "token-file",
                    source,
                    requestId,
                    action,
                    target,
                    "refused 401: the token file is off while an issuer is configured (admin.break_glass: false)");
            return Optional.empty();
        }
        Optional<String> name = tokens.authenticate("Bearer " + token);
        if (name.isEmpty()) {
            signInFailed("unverified", "token-file", source, requestId, action, target, "refused 401: unknown token");
            return Optional.empty();
        }
        AuthMethod method = oidc.isPresent() ? AuthMethod.BREAK_GLASS : AuthMethod.LOCAL;
        return Optional.of(new AdminCaller(
                name.get(),
                name.get(),
                method,
                List.of(new RoleGrant("system-admin", Scope.SYSTEM, "token file")),
                source,
                requestId));
    }

    private void refused(
            String actor,
            String method,
            String source,
            String requestId,
            String action,
            String target,
            String outcome) {
        events.record(new AdminEvent(
                clock.instant(), actor, method, "", "", source, requestId, action, target, outcome, "", ""));
    }

    /** A failed sign-in: recorded through the per-source limit of {@link SignInEvents}. */
    private void signInFailed(
            String actor,
            String method,
            String source,
            String requestId,
            String action,
            String target,
            String outcome) {
        signIns.failed(new AdminEvent(
                clock.instant(), actor, method, "", "", source, requestId, action, target, outcome, "", ""));
    }

    private static Optional<String> bearer(String authorization) {
        // RFC 6750 §2.1 / RFC 7235 §2.1: the scheme is case-insensitive; one space, then the token.
        if (authorization == null
                || authorization.length() < 8
                || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        String token = authorization.substring(7).strip();
        return token.isEmpty() ? Optional.empty() : Optional.of(token);
    }
}
