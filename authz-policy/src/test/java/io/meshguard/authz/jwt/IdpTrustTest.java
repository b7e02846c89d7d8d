package io.meshguard.authz.jwt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.meshguard.runtime.http.IdpTrust;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.OpensslCa;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A bank's identity provider behind its own CA: trusted through {@code jwks.tls_ca_file}, refused without it. */
@IntegrationTest
class IdpTrustTest {
    @TempDir
    static Path dir;

    private static HttpsServer idp;
    private static Path caPem;

    @BeforeAll
    static void startIdpWithAPrivateCertificate() throws Exception {
        OpensslCa ca = OpensslCa.in(dir.resolve("ca"), "/CN=Bank IdP CA");
        caPem = ca.certificate();
        SSLContext tls = ca.serverContext("localhost", "idp");
        idp = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 10);
        idp.setHttpsConfigurator(new HttpsConfigurator(tls));
        idp.createContext("/jwks.json", ex -> {
            byte[] body = "{\"keys\":[]}".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        idp.start();
    }

    @AfterAll
    static void stop() {
        idp.stop(0);
    }

    @Test
    void fromPemFile_theIdpsCa_fetchesItsKeySet() throws Exception {
        SSLSocketFactory trust = IdpTrust.fromPemFile(Optional.of(caPem)).orElseThrow();
        assertThat(fetch(trust)).isEqualTo("{\"keys\":[]}");
    }

    @Test
    void withoutTheCa_theJdkTrustStore_refusesThePrivateCertificate() {
        assertThat(IdpTrust.fromPemFile(Optional.empty())).isEmpty();
        assertThatThrownBy(() -> fetch(null)).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void fromPemFile_anAbsentFile_isTheJdkTrustStore() {
        // the manifests mount the Secret meshguard-idp-ca as optional: not created means a public CA
        assertThat(IdpTrust.fromPemFile(Optional.of(dir.resolve("not-there.crt"))))
                .isEmpty();
    }

    @Test
    void fromPemFile_noCertificateInTheFile_refusesToStart() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.crt"), "not a certificate\n");
        assertThatThrownBy(() -> IdpTrust.fromPemFile(Optional.of(empty)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty.crt");
    }

    private static String fetch(SSLSocketFactory trust) throws Exception {
        return new DefaultResourceRetriever(2000, 2000, 4096, true, trust)
                .retrieveResource(
                        URI.create("https://localhost:" + idp.getAddress().getPort() + "/jwks.json")
                                .toURL())
                .getContent();
    }
}
