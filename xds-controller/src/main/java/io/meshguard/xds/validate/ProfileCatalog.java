package io.meshguard.xds.validate;

import io.meshguard.authz.policy.AuthMode;
import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyFiles;
import io.meshguard.authz.policy.OwnedHeaders;
import io.meshguard.authz.policy.RouteMatch;
import io.meshguard.authz.policy.RoutePolicy;
import io.meshguard.dlp.policy.DlpPolicy;
import io.meshguard.dlp.policy.DlpPolicyFiles;
import io.meshguard.runtime.policy.PolicyFiles;
import io.meshguard.runtime.policy.PolicyInvalidException;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The names a gateway route may hand over (docs/route-contract.md): the rules of {@code authz.yaml} (what
 * extauthz-server accepts as {@code meshguard.authz_profile}) and the profiles of {@code dlp.yaml} (what the DLP
 * server accepts as {@code x-meshguard-dlp-profile}), taken from policies parsed by the servers' own parsers.
 *
 * @param authzRules each rule's match (its methods and hosts still apply to a gateway route that names it)
 * @param authzSource the authz.yaml the rules came from, for messages
 * @param dlpSource the dlp.yaml the profiles came from, for messages
 * @param ownedHeaders the request headers the authz policy owns (extauthz's {@link OwnedHeaders}): no route may set
 *     or remove them
 * @param productsOnlyRules the rules with {@code products_only: true} (they admit product routes only)
 * @param ruleAuth each rule's {@code auth} (which credentials it admits at all)
 */
public record ProfileCatalog(
        Map<String, RouteMatch> authzRules,
        Set<String> dlpProfiles,
        String authzSource,
        String dlpSource,
        Set<String> ownedHeaders,
        Set<String> productsOnlyRules,
        Map<String, AuthMode> ruleAuth) {
    public static final String AUTHZ_FILE = "authz.yaml";
    public static final String DLP_FILE = "dlp.yaml";

    public ProfileCatalog {
        authzRules = Map.copyOf(authzRules);
        dlpProfiles = Set.copyOf(dlpProfiles);
        ownedHeaders = Set.copyOf(ownedHeaders);
        productsOnlyRules = Set.copyOf(productsOnlyRules);
        ruleAuth = Map.copyOf(ruleAuth);
    }

    /** The names a route may give as its authz profile. */
    public Set<String> authzProfiles() {
        return authzRules.keySet();
    }

    public static ProfileCatalog of(AuthzPolicy authz, String authzSource, DlpPolicy dlp, String dlpSource) {
        Map<String, RouteMatch> rules = new LinkedHashMap<>();
        Set<String> productsOnly = new TreeSet<>();
        Map<String, AuthMode> auth = new LinkedHashMap<>();
        for (RoutePolicy r : authz.routes()) {
            if (rules.putIfAbsent(r.name(), r.match()) == null) {
                auth.put(r.name(), r.auth());
                if (r.options().productsOnly()) {
                    productsOnly.add(r.name());
                }
            }
        }
        Set<String> profiles = new TreeSet<>();
        for (DlpPolicy.Profile p : dlp.profiles()) {
            profiles.add(p.name());
        }
        return new ProfileCatalog(
                rules, profiles, authzSource, dlpSource, OwnedHeaders.of(authz).owned(), productsOnly, auth);
    }

    /**
     * Reads {@code authz.yaml} and {@code dlp.yaml} of a policy directory once, as the servers read them (for the
     * CLI; the controller keeps them loaded with {@code PolicyProfiles}).
     *
     * @throws PolicyInvalidException with file:line errors when either file does not validate
     */
    public static ProfileCatalog read(Path dir) throws PolicyInvalidException, IOException {
        Path authzFile = dir.resolve(AUTHZ_FILE);
        Path dlpFile = dir.resolve(DLP_FILE);
        AuthzPolicy authz = new AuthzPolicyFiles().parse(PolicyFiles.read(authzFile));
        DlpPolicy dlp = new DlpPolicyFiles().parse(PolicyFiles.read(dlpFile));
        return of(authz, authzFile.toString(), dlp, dlpFile.toString());
    }
}
