package io.meshguard.extauthz.apikey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The stored keys' ids followed from a real PostgreSQL: read at start, a new key known when its transaction commits
 * (V79's notice), a key inserted while the listener was away known once it is back, made-up ids never.
 */
@IntegrationTest
class KnownApiKeyIdsTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private final ApiKeyService service = new ApiKeyService(new JdbcApiKeyStore(PG.dataSource()), Clock.systemUTC());

    private String newKeyId() throws Exception {
        return service.create("app", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                .key()
                .keyId();
    }

    @Test
    void ids_readAtStart_newKeysNotified_madeUpOnesNever() throws Exception {
        String before = newKeyId();
        try (KnownApiKeyIds ids = new KnownApiKeyIds(PG.dataSource(), Duration.ofMinutes(10))) {
            assertThat(ids.mayExist("0123456789abcdef"))
                    .as("before the first read every id may exist")
                    .isTrue();
            ids.start();
            await().atMost(Duration.ofSeconds(10)).until(ids::loaded);
            assertThat(ids.mayExist(before)).isTrue();
            assertThat(ids.mayExist("0123456789abcdef")).isFalse();

            String after = newKeyId();
            await().atMost(Duration.ofSeconds(2)).until(() -> ids.mayExist(after));
            assertThat(ids.size()).isGreaterThanOrEqualTo(2);
            assertThat(ids.mayExist("fedcba9876543210")).isFalse();
        }
    }

    @Test
    void aKeyInsertedUnnoticed_isKnownOnceTheListenerReconnects() throws Exception {
        try (KnownApiKeyIds ids = new KnownApiKeyIds(PG.dataSource(), Duration.ofMinutes(10)).start()) {
            await().atMost(Duration.ofSeconds(10)).until(ids::loaded);
            String unnoticed;
            try (Connection c = PG.dataSource().getConnection();
                    Statement s = c.createStatement()) {
                s.execute("alter table api_keys disable trigger api_keys_created");
                try {
                    unnoticed = newKeyId();
                } finally {
                    s.execute("alter table api_keys enable trigger api_keys_created");
                }
                Thread.sleep(300);
                assertThat(ids.mayExist(unnoticed))
                        .as("no notice, no whole read yet")
                        .isFalse();
                // the listener's connection is lost: notices sent meanwhile would be too, so it reads the ids whole
                s.execute("select pg_terminate_backend(pid) from pg_stat_activity" + " where query like 'LISTEN "
                        + KnownApiKeyIds.CHANNEL + "%'");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> ids.mayExist(unnoticed));
        }
    }

    @Test
    void idsAPresentedKeyCannotName_mayExist_forTheStoreToAnswer() throws Exception {
        try (KnownApiKeyIds ids = new KnownApiKeyIds(PG.dataSource(), Duration.ofMinutes(10)).start()) {
            await().atMost(Duration.ofSeconds(10)).until(ids::loaded);
            assertThat(KnownApiKeyIds.number("0123456789ABCDEF")).isEmpty();
            assertThat(KnownApiKeyIds.number("0123456789abcde")).isEmpty();
            assertThat(KnownApiKeyIds.number("ffffffffffffffff")).contains(-1L);
            assertThat(ids.mayExist("0123456789ABCDEF")).isTrue();
        }
    }
}
