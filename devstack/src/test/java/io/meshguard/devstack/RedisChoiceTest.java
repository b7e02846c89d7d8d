package io.meshguard.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.devstack.part.UpPorts;
import io.meshguard.testing.IntegrationTest;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@code up --redis local|none|URL} and what each means for the ports {@code up} checks. */
@IntegrationTest
class RedisChoiceTest {
    @Test
    void parse_knowsLocalNoneAndRedisUrls_andRefusesTheRest() {
        assertThat(RedisChoice.parse("local")).isEqualTo(RedisChoice.LOCAL);
        assertThat(RedisChoice.parse(" none ")).isEqualTo(RedisChoice.NONE);
        assertThat(RedisChoice.parse("rediss://cache.internal:6380"))
                .isEqualTo(new RedisChoice(RedisChoice.Kind.EXTERNAL, "rediss://cache.internal:6380"));
        for (String wrong : new String[] {"", "Local", "redis", "http://cache:6379", "cache.internal:6379"}) {
            assertThatThrownBy(() -> RedisChoice.parse(wrong))
                    .as(wrong)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("--redis takes local, none or a redis://host:port");
        }
    }

    @Test
    void settings_carryThePassword_butTheShownUrlNever() {
        var settings = RedisChoice.settings("redis://:secret@cache.internal:6379", Optional.of("from-file"));
        assertThat(settings.password()).isEqualTo("from-file");
        assertThat(settings.redactedUrl()).doesNotContain("secret");
        assertThat(settings.enabled()).isTrue();
        assertThat(RedisChoice.settings("rediss://cache:6380", Optional.empty()).tls())
                .isTrue();
    }

    @Test
    void withoutRedis_leavesABusyRedisPortUnchecked() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            UpPorts ports = new UpPorts(0, 0, 0, 0, 0, 0, 0, 0, taken.getLocalPort(), 0);
            assertThatThrownBy(() -> ports.requireFree("127.0.0.1"))
                    .isInstanceOf(UpPorts.PortInUseException.class)
                    .hasMessageContaining("(--redis-port)");
            ports.withoutRedis().requireFree("127.0.0.1");
            assertThat(ports.withoutRedis().redis()).isZero();
        }
    }
}
