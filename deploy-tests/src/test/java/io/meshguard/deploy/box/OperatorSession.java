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
import java.util.Map;

/**
 * The platform operator (rita, of the bank's {@code meshguard-system-admins}) at her workstation: signed in with
 * {@code meshguard login} (the device grant with PKCE, approved in her Chromium) and calling the admin API at the
 * console's public origin, each name reached through the box's port-forward by the workstation's HTTP proxy.
 */
final class OperatorSession {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http;
    private final String accessToken;

    private OperatorSession(HttpClient http, String accessToken) {
        this.http = http;
        this.accessToken = accessToken;
    }

    /** One sign-in per box, reused while its access token has a minute left (each sign-in starts a Chromium). */
    private static SignedInToken lastToken;

    private static HttpClient lastWorkstation;

    static synchronized OperatorSession signIn(ClusterInABox box) throws Exception {
        if (lastToken != null && lastToken.freshAt(java.time.Instant.now(), 60)) {
            return new OperatorSession(lastWorkstation, lastToken.accessToken());
        }
        BankIdentityProvider idp = box.identityProvider();
        Map<String, InetSocketAddress> names = idp.names(box.ingressDoor());
        HttpClient workstation = ForwardsByName.workstation(names);
        try (PersonsBrowser rita = PersonsBrowser.start(names)) {
            OidcClient cli = new OidcClient(idp.issuer(), "meshguard-cli", Clock.systemUTC(), workstation);
            lastToken = rita.meshguardLogin(cli, idp.requester());
            lastWorkstation = workstation;
            return new OperatorSession(workstation, lastToken.accessToken());
        }
    }

    /** A call that must succeed (2xx); its JSON. */
    JsonNode ok(String method, String path, String body) throws Exception {
        HttpResponse<String> r = send(method, path, body);
        assertThat(r.statusCode()).as("%s %s: %s", method, path, r.body()).isBetween(200, 202);
        return JSON.readTree(r.body());
    }

    HttpResponse<String> send(String method, String path, String body) throws Exception {
        return BankIdentityProvider.consoleCall(http, method, path, body, accessToken);
    }

    /** Publishes the draft (every group it changes). */
    JsonNode publish(String reason) throws Exception {
        return ok("POST", "/publish", JSON.writeValueAsString(Map.of("reason", reason)));
    }
}
