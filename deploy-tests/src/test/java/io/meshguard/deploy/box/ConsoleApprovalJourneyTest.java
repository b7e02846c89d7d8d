package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.OidcClient;
import io.meshguard.access.SignedInToken;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;

/**
 * Four eyes between two people of the bank, signed in through its Keycloak (realm set up as docs/install.md says)
 * with real headless Chromium: rita signs in with {@code meshguard login} (device grant with PKCE, approved in her
 * browser) and prepares a protected gateway group through the admin API; she asks to publish a change in the console,
 * cannot approve it herself, and arne approves it; the group then serves the new revision.
 */
@Tag("cluster")
class ConsoleApprovalJourneyTest extends BoxJourney {
    private static final String GROUP = "payments-prod";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void protectedPublish_askedByOnePerson_isRefusedToHer_approvedByAnother_andServed() throws Exception {
        // the names the bank's people use: the console's through the ingress gateway over TLS, the issuer's front
        Map<String, InetSocketAddress> names = idp.names(box.ingressDoor());
        HttpClient workstation = ForwardsByName.workstation(names);
        try (PersonsBrowser rita = PersonsBrowser.start(names);
                PersonsBrowser arne = PersonsBrowser.start(names)) {
            // meshguard login as rita: the device grant with PKCE against the realm the guide sets up
            OidcClient cli = new OidcClient(idp.issuer(), "meshguard-cli", Clock.systemUTC(), workstation);
            SignedInToken token = rita.meshguardLogin(cli, idp.requester());

            // rita, as the platform's operator: a group, its first revision, four eyes on it, then a change
            AdminApi admin = new AdminApi(workstation, token.accessToken());
            admin.ok("PUT", "/groups/" + GROUP, """
                    {"name": "%s", "environment": "prod", "region": "eu", "listener_port": 8080}""".formatted(GROUP));
            admin.ok("PUT", "/upstreams/payments", """
                    {"name": "payments", "protocol": "http1",
                     "endpoints": [{"address": "payments.bank-apps.svc.cluster.local", "port": 8080}]}""");
            admin.ok("PUT", "/apis/payments", """
                    {"name": "payments", "base_path": "/payments", "default_version": "v1",
                     "versions": [{"version": "v1", "status": "active"}]}""");
            admin.route("/payments");
            JsonNode published = admin.ok("POST", "/publish", "{\"reason\": \"CHG-2000: payments go live\"}");
            long first = 0;
            for (JsonNode r : published.path("revisions")) {
                first = r.path("group").asText().equals(GROUP) ? r.path("id").asLong() : first;
            }
            assertThat(first)
                    .as("the first publish of %s: %s", GROUP, published)
                    .isPositive();
            admin.ok("PUT", "/groups/" + GROUP + "/protection", "{\"reason\": \"change board: two people\"}");
            admin.route("/payments-v2");

            // two controller replicas behind the ingress gateway, each browser kept on one by its cookie: rita's
            // and arne's on different ones, so the request is made on one replica and approved on the other
            List<String> replicas = box.adminEndpoints();
            assertThat(replicas)
                    .as("the controller's replicas behind the admin host")
                    .hasSize(2);
            String ritas = replica(rita, replicas, Optional.empty());
            String arnes = replica(arne, replicas, Optional.of(ritas));
            assertThat(arnes).isNotEqualTo(ritas);

            // rita asks in the console
            rita.signIn(BankIdentityProvider.CONSOLE_ORIGIN, idp.requester(), "/console/revisions/" + GROUP);
            rita.waitFor(By.id("publish-reason")).sendKeys("CHG-2001: payments move to /payments-v2");
            rita.driver.findElement(By.id("publish")).click();
            rita.waitForText(By.cssSelector(".flash"), "waits for a second person");
            Matcher asked = Pattern.compile("Publish request (\\d+) for protected group " + GROUP)
                    .matcher(rita.driver.findElement(By.cssSelector(".flash")).getText());
            assertThat(asked.find()).as(rita.page()).isTrue();
            String id = asked.group(1);
            assertThat(rita.driver.findElements(By.cssSelector("#request-" + id + " button[value=approve]")))
                    .as("rita gets no approve button for her own request")
                    .isEmpty();
            assertThat(rita.driver.findElement(By.id("request-" + id)).getText())
                    .contains("waits for another approver");
            // her own approve, posted with her session's CSRF token as the approver's form would: the server refuses
            rita.driver.executeScript("""
                    const f = document.createElement('form');
                    f.method = 'post';
                    f.action = '/console/publish-requests/' + arguments[0] + '/' + arguments[1] + '/approve';
                    for (const [k, v] of [['_csrf', document.querySelector('input[name=_csrf]').value],
                        ['back', '/console/revisions/' + arguments[0]], ['reason', 'my own change looks fine']]) {
                      const i = document.createElement('input');
                      i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
                    }
                    document.body.appendChild(f);
                    f.submit();
                    """, GROUP, id);
            rita.waitFor(By.cssSelector(".flash.error"));
            assertThat(rita.driver.findElement(By.cssSelector(".flash.error")).getText())
                    .as(rita.page())
                    .contains("requested or authored changes in publish request " + id);
            assertThat(live(rita)).as("nothing served after her own approve").isEqualTo(first);

            // arne sees her request and approves it
            arne.signIn(BankIdentityProvider.CONSOLE_ORIGIN, idp.approver(), "/console/revisions/" + GROUP);
            assertThat(arne.waitFor(By.id("request-" + id)).getText())
                    .contains("pending")
                    .contains("CHG-2001");
            arne.waitFor(By.id("decide-reason-" + id)).sendKeys("reviewed with the change board");
            arne.driver
                    .findElement(By.cssSelector("#request-" + id + " button[value=approve]"))
                    .click();
            arne.waitForText(By.cssSelector(".flash"), "approved");
            long served = live(arne);
            assertThat(served).as(arne.page()).isGreaterThan(first);

            // the diff arne compares: the route's new path, and the controller serves it
            arne.driver.findElement(By.id("diff-from")).sendKeys(String.valueOf(first));
            arne.driver.findElement(By.id("diff-to")).sendKeys(String.valueOf(served));
            arne.driver.findElement(By.id("compare")).click();
            arne.waitForText(By.id("diff"), "/payments-v2");
            assertThat(admin.text("GET", "/render/" + GROUP)).contains("/payments-v2");
        }
    }

    /**
     * The replica the ingress gateway keeps {@code browser} on: the one its {@code mg_replica} cookie (set by the
     * gateway on the first answer) hashes to; a new cookie while that is {@code not}, as a new browser would get.
     */
    private static String replica(PersonsBrowser browser, List<String> replicas, Optional<String> not) {
        for (int attempt = 0; attempt < 20; attempt++) {
            browser.driver.manage().deleteCookieNamed("mg_replica");
            browser.driver.get(BankIdentityProvider.CONSOLE_ORIGIN + "/healthz");
            org.openqa.selenium.Cookie cookie = browser.driver.manage().getCookieNamed("mg_replica");
            assertThat(cookie).as("the ingress gateway's affinity cookie").isNotNull();
            String replica = IngressGateway.endpointFor(cookie.getValue().replace("\"", ""), replicas);
            if (not.isEmpty() || !not.get().equals(replica)) {
                return replica;
            }
        }
        throw new AssertionError("20 cookies in a row hashed to " + not.orElseThrow());
    }

    private static long live(PersonsBrowser browser) {
        String text = browser.waitFor(By.cssSelector("[data-testid=live-" + GROUP + "]"))
                .getText();
        return Long.parseLong(text.replaceAll("\\D+", ""));
    }

    /** The admin API at the console's public origin with a person's access token. */
    private record AdminApi(HttpClient http, String accessToken) {
        void route(String prefix) throws Exception {
            ok("PUT", "/routes/" + GROUP + "/payments", """
                    {"name": "payments", "group": "%s", "api": "payments", "version": "v1",
                     "match": {"path_prefix": "%s"}, "destinations": [{"upstream": "payments", "weight": 100}],
                     "authz_profile": "payments-write", "dlp_profile": "default"}""".formatted(GROUP, prefix));
        }

        JsonNode ok(String method, String path, String body) throws Exception {
            return JSON.readTree(text(method, path, body));
        }

        String text(String method, String path) throws Exception {
            return text(method, path, null);
        }

        String text(String method, String path, String body) throws Exception {
            HttpResponse<String> r = BankIdentityProvider.consoleCall(http, method, path, body, accessToken);
            assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isBetween(200, 202);
            return r.body();
        }
    }
}
