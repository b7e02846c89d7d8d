package io.meshguard.catalogmodel.apikey;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What an API key grants ends up in identity headers: values Check would refuse are refused when the key is made. */
class ApiKeyValuesTest {
    private final InMemoryApiKeyStore store = new InMemoryApiKeyStore();
    private final ApiKeyService service = new ApiKeyService(store, Clock.systemUTC());

    @Test
    void create_refusesDelimitersWhitespaceAndNonAscii_inWhatTheKeyGrants() {
        assertThatThrownBy(() ->
                        service.create("k", "partner", "acme,globex", List.of(), List.of(), "free", Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("tenant")
                .hasMessageContaining("','");
        assertThatThrownBy(() -> service.create(
                        "k", "partner", "acme", List.of("reader writer"), List.of(), "free", Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("role holds whitespace");
        assertThatThrownBy(() -> service.create("k", "pärtner", "acme", List.of(), List.of(), "free", Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("owner holds non-ASCII");
        assertThatThrownBy(() ->
                        service.create("k", "partner", "acme", List.of(), List.of("read\n"), "free", Optional.empty()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("scope");
    }

    @Test
    void create_acceptsPlainValues() throws Exception {
        ApiKeyService.Created c = service.create(
                "k",
                "partner-acme",
                "acme-corp",
                List.of("statements-reader"),
                List.of("payments:read"),
                "free",
                Optional.empty());
        assertThat(c.key().tenant()).isEqualTo("acme-corp");
    }
}
