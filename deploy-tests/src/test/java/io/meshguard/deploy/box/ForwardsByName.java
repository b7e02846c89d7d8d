package io.meshguard.deploy.box;

import io.meshguard.runtime.http.IdpTrust;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A workstation's HTTP proxy for the bank's names: a plain-http request for one of them goes to its port-forward in
 * absolute form ({@code GET http://host:port/path}, RFC 9112 §3.2.2), so the server sees the name it is known by; an
 * https one is tunnelled ({@code CONNECT host:443}, RFC 9110 §9.3.6) by a relay on this machine's loopback to the
 * name's port-forward, so the client speaks TLS end to end with the server that name reaches and checks its
 * certificate against the bank's CA ({@link #trust}), as a bank's workstation does.
 */
final class ForwardsByName extends ProxySelector {
    private final Map<String, InetSocketAddress> names;
    private final InetSocketAddress relay;

    private ForwardsByName(Map<String, InetSocketAddress> names, InetSocketAddress relay) {
        this.names = names;
        this.relay = relay;
    }

    /** The bank's CA, which its workstations trust (the box's, set once it is made). */
    private static volatile Optional<Path> bankCa = Optional.empty();

    /** One relay per set of names, for the JVM's life (a journey makes a workstation client per sign-in). */
    private static final Map<Map<String, InetSocketAddress>, InetSocketAddress> RELAYS =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The SHA-256 of the bank's CA's public key (base64), what a person's Chromium is told to accept
     * ({@code --ignore-certificate-errors-spki-list}: a chain holding that key), as a bank's managed browser trusts
     * its CA.
     */
    static Optional<String> bankCaKeyHash() {
        return bankCa.map(pem -> {
            try (InputStream in = java.nio.file.Files.newInputStream(pem)) {
                byte[] key = java.security.cert.CertificateFactory.getInstance("X.509")
                        .generateCertificate(in)
                        .getPublicKey()
                        .getEncoded();
                return java.util.Base64.getEncoder()
                        .encodeToString(java.security.MessageDigest.getInstance("SHA-256")
                                .digest(key));
            } catch (IOException | java.security.GeneralSecurityException e) {
                throw new IllegalStateException("the bank's CA " + pem + ": " + e.getMessage(), e);
            }
        });
    }

    /** The bank's CA (PEM), which its workstations trust. */
    static Path bankCa() {
        return bankCa.orElseThrow(() -> new IllegalStateException("the bank's CA is not made yet"));
    }

    /** The bank's workstations trust {@code caPem} (PEM) from now on. */
    static void trust(Path caPem) {
        bankCa = Optional.of(caPem);
    }

    /**
     * The JVM flags that make a Java tool on the workstation (the CLI, whose HTTP client takes the JDK's default proxy
     * selector and trust) reach the bank's https names as {@link #workstation}'s client does: this workstation's
     * {@code CONNECT} relay as the https proxy, the bank's CA as the trust store.
     */
    static List<String> javaFlags(Map<String, InetSocketAddress> names) {
        InetSocketAddress relay = RELAYS.computeIfAbsent(Map.copyOf(names), ConnectRelay::start);
        Path ca = bankCa();
        Path store = ca.resolveSibling("workstation-trust.p12");
        try (InputStream in = java.nio.file.Files.newInputStream(ca)) {
            java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry(
                    "bank-ca",
                    java.security.cert.CertificateFactory.getInstance("X.509").generateCertificate(in));
            try (OutputStream out = java.nio.file.Files.newOutputStream(store)) {
                trust.store(out, "workstation".toCharArray());
            }
        } catch (IOException | java.security.GeneralSecurityException e) {
            throw new IllegalStateException("the workstation's trust store: " + e.getMessage(), e);
        }
        return List.of(
                "-Dhttps.proxyHost=" + relay.getHostString(),
                "-Dhttps.proxyPort=" + relay.getPort(),
                "-Djavax.net.ssl.trustStore=" + store,
                "-Djavax.net.ssl.trustStoreType=PKCS12",
                "-Djavax.net.ssl.trustStorePassword=workstation");
    }

    /** The workstation's HTTP client: the bank's names through their port-forwards, everything else direct. */
    static HttpClient workstation(Map<String, InetSocketAddress> names) {
        HttpClient.Builder b = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .proxy(new ForwardsByName(names, RELAYS.computeIfAbsent(Map.copyOf(names), ConnectRelay::start)));
        IdpTrust.context("the bank's CA", bankCa).ifPresent(b::sslContext);
        return b.build();
    }

    @Override
    public List<Proxy> select(URI uri) {
        String authority = uri.getAuthority();
        boolean tls = "https".equalsIgnoreCase(uri.getScheme());
        InetSocketAddress forward = names.get(authority);
        if (forward == null && tls && uri.getPort() == 443) {
            forward = names.get(uri.getHost());
        }
        if (forward == null) {
            return List.of(Proxy.NO_PROXY);
        }
        return List.of(new Proxy(Proxy.Type.HTTP, tls ? relay : forward));
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException e) {}

    /** The loopback relay of one workstation: each {@code CONNECT name:port} piped to that name's port-forward. */
    private static final class ConnectRelay {
        static InetSocketAddress start(Map<String, InetSocketAddress> names) {
            try {
                ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                Thread.ofVirtual().name("workstation-connect-relay").start(() -> {
                    while (!server.isClosed()) {
                        try {
                            Socket client = server.accept();
                            Thread.ofVirtual().start(() -> tunnel(client, names));
                        } catch (IOException e) {
                            return;
                        }
                    }
                });
                return new InetSocketAddress(server.getInetAddress(), server.getLocalPort());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private static void tunnel(Socket client, Map<String, InetSocketAddress> names) {
            try (client) {
                InputStream in = client.getInputStream();
                String head = readHead(in);
                String[] request = head.split("\r\n", 2)[0].split(" ");
                OutputStream out = client.getOutputStream();
                if (request.length != 3 || !request[0].equals("CONNECT")) {
                    out.write("HTTP/1.1 405 Method Not Allowed\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    return;
                }
                String target = request[1];
                InetSocketAddress forward = names.get(target);
                if (forward == null && target.endsWith(":443")) {
                    forward = names.get(target.substring(0, target.length() - 4));
                }
                if (forward == null) {
                    out.write("HTTP/1.1 502 Bad Gateway\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    return;
                }
                try (Socket upstream = new Socket()) {
                    upstream.connect(forward, 5_000);
                    out.write("HTTP/1.1 200 Connection Established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    Thread back = Thread.ofVirtual().start(() -> pipe(upstream, client));
                    pipe(client, upstream);
                    back.join();
                }
            } catch (IOException | InterruptedException e) {
                // the workstation's client sees the tunnel end
            }
        }

        private static String readHead(InputStream in) throws IOException {
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0 || head.length() > 8192) {
                    throw new IOException("no CONNECT request");
                }
                head.append((char) b);
            }
            return head.toString();
        }

        private static void pipe(Socket from, Socket to) {
            try {
                from.getInputStream().transferTo(to.getOutputStream());
                to.shutdownOutput();
            } catch (IOException e) {
                // one side closed
            }
        }
    }
}
