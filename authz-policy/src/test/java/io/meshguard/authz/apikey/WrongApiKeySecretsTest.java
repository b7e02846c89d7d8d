package io.meshguard.authz.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.Reason;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Wrong secrets for a stored key id are budgeted per id and source: once a source spent its budget on an id, that id
 * is refused for it without a store read (the answer of a wrong secret, whether this secret is right or not) until
 * the window has passed since its last wrong secret; other sources and other ids are not touched.
 */
class WrongApiKeySecretsTest {
    private final CountingApiKeyStore store = new CountingApiKeyStore(new InMemoryApiKeyStore());
    private final ApiKeyService service = new ApiKeyService(store, Clock.systemUTC());
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    // a record TTL of zero: every presentation that is not refused reads the store
    private final ApiKeyAuthenticator auth = new ApiKeyAuthenticator(
            store,
            Clock.systemUTC(),
            Duration.ZERO,
            keyId -> true,
            0,
            new ApiKeyAuthenticator.WrongSecrets(3, Duration.ofMinutes(15)),
            nanos::get);

    private String created() throws Exception {
        return service.create("app", "svc", "acme", List.of(), List.of(), "", Optional.empty())
                .text();
    }

    /** The same key id with another secret ({@code mgk_}, 16 hex digits, {@code _}, 43 secret characters). */
    private static String wrongSecret(String key) {
        return key.substring(0, 21) + "B".repeat(43);
    }

    private static Reason refusal(AuthResult r) {
        assertThat(r).isInstanceOf(AuthResult.Rejected.class);
        return ((AuthResult.Rejected) r).reason();
    }

    @Test
    void wrongSecrets_overTheBudget_refusedForThatSource_withoutAStoreRead() throws Exception {
        String key = created();
        for (int i = 0; i < 3; i++) {
            assertThat(refusal(auth.authenticate(wrongSecret(key), "203.0.113.7")))
                    .isEqualTo(Reason.INVALID_API_KEY);
        }
        int reads = store.finds.get();
        for (int i = 0; i < 1_000; i++) {
            assertThat(refusal(auth.authenticate(wrongSecret(key), "203.0.113.7")))
                    .isEqualTo(Reason.INVALID_API_KEY);
        }
        assertThat(refusal(auth.authenticate(key, "203.0.113.7")))
                .as("the right secret from that source gets the same answer meanwhile")
                .isEqualTo(Reason.INVALID_API_KEY);
        assertThat(store.finds.get()).as("refused unread").isEqualTo(reads);
        assertThat(auth.wrongSecretsCounted()).isEqualTo(3);
        assertThat(auth.wrongSecretsRefused()).isEqualTo(1_001);
    }

    @Test
    void anotherSource_andAnotherKey_keepWorking() throws Exception {
        String key = created();
        String other = created();
        for (int i = 0; i < 5; i++) {
            auth.authenticate(wrongSecret(key), "203.0.113.7");
        }
        assertThat(auth.authenticate(key, "198.51.100.20")).isInstanceOf(AuthResult.Authenticated.class);
        assertThat(auth.authenticate(other, "203.0.113.7")).isInstanceOf(AuthResult.Authenticated.class);
    }

    @Test
    void theWindowAfterTheLastWrongSecret_passed_theSourceIsHeardAgain() throws Exception {
        String key = created();
        for (int i = 0; i < 3; i++) {
            auth.authenticate(wrongSecret(key), "203.0.113.7");
        }
        nanos.addAndGet(Duration.ofMinutes(14).toNanos());
        assertThat(refusal(auth.authenticate(key, "203.0.113.7"))).isEqualTo(Reason.INVALID_API_KEY);
        nanos.addAndGet(Duration.ofMinutes(2).toNanos());
        assertThat(auth.authenticate(key, "203.0.113.7")).isInstanceOf(AuthResult.Authenticated.class);
    }

    @Test
    void madeUpIds_areNotWrongSecrets_theUnlistedBudgetCountsThem() {
        for (int i = 0; i < 10; i++) {
            auth.authenticate("mgk_" + "0123456789abcdef" + "_" + "A".repeat(43), "203.0.113.7");
        }
        assertThat(auth.wrongSecretsCounted()).isZero();
    }
}
