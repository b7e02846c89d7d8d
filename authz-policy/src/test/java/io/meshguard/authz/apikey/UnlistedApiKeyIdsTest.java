package io.meshguard.authz.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.Reason;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Made-up API keys against the key store: a new id each time, so no cache holds them back. An id the replica does not
 * know to exist is read only within the budget, refused unread beyond it, and never remembered as missing for that;
 * an id it knows is read whatever the budget.
 */
class UnlistedApiKeyIdsTest {
    private final CountingApiKeyStore store = new CountingApiKeyStore(new InMemoryApiKeyStore());
    private final ApiKeyService service = new ApiKeyService(store, Clock.systemUTC());
    private final Set<String> listed = ConcurrentHashMap.newKeySet();
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

    private ApiKeyAuthenticator authenticator(long readsPerSecond) {
        return new ApiKeyAuthenticator(
                store, Clock.systemUTC(), Duration.ofMinutes(5), listed::contains, readsPerSecond, nanos::get);
    }

    private String created() throws Exception {
        return service.create("app", "svc", "acme", List.of(), List.of(), "free", Optional.empty())
                .text();
    }

    private static String madeUp(int i) {
        return "mgk_" + HexFormat.of().toHexDigits((long) i * 0x9E3779B97F4A7C15L) + "_" + "A".repeat(43);
    }

    private static Reason refusal(AuthResult r) {
        assertThat(r).isInstanceOf(AuthResult.Rejected.class);
        return ((AuthResult.Rejected) r).reason();
    }

    @Test
    void madeUpIds_overTheBudget_refusedUnread_withinItRead_andTheBudgetRefills() {
        ApiKeyAuthenticator auth = authenticator(5);
        for (int i = 0; i < 100; i++) {
            assertThat(refusal(auth.authenticate(madeUp(i)))).isEqualTo(Reason.INVALID_API_KEY);
        }
        assertThat(store.finds.get()).as("a burst of one second's reads").isEqualTo(5);
        assertThat(auth.unlistedRead()).isEqualTo(5);
        assertThat(auth.unlistedRefused()).isEqualTo(95);

        nanos.addAndGet(Duration.ofMillis(400).toNanos());
        for (int i = 100; i < 200; i++) {
            auth.authenticate(madeUp(i));
        }
        assertThat(store.finds.get()).as("0.4 s at 5 a second").isEqualTo(7);
        nanos.addAndGet(Duration.ofSeconds(10).toNanos());
        for (int i = 200; i < 300; i++) {
            auth.authenticate(madeUp(i));
        }
        assertThat(store.finds.get())
                .as("an idle spell refills one second's burst, not more")
                .isEqualTo(12);
    }

    @Test
    void aListedKey_isReadWhateverTheBudget() throws Exception {
        ApiKeyAuthenticator auth = authenticator(0);
        String key = created();
        listed.add(key.substring(4, 20));
        assertThat(auth.authenticate(key)).isInstanceOf(AuthResult.Authenticated.class);
        assertThat(store.finds.get()).isEqualTo(1);
        assertThat(auth.unlistedRead() + auth.unlistedRefused()).isZero();
    }

    @Test
    void aKeyBeforeItsNotice_isReadWithinTheBudget_andAdmitted() throws Exception {
        ApiKeyAuthenticator auth = authenticator(1);
        assertThat(auth.authenticate(created())).isInstanceOf(AuthResult.Authenticated.class);
        assertThat(auth.unlistedRead()).isEqualTo(1);
    }

    @Test
    void aKeyRefusedOverTheBudget_isAdmittedOnceListed_notRememberedAsMissing() throws Exception {
        ApiKeyAuthenticator auth = authenticator(0);
        String key = created();
        assertThat(refusal(auth.authenticate(key))).isEqualTo(Reason.INVALID_API_KEY);
        assertThat(store.finds.get()).isZero();
        listed.add(key.substring(4, 20));
        assertThat(auth.authenticate(key)).isInstanceOf(AuthResult.Authenticated.class);
    }

    @Test
    void aStoreNotFollowed_readsEveryMadeUpId() {
        ApiKeyAuthenticator auth = new ApiKeyAuthenticator(store, Clock.systemUTC(), Duration.ofMinutes(5));
        for (int i = 0; i < 50; i++) {
            auth.authenticate(madeUp(i));
        }
        assertThat(store.finds.get()).isEqualTo(50);
    }
}
