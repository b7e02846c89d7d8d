package io.meshguard.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

@IntegrationTest
class SharedRedisTest {

    @Test
    void shared_answersPing_andSetGetRoundTrips() throws IOException {
        RedisEndpoint redis = SharedRedis.get();
        String key = SharedRedis.keyPrefix(SharedRedisTest.class) + "k";

        assertThat(command(redis, "PING")).isEqualTo("+PONG");
        assertThat(command(redis, "SET", key, "v1")).isEqualTo("+OK");
        assertThat(command(redis, "GET", key)).isEqualTo("$2\r\nv1");
        assertThat(SharedRedis.get()).isSameAs(redis);
    }

    @Test
    void embedded_stopRefusesConnections_startServesTheSamePortAgain() throws IOException {
        try (EmbeddedRedis redis = EmbeddedRedis.start()) {
            assertThat(command(redis.endpoint(), "PING")).isEqualTo("+PONG");

            redis.stopServer();
            assertThat(redis.isRunning()).isFalse();
            assertThatThrownBy(() -> command(redis.endpoint(), "PING")).isInstanceOf(ConnectException.class);

            redis.startServer();
            assertThat(command(redis.endpoint(), "PING")).isEqualTo("+PONG");
        }
    }

    @Test
    void select_externalUrl_winsOverDockerAndEmbedded() {
        RedisEndpoint e = SharedRedis.select(Map.of(SharedRedis.URL_VARIABLE, "redis://10.1.2.3:7000"), () -> {
            throw new AssertionError("Docker must not be probed when a URL is given");
        });
        assertThat(e).isEqualTo(new RedisEndpoint("10.1.2.3", 7000, "external"));
        assertThat(SharedRedis.external("redis://cache").port()).isEqualTo(6379);
    }

    @Test
    void select_malformedUrl_saysWhatItExpects() {
        assertThatThrownBy(() -> SharedRedis.external("http://cache:6379")).hasMessageContaining("redis://host:port");
    }

    /** One RESP command over a plain socket; returns the reply's first line (and the bulk string for $). */
    private static String command(RedisEndpoint redis, String... args) throws IOException {
        try (Socket s = new Socket(redis.host(), redis.port())) {
            s.setSoTimeout(5_000);
            StringBuilder req = new StringBuilder("*").append(args.length).append("\r\n");
            for (String a : args) {
                req.append('$')
                        .append(a.getBytes(StandardCharsets.UTF_8).length)
                        .append("\r\n")
                        .append(a)
                        .append("\r\n");
            }
            OutputStream out = s.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            String first = line(in);
            return first.startsWith("$") && !first.equals("$-1") ? first + "\r\n" + line(in) : first;
        }
    }

    private static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                b.append((char) c);
            }
        }
        return b.toString();
    }
}
