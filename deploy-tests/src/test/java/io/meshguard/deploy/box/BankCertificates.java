package io.meshguard.deploy.box;

import io.meshguard.testing.OpensslCa;
import java.nio.file.Path;

/**
 * The bank's own CA and the certificates it issues, as an operator makes them with openssl: central's certificate
 * for the ingress gateway (the Secret {@code meshguard-central-tls} of manifests/istio/zone/README.md) is signed by a
 * private CA, which zones trust through the Secret {@code meshguard-central-ca}.
 */
final class BankCertificates {
    private final OpensslCa ca;

    private BankCertificates(OpensslCa ca) {
        this.ca = ca;
    }

    /**
     * The bank's CA in {@code dir}: the one already there (the bank has one CA: the one that signed its IdP's
     * certificate, {@link ExternalParts#bankCertificates}, also signs central's), else a new one.
     */
    static BankCertificates create(Path dir) {
        return new BankCertificates(OpensslCa.in(dir, ExternalParts.BANK_CA));
    }

    Path caCertificate() {
        return ca.certificate();
    }

    /** A server certificate for {@code host}: {@code [certificate, key]} files (PEM, the key PKCS#8). */
    Path[] issue(String host) {
        return ca.issue(host, host);
    }
}
