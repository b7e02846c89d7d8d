package io.meshguard.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A bank's private CA and the server certificates it signs, made with the {@code openssl} command as an operator
 * makes them: EC P-256 keys (PKCS#8 PEM, unencrypted), certificates valid for two days, {@code ca.crt} and
 * {@code ca.key} in the CA's directory.
 */
public final class OpensslCa {
    private final Path dir;

    private OpensslCa(Path dir) {
        this.dir = dir.toAbsolutePath();
    }

    /** The CA in {@code dir}: the one already there, else a new one named {@code subject} (e.g. {@code /CN=Bank CA}). */
    public static OpensslCa in(Path dir, String subject) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        OpensslCa ca = new OpensslCa(dir);
        if (Files.isRegularFile(ca.certificate()) && Files.isRegularFile(ca.caKey())) {
            return ca;
        }
        ca.request(
                ca.caKey(),
                "-x509",
                "-out",
                ca.certificate().toString(),
                "-subj",
                subject,
                "-days",
                "2",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign");
        return ca;
    }

    /** The CA's certificate (PEM): what a client that trusts this CA is given. */
    public Path certificate() {
        return dir.resolve("ca.crt");
    }

    private Path caKey() {
        return dir.resolve("ca.key");
    }

    /**
     * A server certificate for {@code host} (its one DNS name; {@code CN=host}, serverAuth), signed by this CA:
     * {@code [certificate, key]}, the files {@code name.crt} and {@code name.key} in the CA's directory.
     */
    public Path[] issue(String host, String name) {
        Path key = dir.resolve(name + ".key");
        Path csr = dir.resolve(name + ".csr");
        Path crt = dir.resolve(name + ".crt");
        Path ext = dir.resolve(name + ".ext");
        try {
            Files.writeString(ext, "subjectAltName=DNS:" + host + "\nextendedKeyUsage=serverAuth\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        request(key, "-out", csr.toString(), "-subj", "/CN=" + host);
        openssl(
                "x509",
                "-req",
                "-in",
                csr.toString(),
                "-CA",
                certificate().toString(),
                "-CAkey",
                caKey().toString(),
                "-CAcreateserial",
                "-out",
                crt.toString(),
                "-days",
                "2",
                "-extfile",
                ext.toString());
        return new Path[] {crt, key};
    }

    /** A TLS server's context presenting a certificate this CA issued for {@code host} ({@link #issue}). */
    public SSLContext serverContext(String host, String name) {
        Path store = pkcs12(issue(host, name), dir.resolve(name + ".p12"), "changeit");
        try (InputStream in = Files.newInputStream(store)) {
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(in, "changeit".toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, "changeit".toCharArray());
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(kmf.getKeyManagers(), null, null);
            return tls;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the key store " + store + ": " + e.getMessage(), e);
        }
    }

    /** {@code issued} ({@link #issue}'s pair) with the CA's certificate as a PKCS#12 key store {@code out}. */
    public Path pkcs12(Path[] issued, Path out, String password) {
        openssl(
                "pkcs12",
                "-export",
                "-in",
                issued[0].toString(),
                "-inkey",
                issued[1].toString(),
                "-certfile",
                certificate().toString(),
                "-out",
                out.toString(),
                "-passout",
                "pass:" + password);
        return out;
    }

    /** {@code openssl req} with a new EC P-256 key (unencrypted) written to {@code key}, then {@code more}. */
    private void request(Path key, String... more) {
        List<String> args = new ArrayList<>(List.of(
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key.toString()));
        args.addAll(List.of(more));
        openssl(args.toArray(String[]::new));
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("openssl " + args[0] + " did not finish in 60 s");
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("openssl " + args[0] + " exited " + p.exitValue() + ": " + out.strip());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while openssl " + args[0] + " ran", e);
        }
    }
}
