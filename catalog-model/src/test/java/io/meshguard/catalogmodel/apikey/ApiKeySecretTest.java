package io.meshguard.catalogmodel.apikey;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.runtime.logging.SensitiveText;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A key's id is how its rows are found in the audit log and the admin trail, so the audit's masking never hides it. */
class ApiKeySecretTest {

    @Test
    void mint_drawsAgain_whenTheIdWouldBeMaskedAsACardOrRegistrationNumber() {
        // a registration number (890716-1402088) and a Luhn-valid PAN, both spellable in 16 hex digits
        List<String> hazards = List.of("e0d8907161402088", "4532015112830366");
        hazards.forEach(id -> assertThat(SensitiveText.mask(id)).isNotEqualTo(id));
        Deque<byte[]> draws = new ArrayDeque<>();
        hazards.forEach(id -> draws.add(HexFormat.of().parseHex(id)));
        draws.add(HexFormat.of().parseHex("0123456789abcdef"));
        draws.add(new byte[32]);

        ApiKeySecret.Minted minted = ApiKeySecret.mint(into -> {
            byte[] next = draws.removeFirst();
            assertThat(next).hasSameSizeAs(into);
            System.arraycopy(next, 0, into, 0, into.length);
        });

        assertThat(minted.keyId()).isEqualTo("0123456789abcdef");
        assertThat(draws).isEmpty();
        assertThat(ApiKeySecret.parse(minted.text()))
                .hasValueSatisfying(p -> assertThat(p.keyId()).isEqualTo("0123456789abcdef"));
    }

    @Test
    void mint_neverIssuesAnIdTheAuditWouldMask() {
        // about one id in a thousand would be masked if drawn once: 50,000 draws meet dozens of them
        for (int i = 0; i < 50_000; i++) {
            String keyId = ApiKeySecret.mint().keyId();
            assertThat(SensitiveText.mask("apikeys/" + keyId)).isEqualTo("apikeys/" + keyId);
        }
    }
}
