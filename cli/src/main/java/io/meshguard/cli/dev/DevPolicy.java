package io.meshguard.cli.dev;

import io.meshguard.access.KeycloakClients;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.authz.policy.PolicyInvalidException;
import io.meshguard.cli.idp.ProductIdp;
import java.io.StringReader;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.representer.Representer;

/**
 * The authz policy of a local stack: the repository's {@code authz.yaml} plus the development issuer and the demo
 * route. It only ever exists as a generated file in a data directory; {@code policies/authz.yaml} itself never
 * trusts the dev issuer, so nothing built from {@code policies/} (the Kubernetes ConfigMaps) can.
 *
 * <p>The base is validated on its own first, so a mistake in it is reported against its own file and line.
 */
public final class DevPolicy {
    private final AuthzPolicyParser parser = new AuthzPolicyParser();

    /**
     * The dev policy text for {@code baseText} (read from {@code baseName}), trusting the dev issuer's keys at
     * {@code jwksUri}; with {@code productIdp}, the product routes also take its customers' clients' tokens.
     *
     * @throws PolicyInvalidException the base policy's own errors, or (should the merge ever produce one) the
     *     merged policy's
     */
    public String compose(String baseName, String baseText, URI jwksUri, Optional<ProductIdp> productIdp)
            throws PolicyInvalidException {
        parser.parse(baseName, new StringReader(baseText));
        Yaml yaml =
                new Yaml(new SafeConstructor(new LoaderOptions()), new Representer(dumperOptions()), dumperOptions());
        @SuppressWarnings("unchecked")
        Map<String, Object> root = new LinkedHashMap<>((Map<String, Object>) yaml.load(baseText));
        Object issuers = appended(root.get("issuers"), issuer(jwksUri));
        if (productIdp.isPresent()) {
            issuers = appended(issuers, customersIssuer(productIdp.get()));
        }
        root.put("issuers", issuers);
        // Appended last: routes match in order, so the demo route can never shadow a route of the base policy.
        root.put("routes", appended(appended(root.get("routes"), demoRoute()), productsRoute(productIdp)));
        String text = header(baseName, jwksUri) + yaml.dump(root);
        parser.parse("dev policy from " + baseName, new StringReader(text));
        return text;
    }

    /** The first line of every dev policy, by which a file is known to be one. */
    static final String GENERATED = "# GENERATED for local development only";

    /** Whether {@code text} is a dev policy this class wrote (and not a policy people edit). */
    public static boolean isGenerated(String text) {
        return text.startsWith(GENERATED);
    }

    /**
     * {@code draftText} as {@code up} would serve it beside {@code servedText}, the dev policy it serves now: the
     * draft plus the issuers and routes {@link #compose} added to the served one (the dev issuer, the local realm's
     * customers, {@code dev-demo}, {@code dev-products}), taken as they are served so their keys' URLs match. A
     * draft's own entry of one of those names is kept. Without them a draft copied from {@code policies/} would refuse
     * every local decision of the dev issuer (401) and rehearse nothing.
     */
    public String servedLike(String draftName, String draftText, String servedText) throws PolicyInvalidException {
        parser.parse(draftName, new StringReader(draftText));
        Yaml yaml =
                new Yaml(new SafeConstructor(new LoaderOptions()), new Representer(dumperOptions()), dumperOptions());
        @SuppressWarnings("unchecked")
        Map<String, Object> root = new LinkedHashMap<>((Map<String, Object>) yaml.load(draftText));
        @SuppressWarnings("unchecked")
        Map<String, Object> served = (Map<String, Object>) yaml.load(servedText);
        root.put(
                "issuers",
                withAdded(root.get("issuers"), served.get("issuers"), List.of(DevIssuer.NAME, ProductIdp.POLICY_NAME)));
        root.put(
                "routes",
                withAdded(
                        root.get("routes"),
                        served.get("routes"),
                        List.of(DevIssuer.DEMO_ROUTE, DevIssuer.PRODUCTS_ROUTE)));
        String text = yaml.dump(root);
        parser.parse(draftName + " as `up` serves it", new StringReader(text));
        return text;
    }

    private static List<Object> withAdded(Object draft, Object served, List<String> names) {
        List<Object> list = new ArrayList<>();
        if (draft instanceof List<?> l) {
            list.addAll(l);
        }
        java.util.Set<Object> present = new java.util.HashSet<>();
        list.forEach(e -> {
            if (e instanceof Map<?, ?> m) {
                present.add(m.get("name"));
            }
        });
        if (served instanceof List<?> entries) {
            for (Object e : entries) {
                if (e instanceof Map<?, ?> m && names.contains(m.get("name")) && !present.contains(m.get("name"))) {
                    list.add(e);
                }
            }
        }
        return list;
    }

    private static List<Object> appended(Object existing, Map<String, Object> item) {
        List<Object> list = new ArrayList<>();
        if (existing instanceof List<?> l) {
            list.addAll(l);
        }
        list.add(item);
        return list;
    }

    private static Map<String, Object> issuer(URI jwksUri) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", DevIssuer.NAME);
        m.put("issuer", DevIssuer.ISSUER);
        m.put("jwks_uri", jwksUri.toString());
        m.put("audiences", List.of(DevIssuer.AUDIENCE));
        m.put("algorithms", List.of("ES256"));
        m.put("clock_skew", "30s");
        m.put("required_claims", List.of("tenant"));
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("subject", "sub");
        claims.put("tenant", "tenant");
        claims.put("roles", "roles");
        claims.put("scopes", "scope");
        m.put("claims", claims);
        // A new key (data directory deleted) is picked up within seconds, not after the production-sized TTL.
        m.put("jwks_cache_ttl", "1m");
        m.put("jwks_refetch_min_interval", "5s");
        return m;
    }

    /**
     * The local realm's customers' clients (client-credentials tokens): the client is the caller ({@code azp}, which
     * Keycloak sets on every access token) and its application's tenant is fixed in the client ({@code tenant},
     * access KeycloakClients); only product routes name this issuer, where the subscription decides.
     */
    private static Map<String, Object> customersIssuer(ProductIdp idp) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", ProductIdp.POLICY_NAME);
        m.put("issuer", idp.issuer());
        m.put("jwks_uri", idp.jwksUri().toString());
        m.put("audiences", List.of(idp.audience()));
        m.put("algorithms", List.of("RS256"));
        m.put("clock_skew", "30s");
        m.put("required_claims", List.of(KeycloakClients.TENANT_CLAIM));
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("subject", "sub");
        claims.put("tenant", KeycloakClients.TENANT_CLAIM);
        claims.put("client_id", "azp");
        m.put("claims", claims);
        m.put("jwks_cache_ttl", "1m");
        m.put("jwks_refetch_min_interval", "5s");
        return m;
    }

    private static Map<String, Object> demoRoute() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", DevIssuer.DEMO_ROUTE);
        Map<String, Object> match = new LinkedHashMap<>();
        match.put("hosts", List.of(DevIssuer.DEMO_HOST));
        match.put("path_prefix", DevIssuer.DEMO_PATH_PREFIX);
        m.put("match", match);
        m.put("auth", "jwt");
        m.put("roles", List.of(DevIssuer.DEMO_ROLE));
        return m;
    }

    /**
     * The rule the demo's product routes name: a live subscription admits the key (extauthz's subscription gate), and
     * the rule keeps them to the local product hosts and to API keys, or, with the local Keycloak, also to its
     * customers' clients' tokens (never the dev issuer's: a dev token names no application client).
     */
    private static Map<String, Object> productsRoute(Optional<ProductIdp> productIdp) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", DevIssuer.PRODUCTS_ROUTE);
        Map<String, Object> match = new LinkedHashMap<>();
        // the demo API's own host too: products_only refuses every call there, which no subscription covers
        match.put("hosts", List.of(DevIssuer.PRODUCTS_HOSTS, DevIssuer.DEMO_HOST));
        match.put("path_prefix", "/payments");
        match.put("methods", List.of("GET", "POST"));
        m.put("match", match);
        if (productIdp.isPresent()) {
            m.put("auth", "jwt_or_apikey");
            m.put("issuers", List.of(ProductIdp.POLICY_NAME));
        } else {
            m.put("auth", "apikey");
        }
        m.put("products_only", true);
        return m;
    }

    private static String header(String baseName, URI jwksUri) {
        return GENERATED + "; edits here are overwritten. Source: " + baseName + "\n"
                + "# plus issuer '" + DevIssuer.NAME + "' (" + DevIssuer.ISSUER + ", keys at " + jwksUri + ")\n"
                + "# and route '" + DevIssuer.DEMO_ROUTE + "' (" + DevIssuer.DEMO_HOST + DevIssuer.DEMO_PATH_PREFIX
                + "*, role " + DevIssuer.DEMO_ROLE + ") and '" + DevIssuer.PRODUCTS_ROUTE + "' ("
                + DevIssuer.PRODUCTS_HOSTS
                + ", API keys of live subscriptions). Never ship this file: anyone holding the dev key passes it.\n";
    }

    private static DumperOptions dumperOptions() {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndent(2);
        options.setIndicatorIndent(0);
        options.setWidth(120);
        return options;
    }
}
