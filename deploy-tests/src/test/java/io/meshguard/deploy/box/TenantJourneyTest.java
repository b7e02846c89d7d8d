package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A tenant the bank's identity provider names before anyone created it in the database (the portal's first
 * customer click showed a raw SQL foreign-key error, and nothing created tenants). initech's customer admin, signed
 * in through Keycloak as the operator's binding for {@code initech-customer-admins} says, creates an application:
 * the answer is a 4xx that names the tenant and the fix in words, never SQL text. The platform's automation runs
 * {@code meshguard tenant create initech} twice (the second leaves it as it is), {@code meshguard tenant list}
 * shows it, both calls are rows of the admin trail, and the customer's same click then succeeds.
 */
@Tag("cluster")
class TenantJourneyTest extends BoxJourney {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TENANT = ClusterInABox.NEW_TENANT;
    /** What a database error looks like when it leaks (PostgreSQL's and jOOQ's words for a foreign-key refusal). */
    private static final List<String> SQL_TEXT =
            List.of("foreign key", "violates", "SQL", "ERROR:", "insert into", "constraint", "Detail:");

    private static BankPipeline platform;
    private static BankPipeline customer;

    @BeforeAll
    static void signIn() throws Exception {
        platform = BankPipeline.signIn(box, idp);
        customer = BankPipeline.signIn(box, idp, BankIdentityProvider.NEW_TENANT_CLIENT, idp.tenantClientSecret());
    }

    @Test
    void unknownTenant_customersFirstClick_isA4xxInWords_untilTheOperatorCreatesIt_idempotentlyAndAudited()
            throws Exception {
        String application = "{\"id\": \"initech-web\", \"tenant\": \"" + TENANT + "\", \"name\": \"Web\"}";
        HttpResponse<String> first = customer.call("POST", "/v1/customer/applications", application, customer.token());
        assertThat(first.statusCode())
                .as("the first click of a customer whose tenant the database lacks: %s", first.body())
                .isBetween(400, 499);
        assertThat(first.body())
                .as("the answer names the tenant and the fix")
                .contains("tenant '" + TENANT + "'")
                .contains("meshguard tenant create " + TENANT);
        for (String leak : SQL_TEXT) {
            assertThat(first.body()).as("no database text in the answer").doesNotContainIgnoringCase(leak);
        }

        String created = platform.meshguard("tenant", "create", TENANT, "--display-name", "Initech");
        assertThat(json(created).path("created").asBoolean())
                .as("first create: %s", created)
                .isTrue();
        String again = platform.meshguard("tenant", "create", TENANT, "--display-name", "Initech");
        assertThat(json(again).path("created").asBoolean())
                .as("second create leaves it: %s", again)
                .isFalse();
        assertThat(json(platform.meshguard("tenant", "list")).findValuesAsText("id"))
                .containsOnlyOnce(TENANT);

        // each call is a row of the admin trail (docs/operate/onboard-a-tenant.md "Tenants"), as the automation's
        // identity
        List<String> trail = List.of(box.databaseQuery("select actor, outcome from admin_trail where action ="
                        + " 'tenant:create' and target = 'tenant/" + TENANT + "' order by seq")
                .strip()
                .split("\n"));
        assertThat(trail)
                .as("the admin trail's tenant:create rows for %s", TENANT)
                .hasSize(2);
        assertThat(trail.get(0)).contains("created").doesNotContain("already existed");
        assertThat(trail.get(1)).contains("already existed");
        assertThat(trail).allSatisfy(row -> assertThat(row.substring(0, row.indexOf('|')))
                .isNotBlank());

        JsonNode app = customer.ok("POST", "/v1/customer/applications", application);
        assertThat(app.toString()).contains("initech-web");
    }

    /** The CLI's answer: its pretty-printed JSON, from its first line, after whatever the JVM wrote before it. */
    private static JsonNode json(String out) throws Exception {
        int start = out.lines()
                .filter(l -> l.startsWith("{") || l.startsWith("["))
                .findFirst()
                .map(out::indexOf)
                .orElse(-1);
        assertThat(start).as("a JSON answer in: %s", out).isNotNegative();
        return JSON.readTree(out.substring(start));
    }
}
