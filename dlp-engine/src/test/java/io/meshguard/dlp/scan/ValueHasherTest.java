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

    /** The tenant key as the hasher is specified to derive it: HMAC of "meshguard-dlp-tenant:" + tenant. */
    private static byte[] tenantKey(byte[] master, String tenant) throws Exception {
        return hmac(master, ("meshguard-dlp-tenant:" + tenant).getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void hex_equalsJdkHmacSha256UnderTheDerivedTenantKey_forValuesOfEveryBlockLength() throws Exception {
        byte[] master = "master-key-for-the-hasher-test-0".getBytes(StandardCharsets.UTF_8);
        byte[] tenantKey = tenantKey(master, "acme");
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
    void manyValues_equalJdkHmacSha256_forListsOfEverySizeAndValuesShortAndLong() throws Exception {
        // One hasher reused for value after value (its Mac is reset by each doFinal): no value may see another's.
        byte[] master = "master-key-for-the-hasher-test-1".getBytes(StandardCharsets.UTF_8);
        byte[] tenantKey = tenantKey(master, "bank");
        ValueHasher hasher = ValueHasher.forTenant(master, "bank");
        Random random = new Random(8);
        byte[] text = new byte[4096];
        for (int round = 0; round < 400; round++) {
            random.nextBytes(text);
            int count = random.nextInt(41);
            int[] offs = new int[count];
            int[] lens = new int[count];
            for (int k = 0; k < count; k++) {
                lens[k] = random.nextInt(8) == 0 ? random.nextInt(200) : random.nextInt(56);
                offs[k] = random.nextInt(5) == 0 ? text.length - lens[k] : random.nextInt(text.length - lens[k] + 1);
            }
            String[] got = new String[count];
            hasher.hex(text, offs, lens, count, got);
            for (int k = 0; k < count; k++) {
                String want = HexFormat.of()
                        .formatHex(hmac(tenantKey, java.util.Arrays.copyOfRange(text, offs[k], offs[k] + lens[k])));
                assertThat(got[k])
                        .as("round %d, value %d of %d, %d bytes", round, k, count, lens[k])
                        .isEqualTo(want);
            }
        }
    }

    @Test
    void concurrentCallers_eachGetTheirOwnValuesHash() throws Exception {
        // hex is documented as safe from several threads: the shared Mac must never mix two values.
        byte[] master = "master-key-for-the-hasher-test-2".getBytes(StandardCharsets.UTF_8);
        ValueHasher hasher = ValueHasher.forTenant(master, "t");
        byte[][] values = new byte[8][];
        String[] want = new String[8];
        for (int i = 0; i < values.length; i++) {
            values[i] = ("value-" + i + "-" + "x".repeat(i * 13)).getBytes(StandardCharsets.UTF_8);
            want[i] = hasher.hex(values[i], 0, values[i].length);
        }
        java.util.List<Thread> threads = new java.util.ArrayList<>();
        java.util.concurrent.atomic.AtomicInteger wrong = new java.util.concurrent.atomic.AtomicInteger();
        for (int t = 0; t < 4; t++) {
            int seed = t;
            threads.add(Thread.ofPlatform().start(() -> {
                for (int n = 0; n < 5000; n++) {
                    int i = (n + seed) % values.length;
                    if (!hasher.hex(values[i], 0, values[i].length).equals(want[i])) {
                        wrong.incrementAndGet();
                    }
                }
            }));
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(wrong.get()).isZero();
    }

    @Test
    void batchesWithRepeatedValues_eachValueGetsItsOwnJdkHmac_equalValuesHashedOnce() throws Exception {
        // A batch hashes each distinct value once: values equal in length, first and last eight bytes but not in the
        // middle, prefixes of each other, and equal bytes at other offsets must each still get their own HMAC.
        byte[] master = "master-key-for-the-hasher-test-3".getBytes(StandardCharsets.UTF_8);
        byte[] tenantKey = tenantKey(master, "bank");
        ValueHasher hasher = ValueHasher.forTenant(master, "bank");
        Random random = new Random(9);
        byte[][] pool = new byte[12][];
        for (int i = 0; i < pool.length; i++) {
            pool[i] = ("5105105105105" + (i % 3) + "00-0000-1234-5678901234567890")
                    .substring(0, 5 + (i * 7) % 40)
                    .getBytes(StandardCharsets.US_ASCII);
        }
        pool[10] = new byte[0];
        for (int round = 0; round < 300; round++) {
            int count = random.nextInt(120);
            byte[] text = new byte[count * 48 + 8];
            int[] offs = new int[count];
            int[] lens = new int[count];
            int at = 0;
            for (int k = 0; k < count; k++) {
                byte[] v = pool[random.nextInt(pool.length)].clone();
                if (random.nextInt(6) == 0 && v.length > 16) {
                    v[v.length / 2] ^= 1; // same length and ends, another middle
                }
                System.arraycopy(v, 0, text, at, v.length);
                offs[k] = at;
                lens[k] = v.length;
                at += v.length + random.nextInt(4);
            }
            String[] got = new String[count];
            hasher.hex(text, offs, lens, count, got);
            for (int k = 0; k < count; k++) {
                String want = HexFormat.of()
                        .formatHex(hmac(tenantKey, java.util.Arrays.copyOfRange(text, offs[k], offs[k] + lens[k])));
                assertThat(got[k])
                        .as("round %d, value %d of %d", round, k, count)
                        .isEqualTo(want);
            }
        }
    }

    @Test
    void batchesOfAddressesSharingLengthAndEnds_eachGetsItsOwnHmac_repeatsTheSameString() throws Exception {
        // Dense text's addresses differ only in the middle (kim.minsu123@bank.co.kr): the batch table must still tell
        // them apart, and give a repeated one the string of its first occurrence (hashed once).
        byte[] master = "master-key-for-the-hasher-test-4".getBytes(StandardCharsets.UTF_8);
        byte[] tenantKey = tenantKey(master, "bank");
        ValueHasher hasher = ValueHasher.forTenant(master, "bank");
        Random random = new Random(10);
        for (int round = 0; round < 200; round++) {
            int count = random.nextInt(300);
            StringBuilder sb = new StringBuilder();
            int[] offs = new int[count];
            int[] lens = new int[count];
            for (int k = 0; k < count; k++) {
                String v = random.nextInt(3) == 0
                        ? "5105 1051 0510 5100"
                        : "kim.minsu" + (100 + random.nextInt(random.nextBoolean() ? 20 : 900)) + "@bank.co.kr";
                sb.append(" x".repeat(random.nextInt(3)));
                offs[k] = sb.length();
                lens[k] = v.length();
                sb.append(v);
            }
            byte[] text = sb.toString().getBytes(StandardCharsets.US_ASCII);
            String[] got = new String[count];
            hasher.hex(text, offs, lens, count, got);
            java.util.Map<String, String> first = new java.util.HashMap<>();
            for (int k = 0; k < count; k++) {
                byte[] value = java.util.Arrays.copyOfRange(text, offs[k], offs[k] + lens[k]);
                assertThat(got[k])
                        .as("round %d, value %d", round, k)
                        .isEqualTo(HexFormat.of().formatHex(hmac(tenantKey, value)));
                String seen = first.putIfAbsent(new String(value, StandardCharsets.US_ASCII), got[k]);
                if (seen != null && count >= 3) {
                    assertThat(got[k]).as("round %d, repeat %d", round, k).isSameAs(seen);
                }
            }
        }
    }

    @Test
    void sameBytes_agreesWithArraysEquals_atEveryLengthOffsetAndDifferingByte() {
        // Two ranges of one array, 0-40 bytes, at every offset pair up to a word apart: equal, or differing in one
        // byte at each place (first, middle, the last word's overlap, last), as in the batch table's probe.
        Random random = new Random(11);
        int equal = 0;
        for (int len = 0; len <= 40; len++) {
            for (int i = 0; i < 9; i++) {
                for (int j = 0; j < 9; j++) {
                    byte[] b = new byte[i + j + 2 * len + 8];
                    random.nextBytes(b);
                    int second = i + len + j;
                    System.arraycopy(b, i, b, second, len);
                    for (int at = -1; at < len; at++) {
                        if (at >= 0) {
                            b[second + at] ^= (byte) (1 << random.nextInt(8));
                        }
                        boolean want = java.util.Arrays.equals(b, i, i + len, b, second, second + len);
                        assertThat(ValueHasher.sameBytes(b, i, second, len))
                                .as("len %d, %d and %d, at %d", len, i, second, at)
                                .isEqualTo(want);
                        equal += want ? 1 : 0;
                        if (at >= 0) {
                            b[second + at] = b[i + at];
                        }
                    }
                }
            }
        }
        assertThat(equal).isEqualTo(41 * 81);
    }

    @Test
    void mix_tellsApartValuesThatShareLengthAndBothEnds() {
        // All 900 addresses have the same length and the same first and last eight bytes.
        java.util.Set<Integer> slots = new java.util.HashSet<>();
        for (int n = 100; n < 1000; n++) {
            byte[] v = ("kim.minsu" + n + "@bank.co.kr").getBytes(StandardCharsets.US_ASCII);
            slots.add(ValueHasher.mix(v, 0, v.length) & 1023);
        }
        assertThat(slots.size()).isGreaterThan(450); // ~600 expected for 900 random values in 1024 slots
    }
}
