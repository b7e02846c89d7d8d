package io.meshguard.devstack.part;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ports {@code meshguard up} listens on, one per {@code --…-port} flag. A port is used as given: a busy one is an
 * error naming the port and its flag, never a silent move to another port (a CLI call would then talk to another
 * stack); {@code 0} asks for any free port, and the port picked is printed and written to {@code up.json}.
 *
 * @param status combined {@code /readyz}, {@code /healthz}, {@code /metrics} ({@code --status-port})
 * @param postgres the embedded PostgreSQL ({@code --pg-port})
 * @param extauthz extauthz's gRPC Check ({@code --extauthz-port})
 * @param dlp the DLP server's gRPC ext_proc ({@code --dlp-port})
 * @param accessLog the audit access-log receiver ({@code --als-port})
 * @param ads the xDS controller's ADS ({@code --ads-port})
 * @param xdsAdmin the xDS controller's admin API ({@code --xds-admin-port})
 * @param devJwks the dev issuer's JWKS ({@code --dev-jwks-port})
 * @param redis the local Redis ({@code --redis-port}); 0 also when {@code up} runs none of its own ({@code --redis
 *     none} or an external URL), so that no port is checked for it
 * @param zoneHub central's zone port, where zone controllers on this machine dial ({@code --zone-hub-port})
 */
public record UpPorts(
        int status,
        int postgres,
        int extauthz,
        int dlp,
        int accessLog,
        int ads,
        int xdsAdmin,
        int devJwks,
        int redis,
        int zoneHub) {

    /** The well-known ports (README, DESIGN.md). */
    public static final UpPorts DEFAULTS = new UpPorts(9100, 15432, 9001, 9002, 9004, 18000, 9103, 9180, 16379, 18001);

    /** Every port picked free: what tests and a second stack beside the first use. */
    public static final UpPorts ANY = new UpPorts(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);

    public UpPorts {
        for (Map.Entry<String, Integer> port : byFlag(
                        status, postgres, extauthz, dlp, accessLog, ads, xdsAdmin, devJwks, redis, zoneHub)
                .entrySet()) {
            if (port.getValue() < 0 || port.getValue() > 65535) {
                throw new IllegalArgumentException(
                        port.getKey() + " must be between 0 and 65535, got " + port.getValue());
            }
        }
    }

    /** A copy whose ADS port is {@code port}. */
    public UpPorts withAds(int port) {
        return new UpPorts(status, postgres, extauthz, dlp, accessLog, port, xdsAdmin, devJwks, redis, zoneHub);
    }

    /** A copy without a port for the local Redis ({@code up} runs none of its own). */
    public UpPorts withoutRedis() {
        return new UpPorts(status, postgres, extauthz, dlp, accessLog, ads, xdsAdmin, devJwks, 0, zoneHub);
    }

    /** Flag name to port, in the order {@code up --help} lists them. */
    public Map<String, Integer> byFlag() {
        return byFlag(status, postgres, extauthz, dlp, accessLog, ads, xdsAdmin, devJwks, redis, zoneHub);
    }

    private static Map<String, Integer> byFlag(
            int status,
            int postgres,
            int extauthz,
            int dlp,
            int accessLog,
            int ads,
            int xdsAdmin,
            int devJwks,
            int redis,
            int zoneHub) {
        Map<String, Integer> ports = new LinkedHashMap<>();
        ports.put("--status-port", status);
        ports.put("--pg-port", postgres);
        ports.put("--extauthz-port", extauthz);
        ports.put("--dlp-port", dlp);
        ports.put("--als-port", accessLog);
        ports.put("--ads-port", ads);
        ports.put("--xds-admin-port", xdsAdmin);
        ports.put("--dev-jwks-port", devJwks);
        ports.put("--redis-port", redis);
        ports.put("--zone-hub-port", zoneHub);
        return ports;
    }

    /**
     * Checks a port {@code up} uses besides these ({@code --keycloak-port}) against every one of them: the same number
     * for two listeners is an error naming both flags, before anything starts (the second listener would otherwise
     * fail half-way, or a CLI call reach the wrong server).
     *
     * @throws IllegalArgumentException naming {@code flag}, the other flag and the port
     */
    public void requireDistinct(String flag, int port) {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException(flag + " must be between 0 and 65535, got " + port);
        }
        if (port == 0) {
            return;
        }
        for (Map.Entry<String, Integer> other : byFlag().entrySet()) {
            if (other.getValue() == port) {
                throw new IllegalArgumentException("port " + port + " is given to both " + flag + " and "
                        + other.getKey() + ": pass " + flag + " N for another port (" + flag + " 0 picks a free one)");
            }
        }
    }

    /**
     * Checks before anything starts that every fixed port is free on {@code bindAddress} (and on 127.0.0.1, where
     * the servers listen), so that a busy port stops {@code up} at once with every busy port named, rather than
     * half-way with a bare "Address already in use".
     *
     * @throws PortInUseException naming each busy port and the flag that sets it
     */
    public void requireFree(String statusBind) throws PortInUseException {
        List<String> busy = new ArrayList<>();
        Map<String, Integer> ports = byFlag();
        Map<Integer, String> seen = new LinkedHashMap<>();
        for (Map.Entry<String, Integer> port : ports.entrySet()) {
            int number = port.getValue();
            if (number == 0) {
                continue;
            }
            String other = seen.putIfAbsent(number, port.getKey());
            if (other != null) {
                busy.add("port " + number + " is given to both " + other + " and " + port.getKey());
                continue;
            }
            String host = port.getKey().equals("--status-port") ? statusBind : "127.0.0.1";
            if (!free(host, number)) {
                busy.add(describe(port.getKey(), number, host));
            }
        }
        if (!busy.isEmpty()) {
            throw new PortInUseException(String.join("; ", busy));
        }
    }

    /** The message for a busy port: which port, which flag, what to do. */
    public static String describe(String flag, int port, String host) {
        return "port " + port + " on " + host + " is already in use (" + flag + "): stop what listens there, or pass "
                + flag + " N for another port (" + flag + " 0 picks a free one)";
    }

    private static boolean free(String host, int port) {
        try (ServerSocket probe = new ServerSocket()) {
            // The same rule the servers bind with (SO_REUSEADDR on Linux): a port in TIME_WAIT counts as free.
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
            return true;
        } catch (IOException taken) {
            return false;
        }
    }

    /** A port {@code up} needs is taken. */
    public static final class PortInUseException extends Exception {
        public PortInUseException(String message) {
            super(message);
        }
    }
}
