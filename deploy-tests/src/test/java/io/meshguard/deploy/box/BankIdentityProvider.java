package io.meshguard.deploy.box;

import io.meshguard.access.CodeFlowClient;
import io.meshguard.testing.InstallGuideRealm;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The bank's Keycloak once it answers: realm {@value #REALM} set up by docs/install.md's own block
 * ({@link InstallGuideRealm}, run from the node with Keycloak's {@code kcadm.sh} through a port-forward), and two people
 * of the bank in it, both in {@code meshguard-system-admins} as the guide says for four eyes: one asks, one approves.
 *
 * @param localPort the port-forward to Keycloak's pod on this machine's loopback
 * @param frontPort the port-forward to the TLS front's pod ({@value ExternalParts#IDP_HOST}), what people reach
 * @param automationSecret the secret of the automation client, as the bank's CI secret store keeps it
 * @param customerSecret the secret of the customer app's client in the retail realm
 * @param tenantClientSecret the secret of the tenants' pipeline clients ({@link #PROVIDER_CLIENT},
 *     {@link #SUBSCRIBER_CLIENT})
 */
record BankIdentityProvider(
        BoxPod pod,
        int localPort,
        int frontPort,
        Person requester,
        Person approver,
        String automationSecret,
        String customerSecret,
        String tenantClientSecret) {
    /** A provider's pipeline: service account in {@code acme-admins} (policies/access.yaml: org-admin of acme). */
    static final String PROVIDER_CLIENT = "acme-pipeline";
    /** A customer's pipeline: service account in {@code globex-customer-admins} (customer-admin of globex). */
    static final String SUBSCRIBER_CLIENT = "globex-pipeline";
    /**
     * A new customer's pipeline: service account in {@code initech-customer-admins} (customer-admin of initech, the
     * binding the operator adds for a new tenant, {@link ClusterInABox#NEW_TENANT}); nobody creates the tenant in the
     * database before {@link TenantJourneyTest} does.
     */
    static final String NEW_TENANT_CLIENT = "initech-pipeline";
    /**
     * The tenants' groups the guide says to add "the same way" as the platform's, and a pipeline client of each
     * tenant with the sign-in clients' mappers (the admin audience and the groups claim), its service account in the
     * group: what the identity team does for each tenant that automates against the admin API.
     */
    private static final String TENANT_CLIENTS = """
            MAPPERS='[{"name": "admin-audience", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
                "config": {"included.custom.audience": "meshguard-admin", "access.token.claim": "true",
                           "id.token.claim": "false"}},
              {"name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
                "config": {"claim.name": "groups", "full.path": "false", "access.token.claim": "true",
                           "id.token.claim": "true", "userinfo.token.claim": "true"}}]'
            for pair in acme-pipeline:acme-admins globex-pipeline:globex-customer-admins \\
                initech-pipeline:initech-customer-admins; do
              client=${pair%%:*}; group=${pair##*:}
              kcadm.sh create groups -r "$REALM" -s name="$group"
              kcadm.sh create clients -r "$REALM" -f - <<EOF
            {"clientId": "$client", "publicClient": false, "secret": "$SECRET", "serviceAccountsEnabled": true,
             "standardFlowEnabled": false, "directAccessGrantsEnabled": false, "protocolMappers": $MAPPERS}
            EOF
              user=$(kcadm.sh get users -r "$REALM" -q username="service-account-$client" --fields id --format csv \\
                  --noquotes)
              gid=$(kcadm.sh get groups -r "$REALM" -q search="$group" --fields id --format csv --noquotes | head -n 1)
              kcadm.sh update "users/$user/groups/$gid" -r "$REALM" -s realm="$REALM" -s userId="$user" \\
                  -s groupId="$gid" -n
            done
            """;

    private static final String FRONTEND_URL = """
            kcadm.sh update "realms/$REALM" -s attributes.frontendUrl=https://idp.bank.example
            """;
    /** The customer app's client in the retail realm (client credentials; role customer, tenant acme-corp). */
    static final String CUSTOMER_CLIENT = "mobile-banking";
    /**
     * The bank's customer realm, as it exists before meshguard: its public name (the TLS front) as frontend URL, so
     * its tokens carry the issuer the shipped policies/authz.yaml trusts ({@code https://idp.bank.example/realms/retail},
     * audience {@code banking-api}, claim {@code tenant}, realm role {@code customer}, scope {@code accounts:read}).
     */
    private static final String RETAIL_REALM_SETUP = """
            BANKING_API='{"name": "banking-api", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
              "config": {"included.custom.audience": "banking-api", "access.token.claim": "true"}}'
            TENANT='{"name": "tenant", "protocol": "openid-connect", "protocolMapper": "oidc-hardcoded-claim-mapper",
              "config": {"claim.name": "tenant", "claim.value": "acme-corp", "jsonType.label": "String",
                         "access.token.claim": "true"}}'
            kcadm.sh create realms -s realm=retail -s enabled=true -s attributes.frontendUrl=https://idp.bank.example
            kcadm.sh create roles -r retail -s name=customer
            kcadm.sh create client-scopes -r retail -s name=accounts:read -s protocol=openid-connect \\
                -s 'attributes."include.in.token.scope"=true'
            kcadm.sh create clients -r retail -f - <<EOF
            {"clientId": "mobile-banking", "publicClient": false, "secret": "$SECRET", "serviceAccountsEnabled": true,
             "standardFlowEnabled": false, "directAccessGrantsEnabled": false,
             "protocolMappers": [$BANKING_API, $TENANT]}
            EOF
            CID=$(kcadm.sh get clients -r retail -q clientId=mobile-banking --fields id --format csv --noquotes)
            SID=$(kcadm.sh get client-scopes -r retail --fields id,name --format csv --noquotes \\
                | grep ',accounts:read$' | cut -d, -f1)
            kcadm.sh update "clients/$CID/default-client-scopes/$SID" -r retail
            kcadm.sh add-roles -r retail --uusername service-account-mobile-banking --rolename customer
            kcadm.sh create clients -r retail -f - <<EOF
            {"clientId": "mobile-banking-expiring", "publicClient": false, "secret": "$SECRET",
             "serviceAccountsEnabled": true, "standardFlowEnabled": false, "directAccessGrantsEnabled": false,
             "attributes": {"access.token.lifespan": "1"},
             "protocolMappers": [$BANKING_API, $TENANT]}
            EOF
            kcadm.sh add-roles -r retail --uusername service-account-mobile-banking-expiring --rolename customer
            kcadm.sh create roles -r retail -s name=agent
            kcadm.sh create clients -r retail -f - <<EOF
            {"clientId": "bank-agent", "publicClient": false, "secret": "$SECRET", "serviceAccountsEnabled": true,
             "standardFlowEnabled": false, "directAccessGrantsEnabled": false,
             "protocolMappers": [$BANKING_API, $TENANT,
              {"name": "accounts-mcp", "protocol": "openid-connect", "protocolMapper": "oidc-audience-mapper",
               "config": {"included.custom.audience": "https://mcp.local/mcp", "access.token.claim": "true"}}]}
            EOF
            kcadm.sh add-roles -r retail --uusername service-account-bank-agent --rolename agent
            """;
    /**
     * The customer app's twin whose tokens live one second (client attribute {@code access.token.lifespan}): signed
     * by the retail realm's own key like every other token, so a Check refusing one refuses it for its {@code exp}.
     */
    static final String EXPIRING_CLIENT = "mobile-banking-expiring";
    /**
     * The bank's agent in the retail realm (client credentials; realm role {@code agent}, tenant acme-corp): its
     * tokens name the accounts MCP server as audience ({@code https://mcp.local/mcp}, RFC 8707) beside
     * {@code banking-api}, which the shipped issuer requires.
     */
    static final String AGENT_CLIENT = "bank-agent";
    /** The client docs/install.md gives automation (client credentials, service account in meshguard-system-admins). */
    static final String AUTOMATION_CLIENT = "meshguard-automation";

    static final String REALM = "meshguard";
    /** The console's origin as the bank's people reach it (ConfigMap meshguard-admin-plane, console.public_url). */
    static final String CONSOLE_ORIGIN = "https://meshguard.bank.example";

    /** An admin API call at the console's public origin as {@code bearer}: a JSON body when given, 30 s at most. */
    static HttpResponse<String> consoleCall(HttpClient http, String method, String path, String body, String bearer)
            throws IOException, InterruptedException {
        return http.send(
                HttpRequest.newBuilder(URI.create(CONSOLE_ORIGIN + path))
                        .timeout(Duration.ofSeconds(30))
                        .header("Authorization", "Bearer " + bearer)
                        .header("Content-Type", "application/json")
                        .method(
                                method,
                                body == null
                                        ? HttpRequest.BodyPublishers.noBody()
                                        : HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
    /** Keycloak's start on an idle machine takes about 20 s; stretched by the probe scale on a busy one. */
    static final Duration START = Duration.ofSeconds((long) (360 * Kubelet.SCALE));

    /** One person of the bank's directory, with the password they sign in with. */
    record Person(String username, String password) {
        @Override
        public String toString() {
            return username;
        }
    }

    /** The issuer every pod reaches and tokens carry, by the Service's cluster DNS name. */
    /** The customer app's client credentials token from the retail realm (through the box's port-forward). */
    String customerToken() throws Exception {
        return clientToken(CUSTOMER_CLIENT);
    }

    /** The agent's client credentials token from the retail realm ({@link #AGENT_CLIENT}). */
    String agentToken() throws Exception {
        return clientToken(AGENT_CLIENT);
    }

    /**
     * A token of {@link #EXPIRING_CLIENT}: valid in every respect for one second after it is issued, then expired
     * (plus the issuer's {@code clock_skew} in policies/authz.yaml before a Check refuses it).
     */
    String expiringCustomerToken() throws Exception {
        return clientToken(EXPIRING_CLIENT);
    }

    private String clientToken(String client) throws Exception {
        String basic = java.util.Base64.getEncoder()
                .encodeToString((client + ":" + customerSecret).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        HttpResponse<String> r = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + localPort
                                        + "/realms/" + ExternalParts.RETAIL_REALM + "/protocol/openid-connect/token"))
                                .timeout(Duration.ofSeconds(30))
                                .header("Authorization", "Basic " + basic)
                                .header("Content-Type", "application/x-www-form-urlencoded")
                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                        "grant_type=client_credentials"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new AssertionError("customer token: " + r.statusCode() + " " + r.body());
        }
        return new com.fasterxml.jackson.databind.ObjectMapper()
                .readTree(r.body())
                .path("access_token")
                .asText();
    }

    String issuer() {
        return ExternalParts.issuer(REALM);
    }

    /** The issuer's {@code host[:port]}, which a person's workstation maps to {@link #frontPort}. */
    static String authority() {
        return URI.create(ExternalParts.issuer(REALM)).getAuthority();
    }

    /**
     * The names the bank's people type, each to the box's port-forward: the console's origin to {@code console} (the
     * controller's admin port), the issuer's host to Keycloak's pod.
     */
    Map<String, InetSocketAddress> names(InetSocketAddress console) {
        return Map.of(
                URI.create(CONSOLE_ORIGIN).getAuthority(),
                console,
                authority(),
                new InetSocketAddress("127.0.0.1", frontPort));
    }

    /** Waits for Keycloak in {@code pod}, then the guide's realm block and the two people. */
    static BankIdentityProvider setUp(
            BoxPod pod,
            BoxPod front,
            PodProcess process,
            NodePorts node,
            Path dir,
            String adminPassword,
            OperatorSecrets secrets)
            throws IOException, InterruptedException {
        int local = node.forward(pod.ip(), ExternalParts.KEYCLOAK_PORT);
        String base = "http://127.0.0.1:" + local;
        awaitAnswer(base, process, pod);
        Path home = ExternalParts.keycloakHome();
        Path kcadm = dir.resolve("kcadm");
        InstallGuideRealm realm = new InstallGuideRealm(
                base,
                REALM,
                CONSOLE_ORIGIN,
                secrets.value("meshguard-admin-oidc", "console-client-secret"),
                secrets.value("meshguard-admin-oidc", "provisioner-client-secret"),
                CodeFlowClient.random(24));
        realm.setUp(home, "admin", adminPassword, kcadm);
        // the bank's Keycloak knows its public name (a bank sets --hostname; the box, the realm's frontend URL): the
        // issuer in tokens and discovery is the https one the admin plane is configured with
        realm.kcadm(home, kcadm, Map.of("REALM", REALM), FRONTEND_URL);
        Person requester = new Person("rita", CodeFlowClient.random(18));
        Person approver = new Person("arne", CodeFlowClient.random(18));
        for (Person p : List.of(requester, approver)) {
            realm.addPerson(home, kcadm, p.username(), p.password(), List.of("meshguard-system-admins"));
        }
        String customerSecret = CodeFlowClient.random(24);
        realm.kcadm(home, kcadm, Map.of("SECRET", customerSecret), RETAIL_REALM_SETUP);
        String tenantSecret = CodeFlowClient.random(24);
        realm.kcadm(home, kcadm, Map.of("SECRET", tenantSecret, "REALM", REALM), TENANT_CLIENTS);
        return new BankIdentityProvider(
                pod,
                local,
                node.forward(front.ip(), 443),
                requester,
                approver,
                realm.automationSecret(),
                customerSecret,
                tenantSecret);
    }

    private static void awaitAnswer(String base, PodProcess process, BoxPod pod)
            throws IOException, InterruptedException {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(base + "/realms/master/.well-known/openid-configuration"))
                .timeout(Duration.ofSeconds(5))
                .build();
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.alive()) {
                throw new IOException(Kubelet.report(pod, process, "Keycloak exited"));
            }
            try {
                if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new IOException(
                Kubelet.report(pod, process, "Keycloak did not answer within " + START.toSeconds() + " s"));
    }
}
