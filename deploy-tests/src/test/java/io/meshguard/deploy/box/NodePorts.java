package io.meshguard.deploy.box;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code kubectl port-forward} for the test JVM: a loopback port in the host's network namespace per pod address, each
 * connection carried through the {@link NodeAgent} in the node's namespace. Loopback port 0, so parallel builds never
 * collide.
 */
final class NodePorts implements AutoCloseable {
    private final Path agentSocket;
    private final Map<String, Integer> forwards = new ConcurrentHashMap<>();
    private final List<ServerSocket> listeners = new CopyOnWriteArrayList<>();

    NodePorts(Path agentSocket) {
        this.agentSocket = agentSocket;
    }

    /** A loopback port of this JVM that reaches {@code address:port} from the node. */
    int forward(String address, int port) {
        return forwards.computeIfAbsent(address + ":" + port, target -> {
            try {
                ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
                listeners.add(listener);
                Thread.ofVirtual().start(() -> accept(listener, target));
                return listener.getLocalPort();
            } catch (IOException e) {
                throw new IllegalStateException("cannot open a loopback port for " + target, e);
            }
        });
    }

    /** {@code 127.0.0.1:<forwarded port>} for {@code address:port}. */
    InetSocketAddress local(String address, int port) {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), forward(address, port));
    }

    /** True when a TCP connection from the node to {@code address:port} opens (the kubelet's tcpSocket probe). */
    boolean connects(String address, int port) {
        try (SocketChannel channel = open(address + ":" + port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void accept(ServerSocket listener, String target) {
        while (!listener.isClosed()) {
            try {
                Socket client = listener.accept();
                Thread.ofVirtual().start(() -> carry(client, target));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void carry(Socket client, String target) {
        try (client;
                SocketChannel channel = open(target)) {
            InputStream in = Channels.newInputStream(channel);
            OutputStream out = Channels.newOutputStream(channel);
            Pipe.both(in, out, client);
        } catch (IOException e) {
            Pipe.closeQuietly(client);
        }
    }

    private SocketChannel open(String target) throws IOException {
        SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.connect(UnixDomainSocketAddress.of(agentSocket));
            OutputStream out = Channels.newOutputStream(channel);
            out.write((target + "\n").getBytes(StandardCharsets.UTF_8));
            out.flush();
            String answer = NodeAgent.readLine(Channels.newInputStream(channel));
            if (!answer.equals("OK")) {
                throw new IOException("node cannot reach " + target + ": " + answer);
            }
            return channel;
        } catch (IOException e) {
            channel.close();
            throw e;
        }
    }

    @Override
    public void close() {
        listeners.forEach(Pipe::closeQuietly);
    }
}
