package io.meshguard.runtime.http;

import io.meshguard.runtime.config.Config;
import io.meshguard.runtime.config.ConfigGroup;
import io.meshguard.runtime.config.ConfigKey;
import java.util.List;

/**
 * Where the status HTTP listener ({@code /metrics}, {@code /healthz}, {@code /readyz}, admin API) binds.
 *
 * @param bind address to listen on ({@code 0.0.0.0} for all interfaces)
 * @param port TCP port; 0 picks a free one
 */
public record HttpServerSettings(String bind, int port) {
    /** Key {@code http.bind}. */
    public static final ConfigKey<String> BIND = ConfigKey.string(
            "http.bind", "0.0.0.0", "Address the status HTTP listener (metrics, health, admin API) binds to.");

    public HttpServerSettings {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("http port out of range: " + port);
        }
    }

    /** {@code 0.0.0.0} on {@code port}. */
    public static HttpServerSettings onPort(int port) {
        return new HttpServerSettings(BIND.defaultValue(), port);
    }

    /** Key {@code http.port} with this server's default port. */
    public static ConfigKey<Integer> portKey(int defaultPort) {
        return ConfigKey.integer(
                "http.port",
                defaultPort,
                0,
                65535,
                "TCP port of the status HTTP listener: /metrics, /healthz, /readyz (0 picks a free port).");
    }

    /** The {@code http.*} keys with this server's default port, and how to read them. */
    public static ConfigGroup<HttpServerSettings> configGroup(int defaultPort) {
        ConfigKey<Integer> port = portKey(defaultPort);
        return new ConfigGroup<>() {
            @Override
            public List<ConfigKey<?>> keys() {
                return List.of(BIND, port);
            }

            @Override
            public HttpServerSettings read(Config config) {
                return new HttpServerSettings(config.get(BIND), config.get(port));
            }
        };
    }
}
