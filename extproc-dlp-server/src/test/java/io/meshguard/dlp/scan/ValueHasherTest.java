package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class ValueHasherTest {
    private static byte[] hmac(byte[] key, byte[] data) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(key, "HmacSHA256"));
        return mac.doFinal(data);
    }

    @Test
    void hex_equalsJdkHmacSha256UnderTheDerivedTenantKey_forValuesOfEveryBlockLength() throws Exception {
        byte[] master = "master-key-for-the-hasher-test-0".getBytes(StandardCharsets.UTF_8);
        byte[] tenantKey = hmac(master, "meshguard-dlp-tenant:acme".getBytes(StandardCharsets.UTF_8));
        ValueHasher hasher = ValueHasher.forTenant(master, "acme");
        Random random = new Random(7);
        for (int len = 0; len < 200; len++) {
            byte[] buf = new byte[len + 10];
            random.nextBytes(buf);
            String expected = HexFormat.of().formatHex(hmac(tenantKey, java.util.Arrays.copyOfRange(buf, 5, 5 + len)));
            assertThat(hasher.hex(buf, 5, len)).as("length %d", len).isEqualTo(expected);
        }
    }

    @Test
    void tenants_getUnrelatedHashes_andTheSameTenantTheSameHash() {
        byte[] master = new byte[32];
        byte[] value = "4111111111111111".getBytes(StandardCharsets.US_ASCII);
        String a1 = ValueHasher.forTenant(master, "a").hex(value, 0, value.length);
        String a2 = ValueHasher.forTenant(master, "a").hex(value, 0, value.length);
        String b = ValueHasher.forTenant(master, "b").hex(value, 0, value.length);
        assertThat(a1).isEqualTo(a2).hasSize(64).isNotEqualTo(b);
    }
}
