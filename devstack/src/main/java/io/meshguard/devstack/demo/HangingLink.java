package io.meshguard.devstack.demo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;

/**
 * A TCP relay on loopback between one zone and its central that the demo can make hang: {@link #hang() hung}, it
 * carries no byte either way while every connection stays open, as a network that drops packets without resetting
 * anything does. Neither side sees its stream end, so only the missing echoes tell central. {@link #heal() Healed}, it
 * closes what hung; the zone reconnects through it as after any broken link.
 */
final class HangingLink implements AutoCloseable {
    private final ServerSocket server;
    private final int target;
    private final List<Socket> sockets = new ArrayList<>();
    private volatile boolean hung;

    /** A relay to {@code 127.0.0.1:target} (central's zone port), each connection opened when the zone connects. */
    HangingLink(int target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().name("demo-hanging-link").start(this::accept);
    }

    int port() {
        return server.getLocalPort();
    }

    /** From now on no byte goes through; connections stay open, and new ones are accepted and hang too. */
    void hang() {
        hung = true;
    }

    /** Carries bytes again; the connections that hung are closed, so both sides see the break and start over. */
    void heal() {
        hung = false;
        closeAll();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket zone = server.accept();
                Socket central;
                try {
                    central = new Socket(InetAddress.getLoopbackAddress(), target);
                } catch (IOException e) {
                    zone.close(); // central is down: the zone sees a refused link and retries
                    continue;
                }
                synchronized (sockets) {
                    sockets.add(zone);
                    sockets.add(central);
                }
                Thread.ofVirtual().start(() -> pump(zone, central));
                Thread.ofVirtual().start(() -> pump(central, zone));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(Socket from, Socket to) {
        byte[] buffer = new byte[16 * 1024];
        try (InputStream in = from.getInputStream();
                OutputStream out = to.getOutputStream()) {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                while (hung && !from.isClosed()) {
                    Thread.sleep(20);
                }
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException | InterruptedException e) {
            // one side went: the other goes with it
        } finally {
            close(from);
            close(to);
        }
    }

    private void closeAll() {
        List<Socket> all;
        synchronized (sockets) {
            all = List.copyOf(sockets);
            sockets.clear();
        }
        all.forEach(HangingLink::close);
    }

    private static void close(Socket s) {
        try {
            s.close();
        } catch (IOException e) {
            // already gone
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        closeAll();
    }
}
