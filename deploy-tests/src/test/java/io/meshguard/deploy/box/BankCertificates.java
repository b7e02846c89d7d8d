package io.meshguard.deploy.box;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The bank's own CA and the certificates it issues, as an operator makes them with openssl: central's certificate
 * for the ingress gateway (the Secret {@code meshguard-central-tls} of manifests/istio/zone/README.md) is signed by a
 * private CA, which zones trust through the Secret {@code meshguard-central-ca}.
 */
final class BankCertificates {
    private final Path dir;

    private BankCertificates(Path dir) {
        this.dir = dir;
    }

    /**
     * The bank's CA in {@code dir}: the one already there (the bank has one CA: the one that signed its IdP's
     * certificate, {@link ExternalParts#bankCertificates}, also signs central's), else a new one.
     */
    static BankCertificates create(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        BankCertificates ca = new BankCertificates(dir);
        if (Files.isRegularFile(dir.resolve("ca.crt")) && Files.isRegularFile(dir.resolve("ca.key"))) {
            return ca;
        }
        ca.openssl(
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                dir.resolve("ca.key").toString(),
                "-out",
                dir.resolve("ca.crt").toString(),
                "-subj",
                "/O=Bank/CN=Bank internal CA",
                "-days",
                "2");
        return ca;
    }

    Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    /** A server certificate for {@code host}: {@code [certificate, key]} files (PEM, the key PKCS#8). */
    Path[] issue(String host) {
        Path key = dir.resolve(host + ".key");
        Path csr = dir.resolve(host + ".csr");
        Path crt = dir.resolve(host + ".crt");
        Path ext = dir.resolve(host + ".ext");
        try {
            Files.writeString(ext, "subjectAltName=DNS:" + host + "\nextendedKeyUsage=serverAuth\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        openssl(
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                key.toString(),
                "-out",
                csr.toString(),
                "-subj",
                "/O=Bank/CN=" + host);
        openssl(
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                caCertificate().toString(),
                "-CAkey",
                dir.resolve("ca.key").toString(),
                "-CAcreateserial",
                "-out",
                crt.toString(),
                "-days",
                "2",
                "-extfile",
                ext.toString());
        return new Path[] {crt, key};
    }

    private void openssl(String... args) {
        String[] command = new String[args.length + 1];
        command[0] = "openssl";
        System.arraycopy(args, 0, command, 1, args.length);
        Shell.run(command);
    }
}
