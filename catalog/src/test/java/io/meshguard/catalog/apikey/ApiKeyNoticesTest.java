package io.meshguard.catalog.apikey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.CachedApiKeys;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The key notices of a real PostgreSQL on one listening connection: the stored keys' ids read when it connects, a
 * new key known when its transaction commits (V79) without dropping any cached record, a revocation (V62) dropping
 * its record, a key inserted while the listener was away known once it is back, made-up ids never. Notices anyone with
 * a database session can send are hints: a made-up created id is not added, a payload naming no key drops nothing
 * (the cached keys are confirmed against the store instead).
 */
@IntegrationTest
class ApiKeyNoticesTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    private final JdbcApiKeyStore store = new JdbcApiKeyStore(PG.dataSource());
    private final ApiKeyService service = new ApiKeyService(store, Clock.systemUTC());
    private final KnownApiKeyIds ids = new KnownApiKeyIds(PG.dataSource());
    private final AtomicInteger drops = new AtomicInteger();
    private final List<String> dropped = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicInteger confirmations = new AtomicInteger();
    private final CachedApiKeys cached = new CachedApiKeys() {
        @Override
        public void drop(String keyId) {
            dropped.add(keyId);
        }

        @Override
        public void dropAll() {
            drops.incrementAndGet();
        }

        @Override
        public void confirmAll() {
            confirmations.incrementAndGet();
        }
    };

    private String newKeyId() throws Exception {
        return service.create("app", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                .key()
                .keyId();
    }

    private ApiKeyNotices listening() {
        ApiKeyNotices notices = new ApiKeyNotices(PG.dataSource(), cached, ids, Duration.ofMinutes(10)).start();
        await().atMost(Duration.ofSeconds(10)).until(ids::loaded);
        await().atMost(Duration.ofSeconds(10)).until(() -> drops.get() == 1); // the connect's own
        return notices;
    }

    @Test
    void ids_readOnConnect_newKeysNotifiedWithoutDroppingRecords_revocationsDropThem() throws Exception {
        String before = newKeyId();
        assertThat(ids.mayExist("0123456789abcdef"))
                .as("before the first read every id may exist")
                .isTrue();
        try (ApiKeyNotices notices = listening()) {
            assertThat(ids.mayExist(before)).isTrue();
            assertThat(ids.mayExist("0123456789abcdef")).isFalse();

            String after = newKeyId();
            await().atMost(Duration.ofSeconds(2)).until(() -> ids.mayExist(after));
            assertThat(ids.size()).isGreaterThanOrEqualTo(2);
            assertThat(ids.mayExist("fedcba9876543210")).isFalse();
            Thread.sleep(200);
            assertThat(drops.get()).as("a creation drops no cached record").isEqualTo(1);

            assertThat(store.revoke(after, Instant.now())).isTrue();
            await().atMost(Duration.ofSeconds(2)).until(() -> dropped.contains(after));
            assertThat(drops.get())
                    .as("a revocation drops that key's record only")
                    .isEqualTo(1);
            assertThat(ids.mayExist(after))
                    .as("a revoked key is still a stored key")
                    .isTrue();
        }
    }

    @Test
    void aKeyInsertedUnnoticed_isKnownOnceTheListenerReconnects() throws Exception {
        try (ApiKeyNotices notices = listening()) {
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
                        + ApiKeyNotices.CHANNEL + "%'");
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> ids.mayExist(unnoticed));
        }
    }

    private static void notify(String payload) throws Exception {
        try (Connection c = PG.dataSource().getConnection();
                java.sql.PreparedStatement s = c.prepareStatement("select pg_notify(?, ?)")) {
            s.setString(1, ApiKeyNotices.CHANNEL);
            s.setString(2, payload);
            s.execute();
        }
    }

    private static String madeUp(int i) {
        return java.util.HexFormat.of().toHexDigits(0x5DEECE66DL * (i + 1) + 0x2545F4914F6CDD1DL);
    }

    @Test
    void madeUpCreatedNotices_addNoIds_andDropNoRecord() throws Exception {
        try (ApiKeyNotices notices = listening()) {
            for (int i = 0; i < 2_000; i++) {
                notify(ApiKeyNotices.CREATED + madeUp(i));
            }
            String real = newKeyId();
            await().atMost(Duration.ofSeconds(10)).until(() -> ids.mayExist(real));
            for (int i = 0; i < 2_000; i++) {
                assertThat(ids.mayExist(madeUp(i)))
                        .as("made-up id %s", madeUp(i))
                        .isFalse();
            }
            assertThat(notices.createdUnconfirmed()).isEqualTo(2_000);
            assertThat(notices.createdConfirmed()).isEqualTo(1);
            assertThat(drops.get()).isEqualTo(1);
            assertThat(dropped).isEmpty();
        }
    }

    @Test
    void aNoticeNamingNoKey_isCounted_andConfirmsTheCachedKeys_neverDropsThemAll() throws Exception {
        try (ApiKeyNotices notices = listening()) {
            int before = confirmations.get();
            for (String payload : List.of("not-a-key", "created:", "created:XYZ", "0123456789ABCDEF")) {
                notify(payload);
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> notices.unreadable() == 4);
            await().atMost(Duration.ofSeconds(5)).until(() -> confirmations.get() > before);
            int afterThem = confirmations.get();
            notify(io.meshguard.db.PgChannelListener.EVERYTHING);
            await().atMost(Duration.ofSeconds(5)).until(() -> confirmations.get() > afterThem);
            assertThat(drops.get())
                    .as("no notice drops every record but the listener's connect")
                    .isEqualTo(1);
            assertThat(dropped).isEmpty();
        }
    }

    @Test
    void aChangedKeysNotice_dropsThatKeysRecordOnly_evenForAnIdNoKeyHas() throws Exception {
        String key = newKeyId();
        try (ApiKeyNotices notices = listening()) {
            notify(key);
            notify(madeUp(7));
            await().atMost(Duration.ofSeconds(5)).until(() -> dropped.size() == 2);
            assertThat(dropped).containsExactlyInAnyOrder(key, madeUp(7));
            assertThat(drops.get()).isEqualTo(1);
            assertThat(notices.changed()).isEqualTo(2);
        }
    }

    @Test
    void idsAPresentedKeyCannotName_mayExist_forTheStoreToAnswer() throws Exception {
        try (ApiKeyNotices notices = listening()) {
            assertThat(KnownApiKeyIds.number("0123456789ABCDEF")).isEmpty();
            assertThat(KnownApiKeyIds.number("0123456789abcde")).isEmpty();
            assertThat(KnownApiKeyIds.number("ffffffffffffffff")).contains(-1L);
            assertThat(ids.mayExist("0123456789ABCDEF")).isTrue();
        }
    }
}
