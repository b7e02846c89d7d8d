package io.meshguard.extauthz.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisConnectionException;
import io.meshguard.extauthz.server.ExtAuthzConfig;
import io.meshguard.runtime.config.Config;
import io.meshguard.testing.EmbeddedRedis;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.SharedRedis;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@IntegrationTest
class RedisConnectionTest {

    @Test
    void open_sharedRedis_answersWithTheStoreClock() throws Exception {
        RedisSettings settings =
                RedisSettings.none().withUrl(SharedRedis.get().url()).withCommandTimeout(Duration.ofSeconds(2));
        try (RedisConnection redis = RedisConnection.open(settings)) {
            List<String> time = redis.async().time().get(5, TimeUnit.SECONDS);
            assertThat(Long.parseLong(time.get(0))).isGreaterThan(1_700_000_000L);
            assertThat(redis.isOpen()).isTrue();
        }
    }

    @Test
    void storeGoesAway_commandsFailAtOnce_insteadOfQueueingForTheReconnect() throws Exception {
        try (EmbeddedRedis server = EmbeddedRedis.start();
                RedisConnection redis = RedisConnection.open(RedisSettings.none()
                        .withUrl(server.endpoint().url())
                        .withCommandTimeout(Duration.ofSeconds(2)))) {
            assertThat(redis.async().ping().get(5, TimeUnit.SECONDS)).isEqualTo("PONG");
            server.stopServer();
            // Until Lettuce notices the closed socket the call may fail with a timeout or a closed-channel error;
            // either way it fails, and it never waits past the command timeout for a reconnect.
            assertThatThrownBy(() -> {
                        for (int i = 0; i < 50; i++) {
                            redis.async().ping().get(5, TimeUnit.SECONDS);
                            Thread.sleep(20);
                        }
                    })
                    .isInstanceOf(ExecutionException.class);
            server.startServer();
        }
    }

    @Test
    void open_nothingListening_failsWithTheConnectError() {
        String url = EmbeddedRedis.closedUrl();
        assertThatThrownBy(() -> RedisConnection.open(RedisSettings.none().withUrl(url)))
                .isInstanceOf(RedisConnectionException.class);
    }

    @Test
    void config_readsUrlAndPasswordFile_andRedactsThePasswordInLogs(@TempDir Path dir) throws Exception {
        Path secret = Files.writeString(dir.resolve("redis-password"), "s3cret\n");
        Config config = ExtAuthzConfig.load(
                Optional.empty(),
                Map.of(
                        "MESHGUARD_REDIS_URL",
                        "rediss://user:pw@cache.internal:6380",
                        "MESHGUARD_REDIS_PASSWORD_FILE",
                        secret.toString()));
        RedisSettings settings = ExtAuthzConfig.read(config).redis();

        assertThat(settings.enabled()).isTrue();
        assertThat(settings.tls()).isTrue();
        assertThat(settings.password()).isEqualTo("s3cret");
        assertThat(settings.toString())
                .doesNotContain("pw")
                .doesNotContain("s3cret")
                .contains("rediss://***@cache.internal:6380");
    }

    @Test
    void settings_otherScheme_isRefusedWithTheExpectedForm() {
        assertThatThrownBy(() -> RedisSettings.none().withUrl("http://cache:6379"))
                .hasMessageContaining("redis://")
                .hasMessageContaining("rediss://");
        assertThat(ExtAuthzConfig.defaults().redis().enabled()).isFalse();
    }
}
