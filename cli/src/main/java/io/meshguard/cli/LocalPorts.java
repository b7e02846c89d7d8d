package io.meshguard.cli;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Ports for {@code meshguard up}: each server's well-known port when it is free on 127.0.0.1, otherwise 0 (any free
 * port), so that a second local stack or a test run beside one still starts. {@code up} lists the ports it got.
 */
public final class LocalPorts {
    private LocalPorts() {}

    /** {@code port} when nothing listens on it on 127.0.0.1, else 0. */
    public static int preferred(int port) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress("127.0.0.1", port));
            return port;
        } catch (IOException taken) {
            return 0;
        }
    }
}
