package io.meshguard.deploy.box;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;

/**
 * Istio's ingress gateway in the box, for one {@code Gateway} server with {@code tls.mode: SIMPLE} and the
 * {@code VirtualService} bound to it: it terminates TLS on the server's port with the certificate and key of the
 * Secret {@code credentialName} (in the gateway's namespace, as Istio's SDS reads it), for the server's hosts only (SNI;
 * another name finds no filter chain and the handshake fails, as in Envoy), offering ALPN {@code h2} as Istio's
 * gateways do for HTTPS servers, and sends the decrypted stream to the route's destination Service port. The
 * connection from here to the destination is plaintext from this pod's address, which carries the gateway's identity
 * (the box's stand-in for the mesh's mTLS, deploy-tests/README.md).
 *
 * <p>Config file lines: {@code listen PORT}, {@code host NAME}, {@code cert FILE}, {@code key FILE},
 * {@code min TLSv1.2|TLSv1.3}, {@code destination HOST:PORT}.
 */
public final class IngressGateway {
    private IngressGateway() {}

    public static void main(String[] args) throws Exception {
        Map<String, List<String>> config = Files.readAllLines(Path.of(args[0])).stream()
                .filter(l -> !l.isBlank())
                .map(l -> l.split(" ", 2))
                .collect(Collectors.groupingBy(f -> f[0], Collectors.mapping(f -> f[1], Collectors.toList())));
        int port = Integer.parseInt(config.get("listen").getFirst());
        List<String> hosts = config.get("host");
        String[] destination = config.get("destination").getFirst().split(":");
        SSLContext tls = SSLContext.getInstance("TLS");
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(
                keyStore(
                        Path.of(config.get("cert").getFirst()),
                        Path.of(config.get("key").getFirst())),
                new char[0]);
        tls.init(keys.getKeyManagers(), null, null);
        SSLServerSocket server = (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
        server.bind(new InetSocketAddress("0.0.0.0", port), 200);
        SSLParameters params = server.getSSLParameters();
        String min = config.getOrDefault("min", List.of("TLSv1.2")).getFirst();
        params.setProtocols(min.equals("TLSv1.3") ? new String[] {"TLSv1.3"} : new String[] {"TLSv1.3", "TLSv1.2"});
        params.setApplicationProtocols(new String[] {"h2"});
        params.setSNIMatchers(List.of(new SNIMatcher(0) {
            @Override
            public boolean matches(javax.net.ssl.SNIServerName name) {
                return hosts.contains(
                        new SNIHostName(name.getEncoded()).getAsciiName().toLowerCase());
            }
        }));
        server.setSSLParameters(params);
        System.out.println(
                "istio-ingressgateway (box) on " + port + " for " + hosts + " to " + String.join(":", destination));
        System.out.flush();
        while (true) {
            SSLSocket client = (SSLSocket) server.accept();
            Thread.ofVirtual().start(() -> carry(client, destination[0], Integer.parseInt(destination[1])));
        }
    }

    private static void carry(SSLSocket client, String host, int port) {
        try (client;
                Socket upstream = new Socket()) {
            client.startHandshake();
            // Istio's gateway is a mesh proxy: it reaches an in-mesh destination with mTLS (auto mTLS), the box's
            // mark for which the destination's sidecar takes it on its mTLS listener
            upstream.setTrafficClass(IstioOutbound.MTLS_TOS);
            upstream.connect(new InetSocketAddress(InetAddress.getByName(host), port), 5_000);
            Thread back = Thread.ofVirtual().start(() -> pipe(upstream, client));
            pipe(client, upstream);
            back.join();
        } catch (IOException e) {
            System.out.println("connection from " + client.getRemoteSocketAddress() + " ended: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void pipe(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException e) {
            // the other side closed
        } finally {
            try {
                to.close();
                from.close();
            } catch (IOException e) {
                // closing
            }
        }
    }

    /** The Secret's {@code tls.crt} (a PEM chain) and {@code tls.key} (PKCS#8 PEM) as a key store. */
    static KeyStore keyStore(Path cert, Path key) throws Exception {
        List<Certificate> chain =
                List.copyOf(CertificateFactory.getInstance("X.509").generateCertificates(Files.newInputStream(cert)));
        String pem = Files.readString(key, StandardCharsets.US_ASCII);
        byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        PrivateKey privateKey = null;
        for (String algorithm : List.of("EC", "RSA")) {
            try {
                privateKey = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                break;
            } catch (java.security.spec.InvalidKeySpecException e) {
                // the other algorithm
            }
        }
        if (privateKey == null) {
            throw new IllegalArgumentException(key + ": not a PKCS#8 EC or RSA key");
        }
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setKeyEntry("tls", privateKey, new char[0], chain.toArray(Certificate[]::new));
        return store;
    }
}
