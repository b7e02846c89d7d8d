package io.meshguard.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.lettuce.core.RedisCommandExecutionException;
import io.meshguard.extauthz.redis.RedisConnection;
import io.meshguard.extauthz.redis.RedisSettings;
import io.meshguard.testing.IntegrationTest;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code up}'s own redis-server, started, used through extauthz's own connection class, and stopped for real. */
@IntegrationTest
class LocalRedisTest {
    @TempDir
    Path dir;

    @Test
    void start_servesExtauthzsConnectionWithThePasswordFile_andRefusesCallersWithoutIt() throws Exception {
        try (LocalRedis redis = LocalRedis.start(dir, 0)) {
            String password = Files.readString(redis.passwordFile()).strip();
            RedisSettings settings =
                    RedisChoice.settings(redis.url(), Optional.of(password)).withCommandTimeout(Duration.ofSeconds(5));
            try (RedisConnection connection = RedisConnection.open(settings)) {
                connection.async().set("meshguard:test", "1").get(5, TimeUnit.SECONDS);
                assertThat(connection.async().get("meshguard:test").get(5, TimeUnit.SECONDS))
                        .isEqualTo("1");
            }
            try (RedisConnection anonymous = RedisConnection.open(
                    RedisChoice.settings(redis.url(), Optional.empty()).withCommandTimeout(Duration.ofSeconds(5)))) {
                assertThatThrownBy(() -> anonymous.async().get("meshguard:test").get(5, TimeUnit.SECONDS))
                        .hasCauseInstanceOf(RedisCommandExecutionException.class)
                        .hasMessageContaining("NOAUTH");
            } catch (io.lettuce.core.RedisConnectionException refusedAtConnect) {
                assertThat(refusedAtConnect).hasStackTraceContaining("NOAUTH");
            }
            assertThat(LocalRedis.ping(redis.port(), "wrong")).isFalse();
            assertThat(LocalRedis.ping(redis.port(), password)).isTrue();
        }
    }

    @Test
    void secrets_stayInOwnerOnlyFiles_neverOnTheCommandLine() throws Exception {
        try (LocalRedis redis = LocalRedis.start(dir, 0)) {
            String password = Files.readString(redis.passwordFile()).strip();
            assertThat(password).matches("[A-Za-z0-9_-]{43}");
            for (String file : List.of(LocalRedis.PASSWORD_FILE, LocalRedis.CONFIG_FILE)) {
                assertThat(Files.getPosixFilePermissions(dir.resolve(file)))
                        .as(file)
                        .isEqualTo(PosixFilePermissions.fromString("rw-------"));
            }
            ProcessHandle process = ProcessHandle.of(redis.pid()).orElseThrow();
            assertThat(process.info().commandLine().orElse(""))
                    .contains("redis-server")
                    .doesNotContain(password);
            // Bound to loopback only, and persisting nothing.
            assertThat(Files.readString(dir.resolve(LocalRedis.CONFIG_FILE)))
                    .contains("bind 127.0.0.1\n", "save \"\"\n", "appendonly no\n", "maxmemory-policy volatile-ttl\n");
        }
        try (LocalRedis again = LocalRedis.start(dir, 0)) {
            assertThat(Files.readString(again.passwordFile()).strip())
                    .as("the password is kept across restarts")
                    .isEqualTo(Files.readString(dir.resolve(LocalRedis.PASSWORD_FILE))
                            .strip());
        }
    }

    @Test
    void close_endsTheProcess() throws Exception {
        LocalRedis redis = LocalRedis.start(dir, 0);
        ProcessHandle process = ProcessHandle.of(redis.pid()).orElseThrow();
        redis.close();
        assertThat(process.isAlive()).isFalse();
        assertThat(redis.isRunning()).isFalse();
        assertThat(LocalRedis.ping(redis.port(), "x")).isFalse();
        assertThat(dir.resolve(LocalRedis.PID_FILE)).doesNotExist();
    }

    @Test
    void aServerLeftByAnUpThatDied_isStoppedByTheNextStart() throws Exception {
        LocalRedis abandoned = LocalRedis.start(dir, 0);
        ProcessHandle orphan = ProcessHandle.of(abandoned.pid()).orElseThrow();
        int port = abandoned.port();
        // The pid file is Redis's own, written once it listens.
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.isRegularFile(dir.resolve(LocalRedis.PID_FILE)));

        try (LocalRedis next = LocalRedis.start(dir, port)) {
            assertThat(orphan.isAlive()).as("the orphan is gone").isFalse();
            assertThat(next.pid()).isNotEqualTo(orphan.pid());
            assertThat(LocalRedis.ping(
                            port, Files.readString(next.passwordFile()).strip()))
                    .isTrue();
        }
    }

    @Test
    void aStalePidFileNamingAnotherProgram_stopsNothing() throws Exception {
        Files.writeString(
                dir.resolve(LocalRedis.PID_FILE), ProcessHandle.current().pid() + "\n");
        assertThat(LocalRedis.stopOrphan(dir)).isEmpty();
        assertThat(ProcessHandle.current().isAlive()).isTrue();
        assertThat(dir.resolve(LocalRedis.PID_FILE)).doesNotExist();
    }

    @Test
    void aTakenPort_failsTheStartNamingThePortAndItsFlag() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
            assertThatThrownBy(() -> LocalRedis.start(dir, taken.getLocalPort()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(
                            "port " + taken.getLocalPort() + " on 127.0.0.1 is already in use (--redis-port)")
                    .hasMessageContaining("Address already in use");
        }
    }
}
