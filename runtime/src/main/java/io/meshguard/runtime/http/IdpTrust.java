package io.meshguard.runtime.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS trust of calls to an identity provider (extauthz's {@code jwks.tls_ca_file}, the admin plane's
 * {@code admin.oidc.tls_ca_file}): a bank's identity provider usually presents a certificate of the bank's own CA,
 * which the image's JDK trust store does not hold. The file is the optional Secret {@code meshguard-idp-ca} the
 * manifests mount: present, only its CAs are trusted; absent, the JDK trust store (a public CA signed the IdP's
 * certificate).
 */
public final class IdpTrust {
    private static final Logger LOG = LoggerFactory.getLogger(IdpTrust.class);

    private IdpTrust() {}

    /**
     * A socket factory trusting exactly the PEM certificates of {@code file}; empty when no file is set or it does
     * not exist.
     *
     * @throws IllegalArgumentException when the file holds no certificate or one that does not parse (the server
     *     then refuses to start, naming the file)
     */
    public static Optional<SSLSocketFactory> fromPemFile(Optional<Path> file) {
        return context("jwks.tls_ca_file", file).map(SSLContext::getSocketFactory);
    }

    /**
     * A TLS context trusting exactly the PEM certificates of {@code file}, read for the setting {@code key}; empty
     * when no file is set or it does not exist.
     *
     * @throws IllegalArgumentException when the file holds no certificate or one that does not parse
     */
    public static Optional<SSLContext> context(String key, Optional<Path> file) {
        if (file.isEmpty()) {
            return Optional.empty();
        }
        if (!Files.isRegularFile(file.get())) {
            LOG.info(
                    "{} {} does not exist (Secret meshguard-idp-ca not created): identity provider "
                            + "certificates are checked against the JDK trust store",
                    key,
                    file.get());
            return Optional.empty();
        }
        try (InputStream in = Files.newInputStream(file.get())) {
            Collection<? extends Certificate> cas =
                    CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (cas.isEmpty()) {
                throw new IllegalArgumentException(key + " " + file.get() + " holds no PEM certificate");
            }
            KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
            store.load(null, null);
            int i = 0;
            for (Certificate ca : cas) {
                store.setCertificateEntry("idp-ca-" + i++, ca);
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(store);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(null, tmf.getTrustManagers(), null);
            LOG.info("identity provider certificates are checked against the {} CA(s) of {}", cas.size(), file.get());
            return Optional.of(tls);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException(key + " " + file.get() + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(key + " " + file.get(), e);
        }
    }
}
