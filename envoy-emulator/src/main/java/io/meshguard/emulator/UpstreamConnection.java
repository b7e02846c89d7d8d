package io.meshguard.emulator;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;

/**
 * One HTTP/1.1 request to an upstream host over a plain socket, the way Envoy's HTTP/1 codec sends it
 * (source/common/http/http1/codec_impl.cc): {@code Host} from {@code :authority}, a body without content-length sent
 * chunked and piece by piece as it arrives, the response body read piece by piece (one piece per chunk).
 */
final class UpstreamConnection implements AutoCloseable {
    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private boolean chunkedRequest;
    private boolean chunkedResponse;
    private long remaining = -1;
    private boolean done;

    record Head(int status, Headers headers) {}

    private UpstreamConnection(Socket socket) throws IOException {
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.in = new BufferedInputStream(socket.getInputStream());
    }

    static UpstreamConnection open(InetSocketAddress address, Duration connectTimeout, Duration readTimeout)
            throws IOException {
        Socket socket = new Socket();
        socket.connect(address, (int) Math.max(1, connectTimeout.toMillis()));
        socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, readTimeout.toMillis()));
        socket.setTcpNoDelay(true);
        return new UpstreamConnection(socket);
    }

    /** Request line and headers; {@code hasBody} without a content-length header means chunked. */
    void sendHead(String method, String path, String authority, Headers headers, boolean hasBody) throws IOException {
        StringBuilder head = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\n");
        head.append("host: ").append(authority).append("\r\n");
        for (String[] h : headers.entries()) {
            if (h[0].startsWith(":")
                    || h[0].equals("host")
                    || h[0].equals("transfer-encoding")
                    || h[0].equals("connection")) {
                continue;
            }
            head.append(h[0]).append(": ").append(h[1]).append("\r\n");
        }
        chunkedRequest = hasBody && !headers.has("content-length");
        if (chunkedRequest) {
            head.append("transfer-encoding: chunked\r\n");
        }
        head.append("\r\n");
        out.write(head.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
    }

    void sendBody(byte[] piece) throws IOException {
        if (piece.length == 0) {
            return;
        }
        if (chunkedRequest) {
            out.write((Integer.toHexString(piece.length) + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            out.write(piece);
            out.write("\r\n".getBytes(StandardCharsets.ISO_8859_1));
        } else {
            out.write(piece);
        }
        out.flush();
    }

    void endBody() throws IOException {
        if (chunkedRequest) {
            out.write("0\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
    }

    Head readHead() throws IOException {
        String status = line();
        String[] parts = status.split(" ", 3);
        if (parts.length < 2 || !parts[0].startsWith("HTTP/1.")) {
            throw new IOException("upstream sent no HTTP/1 status line: " + status);
        }
        Headers headers = new Headers();
        for (String l = line(); !l.isEmpty(); l = line()) {
            int colon = l.indexOf(':');
            headers.add(l.substring(0, colon).trim(), l.substring(colon + 1).trim());
        }
        int code = Integer.parseInt(parts[1]);
        chunkedResponse = headers.first("transfer-encoding")
                .map(v -> v.toLowerCase(Locale.ROOT).contains("chunked"))
                .orElse(false);
        remaining = headers.first("content-length").map(Long::parseLong).orElse(chunkedResponse ? -1L : -2L);
        if (code == 204 || code == 304 || remaining == 0) {
            done = true;
        }
        return new Head(code, headers);
    }

    /** The next piece of the response body, or null at its end. */
    byte[] readBody() throws IOException {
        if (done) {
            return null;
        }
        if (chunkedResponse) {
            String size = line();
            int semicolon = size.indexOf(';');
            int n = Integer.parseInt((semicolon < 0 ? size : size.substring(0, semicolon)).trim(), 16);
            if (n == 0) {
                for (String l = line(); !l.isEmpty(); l = line()) {
                    // trailers: none of our upstreams send any
                }
                done = true;
                return null;
            }
            byte[] piece = in.readNBytes(n);
            line();
            return piece;
        }
        byte[] buf = new byte[16 * 1024];
        int max = remaining >= 0 ? (int) Math.min(buf.length, remaining) : buf.length;
        int read = in.read(buf, 0, max);
        if (read < 0) {
            done = true;
            return null;
        }
        if (remaining >= 0) {
            remaining -= read;
            if (remaining == 0) {
                done = true;
            }
        }
        byte[] piece = new byte[read];
        System.arraycopy(buf, 0, piece, 0, read);
        return piece;
    }

    private String line() throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        int c;
        while ((c = in.read()) >= 0 && c != '\n') {
            if (c != '\r') {
                b.write(c);
            }
        }
        if (c < 0 && b.size() == 0) {
            throw new IOException("upstream closed the connection");
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Resets the connection: what was not sent yet never reaches the upstream. */
    void abort() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // already gone
        }
    }
}
