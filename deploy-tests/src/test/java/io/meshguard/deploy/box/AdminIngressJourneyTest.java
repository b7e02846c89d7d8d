package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.URLDecoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The admin plane the way the bank exposes it (docs/install.md section 4, {@code overlays/bank}): behind its Istio
 * ingress gateway over TLS, at the one origin {@code console.public_url} names. People and pipelines reach it only
 * there, with the bank's CA checked; plain http only redirects; the admin port refuses every other caller in the mesh;
 * a page of another origin cannot read the console with a signed-in person's cookies.
 */
@Tag("cluster")
class AdminIngressJourneyTest extends BoxJourney {
    private static final String HOST =
            URI.create(BankIdentityProvider.CONSOLE_ORIGIN).getHost();

    @Test
    void signIn_throughTheIngressOverTls_sendsPeopleToTheIssuer_withHsts_andTheCallbackAtThePublicOrigin()
            throws Exception {
        HttpClient workstation = ForwardsByName.workstation(idp.names(box.ingressDoor()));
        HttpResponse<String> signIn = workstation.send(
                HttpRequest.newBuilder(URI.create(BankIdentityProvider.CONSOLE_ORIGIN + "/console/signin"))
                        .timeout(Duration.ofSeconds(30))
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(signIn.statusCode()).as(signIn.body()).isIn(302, 303);
        String location = signIn.headers().firstValue("Location").orElse("");
        assertThat(location).startsWith(idp.issuer() + "/protocol/openid-connect/auth");
        assertThat(URLDecoder.decode(location, StandardCharsets.UTF_8))
                .contains("redirect_uri=" + BankIdentityProvider.CONSOLE_ORIGIN + "/console/callback");
        assertThat(signIn.headers().firstValue("Strict-Transport-Security"))
                .contains("max-age=31536000; includeSubDomains");
        assertThat(signIn.headers().allValues("Set-Cookie"))
                .as("the sign-in's cookie is Secure at an https origin")
                .anyMatch(c -> c.startsWith("mg_signin=") && c.contains("; Secure"));
    }

    @Test
    void plainHttp_toTheAdminHost_isOnlyARedirectToHttps() throws Exception {
        EdgeClient.Answer plain = EdgeClient.send(
                box.ingressPlainDoor(),
                "POST",
                HOST,
                "/console/publish-requests",
                Map.of("Authorization", "Bearer not-sent-anywhere", "Content-Length", "0"));
        assertThat(plain.status()).as("%s", plain).isEqualTo(301);
        assertThat(plain.headers()).containsEntry("location", "https://" + HOST + "/console/publish-requests");
    }

    @Test
    void tls_withoutTheBankCa_orForAnotherName_orWithoutSni_findsNoWayIn() throws Exception {
        // a client that does not trust the bank's CA: the chain is refused (the JDK's own trust store)
        assertThatThrownBy(() -> handshake(false, Optional.of(HOST))).isInstanceOf(SSLException.class);
        // the admin host with the bank's CA: the handshake completes and the certificate names the host
        assertThat(handshake(true, Optional.of(HOST))).contains("CN=" + HOST);
        // a name no Gateway server has, or no SNI at all: no filter chain, no certificate
        assertThatThrownBy(() -> handshake(true, Optional.of("intranet.bank.example")))
                .isInstanceOf(SSLException.class);
        assertThatThrownBy(() -> handshake(true, Optional.empty())).isInstanceOf(SSLException.class);
    }

    @Test
    void adminPort_refusesTheMeshsOtherCallers() throws Exception {
        // the bank's own app, in the mesh with its sidecar: the admin port admits the ingress gateway only
        BoxPod app = box.pods().stream()
                .filter(p -> p.namespace().equals(BankApps.NAMESPACE))
                .findFirst()
                .orElseThrow();
        String direct = box.runInPod(
                app,
                Optional.of(BankApps.USER),
                MeshHttpCall.class,
                "http://meshguard-xds.meshguard.svc.cluster.local:9103/console/signin");
        assertThat(direct)
                .as("a mesh workload calling the admin port directly")
                .satisfiesAnyOf(
                        d -> assertThat(d).contains("FAILED"),
                        d -> assertThat(d).contains("STATUS 403").contains("RBAC: access denied"));
    }

    @Test
    void aPageOfAnotherOrigin_cannotReadTheConsole_withASignedInPersonsCookies() throws Exception {
        try (PersonsBrowser arne = PersonsBrowser.start(idp.names(box.ingressDoor()))) {
            arne.signIn(BankIdentityProvider.CONSOLE_ORIGIN, idp.approver(), "/console/approvals");
            // the same browser on another of the bank's origins (its IdP), reading the console with credentials
            arne.driver.get(idp.issuer() + "/.well-known/openid-configuration");
            Object read =
                    arne.driver.executeAsyncScript("""
                    const done = arguments[arguments.length - 1];
                    fetch(arguments[0], {credentials: 'include'})
                        .then(r => r.text().then(t => done('read ' + r.status + ' ' + t.length)))
                        .catch(e => done('refused ' + e));
                    """, BankIdentityProvider.CONSOLE_ORIGIN + "/console/approvals");
            assertThat(String.valueOf(read))
                    .as("a cross-origin read of the console")
                    .startsWith("refused");
            // and the console itself, at its own origin, still answers the person
            arne.driver.get(BankIdentityProvider.CONSOLE_ORIGIN + "/console/approvals");
            assertThat(arne.driver.getPageSource()).contains("Approvals");
        }
    }

    /**
     * A new client's TLS handshake with the ingress gateway's HTTPS port (no session to resume), trusting the bank's
     * CA or the JDK's own roots; the subject of the certificate the gateway presented.
     */
    private static String handshake(boolean trustsTheBank, Optional<String> sni) throws Exception {
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, null, null);
        if (trustsTheBank) {
            tls = io.meshguard.runtime.http.IdpTrust.context("the bank's CA", Optional.of(ForwardsByName.bankCa()))
                    .orElseThrow();
        }
        InetSocketAddress door = box.ingressDoor();
        try (Socket raw = new Socket()) {
            raw.connect(door, 5_000);
            raw.setSoTimeout(10_000);
            SSLSocket s =
                    (SSLSocket) tls.getSocketFactory().createSocket(raw, door.getHostString(), door.getPort(), true);
            SSLParameters params = s.getSSLParameters();
            params.setServerNames(sni.map(n -> List.<javax.net.ssl.SNIServerName>of(new SNIHostName(n)))
                    .orElse(List.of()));
            s.setSSLParameters(params);
            s.startHandshake();
            return ((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0])
                    .getSubjectX500Principal()
                    .getName();
        }
    }
}
