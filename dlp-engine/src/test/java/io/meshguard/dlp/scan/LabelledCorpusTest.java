package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.dlp.detect.Checksums;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Detector precision from a labelled corpus: a deterministic generator (fixed seed) writes samples, each
 * labelled with the detector that must find its value or with none (invalid check digits, 12-digit "cards", order
 * ids next to another line's phone word). Every sample is scanned inside a sentence, whole and split into two chunks
 * at every byte; the answers must agree, and precision and recall per detector must reach the asserted floors.
 */
class LabelledCorpusTest {
    /** One sample: the text, the value in it, and the detector that must find the value ("" for none). */
    record Sample(String text, String value, String label) {}

    private static final String[] SENTENCES = {
        "Here it is: %s.", "고객님의 번호는 %s 입니다", "order %s", "{\"note\": \"%s\"}", "tracking\n%s", "%s\nphone"
    };

    static String luhnComplete(String body) {
        for (int d = 0; d <= 9; d++) {
            if (Checksums.luhn(body + d)) {
                return body + d;
            }
        }
        throw new AssertionError();
    }

    static List<Sample> generate() throws Exception {
        Random r = new Random(13616);
        List<Sample> out = new ArrayList<>();
        // Cards per brand: valid (found), wrong check digit (not), 12 digits (not).
        Map<String, Integer> brands = new LinkedHashMap<>();
        brands.put("4", 16);
        brands.put("51", 16);
        brands.put("2221", 16);
        brands.put("34", 15);
        brands.put("37", 15);
        brands.put("6011", 16);
        brands.put("3530", 16);
        brands.put("62", 16);
        brands.put("36", 14);
        brands.put("6304", 19);
        brands.put("9410", 16);
        for (int round = 0; round < 6; round++) {
            for (Map.Entry<String, Integer> b : brands.entrySet()) {
                StringBuilder body = new StringBuilder(b.getKey());
                while (body.length() < b.getValue() - 1) {
                    body.append(r.nextInt(10));
                }
                String valid = luhnComplete(body.toString());
                String sentence = SENTENCES[r.nextInt(SENTENCES.length)];
                out.add(new Sample(sentence, valid, "card"));
                char last = valid.charAt(valid.length() - 1);
                String invalid = valid.substring(0, valid.length() - 1) + (char) ('0' + (last - '0' + 1) % 10);
                out.add(new Sample(sentence, invalid, ""));
                out.add(new Sample(sentence, luhnComplete(body.substring(0, 11)), ""));
            }
        }
        // IBANs per registry country: valid (found), one digit changed (not).
        for (Map.Entry<String, Integer> c : registry().entrySet()) {
            StringBuilder bban = new StringBuilder();
            while (bban.length() < c.getValue() - 4) {
                bban.append(r.nextInt(10));
            }
            String iban = ibanWithCheck(c.getKey(), bban.toString());
            out.add(new Sample("IBAN: %s", iban, "iban"));
            String broken = iban.substring(0, iban.length() - 1)
                    + (char) ('0' + (iban.charAt(iban.length() - 1) - '0' + 1) % 10);
            out.add(new Sample("IBAN: %s", broken, ""));
        }
        // Phones: with separators (found), eleven bare digits with the phone word on another line (not).
        for (int k = 0; k < 30; k++) {
            String mid = String.format("%04d", r.nextInt(10000));
            String end = String.format("%04d", r.nextInt(10000));
            out.add(new Sample("연락처 %s", "010-" + mid + "-" + end, "kr_phone"));
            out.add(new Sample("phone desk\norder id %s", "010" + mid + end, ""));
        }
        // Secrets: private keys of every supported kind are found.
        out.add(new Sample(
                "key:\n%s\n",
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0"
                        + "tRgeLezV6ffAt0gunVTLw7onLRnrq0\n-----END RSA PRIVATE KEY-----",
                "private_key"));
        return out;
    }

    static String ibanWithCheck(String cc, String bban) {
        StringBuilder num = new StringBuilder();
        for (char c : (bban + cc + "00").toCharArray()) {
            num.append(Character.isLetter(c) ? String.valueOf(c - 'A' + 10) : String.valueOf(c));
        }
        int check =
                98 - new BigInteger(num.toString()).mod(BigInteger.valueOf(97)).intValue();
        return cc + (check < 10 ? "0" : "") + check + bban;
    }

    static Map<String, Integer> registry() throws Exception {
        Map<String, Integer> m = new TreeMap<>();
        try (BufferedReader rd = new BufferedReader(new InputStreamReader(
                Checksums.class.getResourceAsStream("iban-registry.txt"), StandardCharsets.UTF_8))) {
            rd.lines()
                    .filter(l -> !l.startsWith("#") && !l.isBlank())
                    .forEach(l -> m.put(l.substring(0, 2), Integer.parseInt(l.substring(3, 5))));
        }
        return m;
    }

    @Test
    void generatedCorpus_meetsPrecisionAndRecallFloors_atEverySplit() throws Exception {
        ScanRules rules = Scans.allBuiltins(ActionKind.MASK);
        Map<String, int[]> counts = new TreeMap<>(); // detector -> {true positive, false positive, false negative}
        List<String> misses = new ArrayList<>();
        for (Sample s : generate()) {
            String text = s.text().formatted(s.value());
            byte[] in = text.getBytes(StandardCharsets.UTF_8);
            CollectingOutput whole = Scans.whole(rules, in);
            for (int split = 1; split < in.length; split++) {
                CollectingOutput out = new CollectingOutput();
                StreamScanner sc = new StreamScanner(rules, ValueHasher.forTenant(Scans.KEY, "t1"), out);
                sc.feed(in, 0, split);
                sc.feed(in, split, in.length - split);
                sc.finish();
                assertThat(out.bytes()).as("%s split at %d", text, split).isEqualTo(whole.bytes());
            }
            int vs = text.indexOf(s.value());
            int from = text.substring(0, vs).getBytes(StandardCharsets.UTF_8).length;
            int to = from + s.value().getBytes(StandardCharsets.UTF_8).length;
            boolean hit = false;
            for (Finding f : whole.findings()) {
                boolean onValue = f.start() < to && from < f.end();
                if (onValue && f.detector().equals(s.label())) {
                    hit = true;
                } else if (onValue) {
                    counts.computeIfAbsent(f.detector(), k -> new int[3])[1]++;
                    misses.add("false " + f.detector() + ": " + text);
                }
            }
            if (!s.label().isEmpty()) {
                counts.computeIfAbsent(s.label(), k -> new int[3])[hit ? 0 : 2]++;
                if (!hit) {
                    misses.add("missed " + s.label() + ": " + text);
                }
            }
        }
        Map<String, Double> floors = Map.of("card", 1.0, "iban", 1.0, "kr_phone", 1.0, "private_key", 1.0);
        for (Map.Entry<String, int[]> e : counts.entrySet()) {
            int[] c = e.getValue();
            double precision = c[0] + c[1] == 0 ? 1 : (double) c[0] / (c[0] + c[1]);
            double recall = c[0] + c[2] == 0 ? 1 : (double) c[0] / (c[0] + c[2]);
            double floor = floors.getOrDefault(e.getKey(), 1.0);
            assertThat(precision).as("%s precision; %s", e.getKey(), misses).isGreaterThanOrEqualTo(floor);
            assertThat(recall).as("%s recall; %s", e.getKey(), misses).isGreaterThanOrEqualTo(floor);
        }
        assertThat(counts).containsKeys("card", "iban", "kr_phone", "private_key");
        assertThat(counts.get("iban")[0]).isGreaterThanOrEqualTo(89);
    }
}
