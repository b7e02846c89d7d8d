package io.meshguard.deploy.box;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The node's side of {@code kubectl port-forward} and of the kubelet's probe connections: a process started inside the
 * box's node network namespace (where the pod bridge is) that listens on a Unix socket in the shared file system. Each
 * connection starts with one line, {@code address:port}, and is then piped to that TCP address as seen from the node.
 * The test JVM stays in the host's network namespace and reaches pods only through here.
 */
public final class NodeAgent {
    private NodeAgent() {}

    public static void main(String[] args) throws IOException {
        Path socket = Path.of(args[0]);
        Files.deleteIfExists(socket);
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            System.out.println("node agent listening on " + socket);
            System.out.flush();
            while (true) {
                SocketChannel client = server.accept();
                Thread.ofVirtual().start(() -> serve(client));
            }
        }
    }

    private static void serve(SocketChannel client) {
        try (client) {
            InputStream in = Channels.newInputStream(client);
            OutputStream out = Channels.newOutputStream(client);
            String target = readLine(in);
            int colon = target.lastIndexOf(':');
            try (Socket upstream = new Socket()) {
                try {
                    upstream.connect(
                            new InetSocketAddress(
                                    target.substring(0, colon), Integer.parseInt(target.substring(colon + 1))),
                            2000);
                } catch (IOException e) {
                    out.write(("ERR " + e.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
                    return;
                }
                out.write("OK\n".getBytes(StandardCharsets.UTF_8));
                out.flush();
                Pipe.both(in, out, upstream);
            }
        } catch (IOException | RuntimeException e) {
            // a probe or client that went away: nothing to report from the node's side
        }
    }

    static String readLine(InputStream in) throws IOException {
        StringBuilder line = new StringBuilder();
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.append((char) b);
        }
        return line.toString();
    }
}
