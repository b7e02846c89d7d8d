package io.meshguard.authz.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.request.AuthResult;
import io.meshguard.authz.request.Reason;
import io.meshguard.catalogmodel.apikey.ApiKeyService;
import io.meshguard.catalogmodel.apikey.InMemoryApiKeyStore;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A notice that says nothing about which key changed makes the cached records be confirmed against the store, not
 * dropped: a record the store no longer agrees with (revoked, end moved) goes, so no revocation is missed, and the
 * others stay, so the next presentations read nothing.
 */
class CachedKeyRecordsTest {
    private final CountingApiKeyStore store = new CountingApiKeyStore(new InMemoryApiKeyStore());
    private final ApiKeyService service = new ApiKeyService(store, Clock.systemUTC());
    private final ApiKeyAuthenticator auth = new ApiKeyAuthenticator(store, Clock.systemUTC(), Duration.ofMinutes(5));

    private String created() throws Exception {
        return service.create("app", "svc", "acme", List.of(), List.of(), "", Optional.empty())
                .text();
    }

    @Test
    void confirmAll_dropsTheRecordsTheStoreChanged_keepsTheRest() throws Exception {
        String revoked = created();
        String shortened = created();
        String unchanged = created();
        for (String key : List.of(revoked, shortened, unchanged)) {
            assertThat(auth.authenticate(key, "10.0.0.1")).isInstanceOf(AuthResult.Authenticated.class);
        }
        // changed behind the replica's back: no drop(keyId) for either
        store.revoke(revoked.substring(4, 20), Instant.now().minusSeconds(1));
        store.expire(shortened.substring(4, 20), Instant.now().minusSeconds(1));

        auth.confirmAll();
        assertThat(auth.confirmedDropped()).isEqualTo(2);
        int reads = store.finds.get();
        assertThat(((AuthResult.Rejected) auth.authenticate(revoked, "10.0.0.1")).reason())
                .isEqualTo(Reason.API_KEY_REVOKED);
        assertThat(((AuthResult.Rejected) auth.authenticate(shortened, "10.0.0.1")).reason())
                .isEqualTo(Reason.API_KEY_EXPIRED);
        assertThat(auth.authenticate(unchanged, "10.0.0.1")).isInstanceOf(AuthResult.Authenticated.class);
        assertThat(store.finds.get()).as("the unchanged key is still cached").isEqualTo(reads + 2);
    }
}
