package io.meshguard.dlp.detect;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The ISO 13616 IBAN registry (country code and IBAN length), read from {@code iban-registry.txt}: one data file, so
 * a registry release is a data change reviewed line by line, and the scan and the tests read the same table.
 */
final class IbanRegistry {
    private IbanRegistry() {}

    static Map<String, Integer> load() {
        try (InputStream in = IbanRegistry.class.getResourceAsStream("iban-registry.txt")) {
            if (in == null) {
                throw new IllegalStateException("iban-registry.txt missing from the classpath");
            }
            Map<String, Integer> lengths = new TreeMap<>();
            BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            int lineNo = 0;
            for (String line = r.readLine(); line != null; line = r.readLine()) {
                lineNo++;
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                String[] f = line.trim().split(" ", 3);
                int len = f.length >= 2 && f[1].matches("[0-9]{2}") ? Integer.parseInt(f[1]) : 0;
                if (!f[0].matches("[A-Z]{2}") || len < 15 || len > 34 || lengths.put(f[0], len) != null) {
                    throw new IllegalStateException("iban-registry.txt:" + lineNo + ": bad entry: " + line);
                }
            }
            return Map.copyOf(lengths);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
