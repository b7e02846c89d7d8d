package io.meshguard.deploy.box;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/** A client on the internet: one HTTP/1.1 request with the Host it names, through the box's port-forward. */
final class EdgeClient {
    private EdgeClient() {}

    record Answer(int status, Map<String, String> headers, String body) {}

    static Answer send(InetSocketAddress to, String method, String host, String path, Map<String, String> headers)
            throws Exception {
        return send(to, method, host, path, headers, "");
    }

    /** The same with a body ({@code content-length} set; empty sends none). */
    static Answer send(
            InetSocketAddress to, String method, String host, String path, Map<String, String> headers, String body)
            throws Exception {
        try (Socket s = new Socket()) {
            s.connect(to, 5000);
            return exchange(s, method, host, path, headers, body);
        }
    }

    /**
     * The same request over TLS, as a client on the internet reaches a product through the bank's ingress gateway:
     * SNI {@code host}, the chain checked against the bank's CA and the certificate against {@code host} (the JDK's
     * HTTPS endpoint identification); a failed check throws.
     */
    static Answer sendTls(InetSocketAddress to, String method, String host, String path, Map<String, String> headers)
            throws Exception {
        javax.net.ssl.SSLContext tls = io.meshguard.runtime.http.IdpTrust.context(
                        "the bank's CA", java.util.Optional.of(ForwardsByName.bankCa()))
                .orElseThrow();
        try (Socket raw = new Socket()) {
            raw.connect(to, 5000);
            javax.net.ssl.SSLSocket s =
                    (javax.net.ssl.SSLSocket) tls.getSocketFactory().createSocket(raw, host, 443, true);
            javax.net.ssl.SSLParameters params = s.getSSLParameters();
            params.setEndpointIdentificationAlgorithm("HTTPS");
            params.setServerNames(java.util.List.of(new javax.net.ssl.SNIHostName(host)));
            params.setApplicationProtocols(new String[] {"http/1.1"});
            s.setSSLParameters(params);
            s.startHandshake();
            return exchange(s, method, host, path, headers, "");
        }
    }

    private static Answer exchange(
            Socket s, String method, String host, String path, Map<String, String> headers, String body)
            throws Exception {
        {
            s.setSoTimeout(30_000);
            StringBuilder req =
                    new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
            headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
            byte[] content = body.getBytes(StandardCharsets.UTF_8);
            if (content.length > 0) {
                req.append("Content-Length: ").append(content.length).append("\r\n");
            }
            req.append("\r\n");
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.UTF_8));
            out.write(content);
            out.flush();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            s.getInputStream().transferTo(all);
            String text = all.toString(StandardCharsets.UTF_8);
            int split = text.indexOf("\r\n\r\n");
            if (split < 0) {
                throw new IllegalStateException("no HTTP answer: " + text);
            }
            String[] head = text.substring(0, split).split("\r\n");
            Map<String, String> h = new LinkedHashMap<>();
            for (int i = 1; i < head.length; i++) {
                int c = head[i].indexOf(':');
                h.put(
                        head[i].substring(0, c).trim().toLowerCase(),
                        head[i].substring(c + 1).trim());
            }
            String answer = text.substring(split + 4);
            if ("chunked".equalsIgnoreCase(h.get("transfer-encoding"))) {
                answer = dechunk(answer);
            }
            return new Answer(Integer.parseInt(head[0].split(" ")[1]), h, answer);
        }
    }

    private static String dechunk(String chunked) {
        StringBuilder out = new StringBuilder();
        int at = 0;
        while (true) {
            int eol = chunked.indexOf("\r\n", at);
            int size = Integer.parseInt(chunked.substring(at, eol).split(";")[0].trim(), 16);
            if (size == 0) {
                return out.toString();
            }
            out.append(chunked, eol + 2, eol + 2 + size);
            at = eol + 2 + size + 2;
        }
    }

    /** Calls {@code call} every 100 ms until its answer {@code fits} (the gateway still settling), for 60 s at most. */
    static Answer eventually(java.util.concurrent.Callable<Answer> call, java.util.function.Predicate<Answer> fits)
            throws Exception {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(60);
        Answer last = null;
        while (System.nanoTime() < deadline) {
            last = call.call();
            if (fits.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no fitting answer in 60 s; the last: " + last);
    }
}
