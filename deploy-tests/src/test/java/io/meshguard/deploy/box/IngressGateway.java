package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIMatcher;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * Istio's ingress gateway in the box, serving {@link IngressRoutes}: on an HTTPS port it terminates TLS with the
 * certificate of the server the client's SNI names (the Secret {@code credentialName} in the gateway's namespace, as
 * Istio's SDS reads it; another name, or none, finds no filter chain and the handshake fails, as in Envoy). A gRPC
 * destination gets ALPN {@code h2} and the decrypted stream as it is; an HTTP one is proxied request by request
 * (HTTP/1.1 towards the client, which the box offers by ALPN where Istio would also offer h2): the route chosen by
 * {@code Host} among the server's routes (none: 404, as Envoy's "no route"), {@code x-forwarded-proto: https} and the
 * client's address appended to {@code x-forwarded-for}, the endpoint by the DestinationRule's cookie hash where one
 * is set (a session cookie generated when the request has none, as Envoy does for {@code ttl: 0s}), the route's
 * response headers set. An HTTP port only redirects (301 to https). Connections to destinations carry the gateway's
 * identity: the box's mTLS mark from this pod's address (deploy-tests/README.md).
 *
 * <p>Arguments: the routes as JSON ({@link IngressRoutes#resolve resolved}), and a folder holding each credential's
 * {@code NAME.crt} (PEM chain) and {@code NAME.key} (PKCS#8 PEM).
 */
public final class IngressGateway {
    private static final SecureRandom RANDOM = new SecureRandom();

    private IngressGateway() {}

    /** The system property naming the box's {@link NotReadyPods} file. */
    static final String NOT_READY = "meshguard.box.endpointsNotReady";

    private static final NotReadyPods NOT_READY_PODS =
            new NotReadyPods(Optional.ofNullable(System.getProperty(NOT_READY)).map(Path::of));

    public static void main(String[] args) throws Exception {
        IngressRoutes routes = new ObjectMapper().readValue(Path.of(args[0]).toFile(), IngressRoutes.class);
        Path credentials = Path.of(args[1]);
        for (int port : routes.ports()) {
            List<IngressRoutes.Server> servers =
                    routes.servers().stream().filter(s -> s.port() == port).toList();
            ServerSocket listener =
                    servers.getFirst().https() ? tlsListener(port, servers, credentials) : new ServerSocket();
            listener.bind(new InetSocketAddress("0.0.0.0", port), 200);
            Thread.ofPlatform().name("listener-" + port).start(() -> accept(listener, servers));
            System.out.println("istio-ingressgateway (box) on " + port + ": "
                    + servers.stream()
                            .map(s -> s.gateway() + " " + s.hosts() + (s.https() ? "" : " (redirect to https)"))
                            .toList());
        }
        System.out.flush();
        Thread.currentThread().join();
    }

    private static void accept(ServerSocket listener, List<IngressRoutes.Server> servers) {
        while (true) {
            try {
                Socket client = listener.accept();
                Thread.ofVirtual().start(() -> serve(client, servers));
            } catch (IOException e) {
                System.out.println("listener " + listener.getLocalPort() + " ended: " + e.getMessage());
                return;
            }
        }
    }

    private static void serve(Socket client, List<IngressRoutes.Server> servers) {
        try (client) {
            if (!(client instanceof SSLSocket tls)) {
                redirect(client, servers);
                return;
            }
            tls.setHandshakeApplicationProtocolSelector((socket, offered) -> sni(socket)
                    .flatMap(host -> route(servers, host))
                    .map(r -> r.grpc() ? (offered.contains("h2") ? "h2" : null) : "http/1.1")
                    .filter(alpn -> offered.isEmpty() || offered.contains(alpn))
                    .orElse(""));
            tls.startHandshake();
            // a resumed session skips the certificate choice: a name no server serves still gets nothing
            String host = sni(tls).orElse("");
            Optional<IngressRoutes.Server> named =
                    servers.stream().filter(s -> s.serves(host)).findFirst();
            if (named.isEmpty()) {
                System.out.println("connection from " + client.getRemoteSocketAddress() + " names '" + host
                        + "', which no server serves: closed");
                return;
            }
            IngressRoutes.Server server = named.get();
            IngressRoutes.Route byName = route(servers, host).orElse(null);
            if (byName != null && byName.grpc()) {
                relay(tls, byName);
            } else {
                proxy(tls, server);
            }
        } catch (IOException e) {
            System.out.println("connection from " + client.getRemoteSocketAddress() + " ended: " + e.getMessage());
        }
    }

    /** The server name the client asked for in its handshake. */
    private static Optional<String> sni(SSLSocket socket) {
        javax.net.ssl.SSLSession session = socket.getHandshakeSession();
        if (session == null) {
            session = socket.getSession();
        }
        if (session instanceof ExtendedSSLSession extended) {
            for (SNIServerName name : extended.getRequestedServerNames()) {
                if (name instanceof SNIHostName h) {
                    return Optional.of(h.getAsciiName().toLowerCase(Locale.ROOT));
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<IngressRoutes.Route> route(List<IngressRoutes.Server> servers, String host) {
        return servers.stream()
                .filter(s -> s.serves(host))
                .flatMap(s -> s.routes().stream())
                .filter(r -> r.serves(host))
                .findFirst();
    }

    /** gRPC: the decrypted stream to the destination as it is. */
    private static void relay(SSLSocket client, IngressRoutes.Route route) throws IOException {
        try (Socket upstream = connect(route, Optional.empty())) {
            Thread back = Thread.ofVirtual().start(() -> pipe(upstream, client));
            pipe(client, upstream);
            try {
                back.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** HTTP/1.1: request by request, each to its route's endpoint, until the client closes or asks to. */
    private static void proxy(SSLSocket client, IngressRoutes.Server server) throws IOException {
        client.setSoTimeout(120_000);
        InputStream in = client.getInputStream();
        OutputStream out = client.getOutputStream();
        while (true) {
            Http.Head request = Http.Head.read(in);
            if (request == null) {
                return;
            }
            String host = request.value("host").map(IngressGateway::withoutPort).orElse("");
            Optional<IngressRoutes.Route> route =
                    server.routes().stream().filter(r -> r.serves(host)).findFirst();
            if (route.isEmpty()) {
                Http.skipBody(request, in);
                out.write(("HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                continue;
            }
            IngressRoutes.Route r = route.get();
            Optional<String> cookie = r.affinityCookie().isEmpty()
                    ? Optional.empty()
                    : Optional.of(request.cookie(r.affinityCookie())
                            .orElseGet(() -> HexFormat.of().formatHex(randomBytes())));
            boolean generated =
                    cookie.isPresent() && request.cookie(r.affinityCookie()).isEmpty();
            Http.Head forwarded = request.without("connection", "keep-alive", "proxy-connection", "x-forwarded-proto")
                    .with("x-forwarded-proto", "https")
                    .with(
                            "x-forwarded-for",
                            request.value("x-forwarded-for").map(v -> v + ", ").orElse("")
                                    + client.getInetAddress().getHostAddress())
                    .with("connection", "close");
            boolean close = request.value("connection")
                    .map(v -> v.toLowerCase(Locale.ROOT).contains("close"))
                    .orElse(false);
            try (Socket upstream = connect(r, cookie)) {
                OutputStream up = upstream.getOutputStream();
                up.write(forwarded.bytes());
                Http.copyBody(request, in, up);
                up.flush();
                InputStream down = upstream.getInputStream();
                Http.Head response = Http.Head.read(down);
                if (response == null) {
                    throw new IOException("the destination " + r.destination() + " closed without an answer");
                }
                Http.Head answer = response.without("connection", "keep-alive");
                for (var h : r.responseHeaders().entrySet()) {
                    answer = answer.without(h.getKey()).with(h.getKey(), h.getValue());
                }
                if (generated) {
                    answer = answer.with(
                            "set-cookie", r.affinityCookie() + "=\"" + cookie.get() + "\"; Path=/; HttpOnly");
                }
                boolean untilClose = !response.framed(request.method());
                if (close || untilClose) {
                    answer = answer.with("connection", "close");
                }
                out.write(answer.bytes());
                Http.copyResponseBody(response, request.method(), down, out);
                out.flush();
                if (close || untilClose) {
                    return;
                }
            }
        }
    }

    /** The endpoint ({@code ip:port}) a request carrying the affinity cookie {@code value} goes to. */
    static String endpointFor(String value, List<String> endpoints) {
        List<String> ring = endpoints.stream().sorted().toList();
        return ring.get(Math.floorMod(value.hashCode(), ring.size()));
    }

    private static byte[] randomBytes() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return b;
    }

    /**
     * A connection to the route's destination with the gateway's identity: its endpoint by the cookie's hash when the
     * DestinationRule hashes by one (the next endpoint when that one refuses, as Envoy's ring moves past an endpoint
     * that left), else the Service's address (kube-proxy picks).
     */
    private static Socket connect(IngressRoutes.Route route, Optional<String> cookie) throws IOException {
        List<String> targets = new ArrayList<>();
        // istiod's EDS leaves out endpoints whose pod failed readiness: the ring is built from the ready ones
        List<String> endpoints = NOT_READY_PODS.ready(route.endpoints(), e -> e.substring(0, e.lastIndexOf(':')));
        if (cookie.isPresent() && !endpoints.isEmpty()) {
            List<String> ring = endpoints.stream().sorted().toList();
            int first = ring.indexOf(endpointFor(cookie.get(), endpoints));
            for (int i = 0; i < ring.size(); i++) {
                targets.add(ring.get((first + i) % ring.size()));
            }
        } else {
            targets.add(route.destination());
        }
        IOException last = null;
        for (String target : targets) {
            int colon = target.lastIndexOf(':');
            Socket upstream = new Socket();
            try {
                upstream.setTrafficClass(IstioOutbound.MTLS_TOS);
                upstream.connect(
                        new InetSocketAddress(
                                InetAddress.getByName(target.substring(0, colon)),
                                Integer.parseInt(target.substring(colon + 1))),
                        5_000);
                return upstream;
            } catch (IOException e) {
                upstream.close();
                last = e;
            }
        }
        throw last;
    }

    /** A plain-HTTP port: a 301 to https for the hosts of its redirect servers, 404 for any other. */
    private static void redirect(Socket client, List<IngressRoutes.Server> servers) throws IOException {
        client.setSoTimeout(30_000);
        Http.Head request = Http.Head.read(client.getInputStream());
        if (request == null) {
            return;
        }
        String host = request.value("host").map(IngressGateway::withoutPort).orElse("");
        String answer = servers.stream().anyMatch(s -> s.serves(host))
                ? "HTTP/1.1 301 Moved Permanently\r\nlocation: https://" + host + request.target()
                        + "\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                : "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        client.getOutputStream().write(answer.getBytes(StandardCharsets.US_ASCII));
        client.getOutputStream().flush();
    }

    private static String withoutPort(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        int colon = h.lastIndexOf(':');
        return colon > 0 && !h.endsWith("]") ? h.substring(0, colon) : h;
    }

    private static SSLServerSocket tlsListener(int port, List<IngressRoutes.Server> servers, Path credentials)
            throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        for (IngressRoutes.Server s : servers) {
            if (!store.containsAlias(s.credentialName())) {
                KeyStore one = keyStore(
                        credentials.resolve(s.credentialName() + ".crt"),
                        credentials.resolve(s.credentialName() + ".key"));
                store.setKeyEntry(
                        s.credentialName(),
                        one.getKey("tls", new char[0]),
                        new char[0],
                        one.getCertificateChain("tls"));
            }
        }
        KeyManagerFactory factory = KeyManagerFactory.getInstance("SunX509");
        factory.init(store, new char[0]);
        X509KeyManager keys = (X509KeyManager) factory.getKeyManagers()[0];
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(new javax.net.ssl.KeyManager[] {new BySni(keys, servers)}, null, null);
        SSLServerSocket listener =
                (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
        SSLParameters params = listener.getSSLParameters();
        boolean tls13Only = servers.stream().allMatch(s -> s.minProtocol().equals("TLSv1.3"));
        params.setProtocols(tls13Only ? new String[] {"TLSv1.3"} : new String[] {"TLSv1.3", "TLSv1.2"});
        params.setSNIMatchers(List.of(new SNIMatcher(0) {
            @Override
            public boolean matches(SNIServerName name) {
                String host = new SNIHostName(name.getEncoded()).getAsciiName();
                return servers.stream().anyMatch(s -> s.serves(host));
            }
        }));
        listener.setSSLParameters(params);
        return listener;
    }

    /** Each server's certificate for the names it serves: the filter chain the client's SNI selects. */
    private static final class BySni extends X509ExtendedKeyManager {
        private final X509KeyManager keys;
        private final List<IngressRoutes.Server> servers;

        BySni(X509KeyManager keys, List<IngressRoutes.Server> servers) {
            this.keys = keys;
            this.servers = servers;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return sni((SSLSocket) socket)
                    .flatMap(
                            host -> servers.stream().filter(s -> s.serves(host)).findFirst())
                    .map(IngressRoutes.Server::credentialName)
                    .filter(alias -> keys.getPrivateKey(alias).getAlgorithm().equals(keyType))
                    .orElse(null);
        }

        @Override
        public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return keys.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return keys.getPrivateKey(alias);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return keys.getServerAliases(keyType, issuers);
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[0];
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return null;
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

    /** HTTP/1.1 message heads and bodies, as far as a proxy needs them (RFC 9112). */
    static final class Http {
        private Http() {}

        /** A start line and its header fields, in order. */
        record Head(String startLine, List<String[]> fields) {
            static Head read(InputStream in) throws IOException {
                ByteArrayOutputStream line = new ByteArrayOutputStream();
                List<String> lines = new ArrayList<>();
                int total = 0;
                while (true) {
                    int b = in.read();
                    if (b < 0) {
                        if (lines.isEmpty() && line.size() == 0) {
                            return null;
                        }
                        throw new IOException("the message head ended early");
                    }
                    if (++total > 64 * 1024) {
                        throw new IOException("message head over 64 KiB");
                    }
                    if (b == '\n') {
                        String l = line.toString(StandardCharsets.ISO_8859_1);
                        l = l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
                        line.reset();
                        if (l.isEmpty()) {
                            if (lines.isEmpty()) {
                                continue; // a stray CRLF between messages
                            }
                            break;
                        }
                        lines.add(l);
                    } else {
                        line.write(b);
                    }
                }
                List<String[]> fields = new ArrayList<>();
                for (String l : lines.subList(1, lines.size())) {
                    int colon = l.indexOf(':');
                    if (colon <= 0) {
                        throw new IOException("not a header field: " + l);
                    }
                    fields.add(new String[] {
                        l.substring(0, colon).strip(), l.substring(colon + 1).strip()
                    });
                }
                return new Head(lines.getFirst(), List.copyOf(fields));
            }

            String method() {
                return startLine.split(" ", 2)[0];
            }

            String target() {
                String[] parts = startLine.split(" ");
                return parts.length > 1 ? parts[1] : "/";
            }

            int status() {
                return Integer.parseInt(startLine.split(" ")[1]);
            }

            Optional<String> value(String name) {
                return fields.stream()
                        .filter(f -> f[0].equalsIgnoreCase(name))
                        .map(f -> f[1])
                        .findFirst();
            }

            Optional<String> cookie(String name) {
                return fields.stream()
                        .filter(f -> f[0].equalsIgnoreCase("cookie"))
                        .flatMap(f -> java.util.Arrays.stream(f[1].split(";")))
                        .map(String::strip)
                        .filter(c -> c.startsWith(name + "="))
                        .map(c -> c.substring(name.length() + 1).replace("\"", ""))
                        .findFirst();
            }

            Head without(String... names) {
                List<String> drop = List.of(names);
                return new Head(
                        startLine,
                        fields.stream()
                                .filter(f -> drop.stream().noneMatch(n -> n.equalsIgnoreCase(f[0])))
                                .toList());
            }

            Head with(String name, String value) {
                List<String[]> more = new ArrayList<>(fields);
                more.add(new String[] {name, value});
                return new Head(startLine, List.copyOf(more));
            }

            /** Whether a response's body ends by its framing rather than by the connection closing. */
            boolean framed(String requestMethod) {
                int status = status();
                return requestMethod.equals("HEAD")
                        || status / 100 == 1
                        || status == 204
                        || status == 304
                        || value("content-length").isPresent()
                        || chunked();
            }

            boolean chunked() {
                return value("transfer-encoding")
                        .map(v -> v.toLowerCase(Locale.ROOT).contains("chunked"))
                        .orElse(false);
            }

            byte[] bytes() {
                StringBuilder s = new StringBuilder(startLine).append("\r\n");
                fields.forEach(f -> s.append(f[0]).append(": ").append(f[1]).append("\r\n"));
                return s.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1);
            }
        }

        static void skipBody(Head request, InputStream in) throws IOException {
            copyBody(request, in, OutputStream.nullOutputStream());
        }

        /** A request's body: by its length, chunked, or none. */
        static void copyBody(Head request, InputStream in, OutputStream out) throws IOException {
            if (request.chunked()) {
                copyChunked(in, out);
            } else {
                long length = Long.parseLong(request.value("content-length").orElse("0"));
                copyExactly(in, out, length);
            }
        }

        /** A response's body, streamed as it arrives (SSE included). */
        static void copyResponseBody(Head response, String requestMethod, InputStream in, OutputStream out)
                throws IOException {
            int status = response.status();
            if (requestMethod.equals("HEAD") || status / 100 == 1 || status == 204 || status == 304) {
                return;
            }
            if (response.chunked()) {
                copyChunked(in, out);
            } else if (response.value("content-length").isPresent()) {
                copyExactly(
                        in, out, Long.parseLong(response.value("content-length").get()));
            } else {
                byte[] buffer = new byte[16 * 1024];
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            }
        }

        private static void copyExactly(InputStream in, OutputStream out, long length) throws IOException {
            byte[] buffer = new byte[16 * 1024];
            long left = length;
            while (left > 0) {
                int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                if (n < 0) {
                    throw new IOException("the body ended " + left + " bytes early");
                }
                out.write(buffer, 0, n);
                left -= n;
            }
            out.flush();
        }

        private static void copyChunked(InputStream in, OutputStream out) throws IOException {
            while (true) {
                String size = line(in);
                out.write((size + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                long n = Long.parseLong(size.split(";")[0].strip(), 16);
                if (n == 0) {
                    String trailer;
                    do {
                        trailer = line(in);
                        out.write((trailer + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                    } while (!trailer.isEmpty());
                    out.flush();
                    return;
                }
                copyExactly(in, out, n);
                out.write((line(in) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
            }
        }

        private static String line(InputStream in) throws IOException {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = in.read()) >= 0 && b != '\n') {
                line.write(b);
            }
            if (b < 0) {
                throw new IOException("the chunked body ended early");
            }
            String l = line.toString(StandardCharsets.ISO_8859_1);
            return l.endsWith("\r") ? l.substring(0, l.length() - 1) : l;
        }
    }
}
