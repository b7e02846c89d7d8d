package io.meshguard.cli.idp;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code meshguard} realm {@code up --idp keycloak} imports: a confidential client for the console, the public
 * client {@code meshguard-cli} (device grant; and, in this local realm only, the password grant so scripts and tests
 * can act as each persona), an audience mapper so access tokens carry the admin audience, a {@code groups} claim
 * (group names, not paths: what policies/access.yaml's {@code claims: [groups]} matches), and one demo user per role:
 * the platform roles once, the tenant roles in {@code acme} and in {@code globex}; and the catalogue's provisioning
 * client, which creates customers' OAuth2 clients. Passwords and secrets are random at each start.
 *
 * <p>A production realm is set up by the identity team instead (docs/operate/onboard-a-tenant.md, "Access control"): no
 * password grant, no demo users.
 */
public record LocalRealm(
        String name,
        String audience,
        String consoleClient,
        String consoleSecret,
        String cliClient,
        String provisionerSecret,
        List<DemoUser> users) {
    public static final String NAME = "meshguard";
    public static final String CLI_CLIENT = "meshguard-cli";
    public static final String CONSOLE_CLIENT = "meshguard-console";
    /** The catalogue's provisioning client: creates customers' OAuth2 clients (service account, manage-clients only). */
    public static final String PROVISIONER_CLIENT = "meshguard-provisioner";
    /** The audience customers' clients' access tokens carry: what extauthz's local issuer for product routes expects. */
    public static final String PRODUCTS_AUDIENCE = "meshguard-products";
    /** Tenants of the demo users. */
    public static final List<String> TENANTS = List.of("acme", "globex");

    private static final SecureRandom RANDOM = new SecureRandom();

    public LocalRealm {
        users = List.copyOf(users);
    }

    /**
     * A fresh realm: new passwords and secret.
     *
     * @param audience the {@code aud} admin access tokens must carry ({@code admin.oidc.audience})
     */
    public static LocalRealm generate(String audience) {
        List<DemoUser> users = new ArrayList<>();
        // groups bound in policies/access.yaml
        users.add(new DemoUser("system-admin", secret(), "system-admin", "system", "meshguard-system-admins"));
        users.add(new DemoUser("auditor", secret(), "auditor", "system", "meshguard-auditors"));
        // the second person of a policy change (system-admin requests, the security approver approves)
        users.add(new DemoUser(
                "security-approver", secret(), "security-approver", "system", "meshguard-security-approvers"));
        users.add(new DemoUser("gateway-owner", secret(), "gateway-owner", "gateway:local", "local-owners"));
        for (String tenant : TENANTS) {
            users.add(tenantUser(tenant, "org-admin", "admins"));
            users.add(tenantUser(tenant, "api-developer", "developers"));
            users.add(tenantUser(tenant, "business-manager", "business"));
            users.add(tenantUser(tenant, "customer-admin", "customer-admins"));
            users.add(tenantUser(tenant, "api-consumer", "consumers"));
        }
        return new LocalRealm(NAME, audience, CONSOLE_CLIENT, secret(), CLI_CLIENT, secret(), users);
    }

    private static DemoUser tenantUser(String tenant, String role, String groupSuffix) {
        return new DemoUser(tenant + "-" + role, secret(), role, "tenant:" + tenant, tenant + "-" + groupSuffix);
    }

    /** The demo user of {@code role} ({@code tenant} empty for platform roles). */
    public DemoUser user(String role, String tenant) {
        String scope = tenant.isEmpty() ? "" : "tenant:" + tenant;
        return users.stream()
                .filter(u ->
                        u.role().equals(role) && (scope.isEmpty() || u.scope().equals(scope)))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no demo user " + role + " " + tenant));
    }

    /** The realm representation Keycloak's admin API imports ({@code POST /admin/realms}). */
    public String toJson() {
        ObjectMapper json = new ObjectMapper();
        ObjectNode realm = json.createObjectNode();
        realm.put("realm", name)
                .put("enabled", true)
                .put("accessTokenLifespan", 300)
                // brute-force lockout as a real realm would have it; the demo passwords are random anyway
                .put("bruteForceProtected", true);
        Set<String> groups = new LinkedHashSet<>();
        users.forEach(u -> groups.add(u.group()));
        ArrayNode groupNodes = realm.putArray("groups");
        groups.forEach(g -> groupNodes.addObject().put("name", g));
        ArrayNode clients = realm.putArray("clients");
        ObjectNode cli = clients.addObject();
        cli.put("clientId", cliClient)
                .put("publicClient", true)
                .put("standardFlowEnabled", true)
                // the password grant: this local realm only (the operator guide's production realm has it off)
                .put("directAccessGrantsEnabled", true);
        cli.putArray("redirectUris").add("http://127.0.0.1/*").add("http://localhost/*");
        cli.putObject("attributes")
                .put("oauth2.device.authorization.grant.enabled", "true")
                .put("pkce.code.challenge.method", "S256");
        mappers(cli);
        ObjectNode console = clients.addObject();
        console.put("clientId", consoleClient)
                .put("publicClient", false)
                .put("secret", consoleSecret)
                .put("standardFlowEnabled", true)
                .put("directAccessGrantsEnabled", false);
        console.putArray("redirectUris").add("http://127.0.0.1/*").add("http://localhost/*");
        console.putObject("attributes").put("pkce.code.challenge.method", "S256");
        mappers(console);
        // the catalogue creates customers' clients as this one (access KeycloakClients); its service account holds
        // only realm-management's manage-clients and view-clients, as a production realm's would
        clients.addObject()
                .put("clientId", PROVISIONER_CLIENT)
                .put("publicClient", false)
                .put("secret", provisionerSecret)
                .put("serviceAccountsEnabled", true)
                .put("standardFlowEnabled", false)
                .put("directAccessGrantsEnabled", false);
        ArrayNode userNodes = realm.putArray("users");
        ObjectNode serviceAccount = userNodes
                .addObject()
                .put("username", "service-account-" + PROVISIONER_CLIENT)
                .put("enabled", true)
                .put("serviceAccountClientId", PROVISIONER_CLIENT);
        serviceAccount
                .putObject("clientRoles")
                .putArray("realm-management")
                .add("manage-clients")
                .add("view-clients");
        for (DemoUser u : users) {
            ObjectNode node = userNodes.addObject();
            node.put("username", u.username())
                    .put("enabled", true)
                    .put("email", u.username() + "@example.test")
                    .put("emailVerified", true)
                    .put("firstName", u.username())
                    .put("lastName", "Demo");
            node.putArray("credentials")
                    .addObject()
                    .put("type", "password")
                    .put("value", u.password())
                    .put("temporary", false);
            node.putArray("groups").add(u.group());
        }
        return realm.toString();
    }

    // Keycloak's oidc-audience-mapper (AudienceProtocolMapper) adds the custom audience to access tokens only; the
    // oidc-group-membership-mapper (GroupMembershipMapper) with full.path=false writes plain group names.
    private void mappers(ObjectNode client) {
        ArrayNode mappers = client.putArray("protocolMappers");
        mappers.addObject()
                .put("name", "admin-audience")
                .put("protocol", "openid-connect")
                .put("protocolMapper", "oidc-audience-mapper")
                .putObject("config")
                .put("included.custom.audience", audience)
                .put("access.token.claim", "true")
                .put("id.token.claim", "false");
        mappers.addObject()
                .put("name", "groups")
                .put("protocol", "openid-connect")
                .put("protocolMapper", "oidc-group-membership-mapper")
                .putObject("config")
                .put("full.path", "false")
                .put("claim.name", "groups")
                .put("access.token.claim", "true")
                .put("id.token.claim", "true")
                .put("userinfo.token.claim", "true");
    }

    private static String secret() {
        byte[] random = new byte[18];
        RANDOM.nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }
}
