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

    @Test
    void batch_equalsJdkHmacSha256_forBatchesOfEverySizeAndValuesShortAndLong() throws Exception {
        byte[] master = "master-key-for-the-hasher-test-1".getBytes(StandardCharsets.UTF_8);
        byte[] tenantKey = hmac(master, "meshguard-dlp-tenant:bank".getBytes(StandardCharsets.UTF_8));
        ValueHasher.Batch batch = ValueHasher.forTenant(master, "bank").newBatch();
        Random random = new Random(8);
        byte[] text = new byte[4096];
        for (int round = 0; round < 400; round++) {
            random.nextBytes(text);
            // Up to 40 values: none, fewer than a round of lanes needs, several rounds with a partial last one; most
            // short enough for one block, some longer (hashed one by one), some ending at the array's last byte.
            int count = random.nextInt(41);
            int[] offs = new int[count];
            int[] lens = new int[count];
            for (int k = 0; k < count; k++) {
                lens[k] = random.nextInt(8) == 0 ? random.nextInt(200) : random.nextInt(HmacLanes.MAX_VALUE + 1);
                offs[k] = random.nextInt(5) == 0 ? text.length - lens[k] : random.nextInt(text.length - lens[k] + 1);
            }
            String[] got = new String[count];
            batch.hex(text, offs, lens, count, got);
            for (int k = 0; k < count; k++) {
                String want = HexFormat.of().formatHex(
                        hmac(tenantKey, java.util.Arrays.copyOfRange(text, offs[k], offs[k] + lens[k])));
                assertThat(got[k]).as("round %d, value %d of %d, %d bytes", round, k, count, lens[k]).isEqualTo(want);
            }
        }
    }

    @Test
    void lanes_equalJdkHmacSha256_forKeysOfEveryLengthUpToABlock_andValuesOfEveryLengthUpToTheirLimit()
            throws Exception {
        // HmacLanes directly, whatever this CPU's vectors (without 512-bit ones the Vector API computes the same
        // lanes in plain Java, slowly): every key length 1-64, every value length 0-55, in every lane.
        Random random = new Random(9);
        byte[] text = new byte[16 * HmacLanes.MAX_VALUE];
        random.nextBytes(text);
        for (int keyLength = 1; keyLength <= 64; keyLength++) { // the JDK refuses an empty key
            byte[] key = new byte[keyLength];
            random.nextBytes(key);
            HmacLanes lanes = new HmacLanes(HmacLanes.keyStates(key));
            for (int first = 0; first <= HmacLanes.MAX_VALUE; first += 8) {
                int[] offs = new int[HmacLanes.LANES];
                int[] lens = new int[HmacLanes.LANES];
                for (int lane = 0; lane < HmacLanes.LANES; lane++) {
                    lens[lane] = (first + lane * 7) % (HmacLanes.MAX_VALUE + 1);
                    offs[lane] = lane * HmacLanes.MAX_VALUE;
                }
                int count = 1 + random.nextInt(HmacLanes.LANES);
                String[] got = new String[HmacLanes.LANES];
                lanes.hex(text, offs, lens, count, got);
                for (int lane = 0; lane < count; lane++) {
                    String want = HexFormat.of().formatHex(
                            hmac(key, java.util.Arrays.copyOfRange(text, offs[lane], offs[lane] + lens[lane])));
                    assertThat(got[lane]).as("key %d bytes, lane %d, value %d bytes", keyLength, lane, lens[lane])
                            .isEqualTo(want);
                }
            }
        }
    }
}
