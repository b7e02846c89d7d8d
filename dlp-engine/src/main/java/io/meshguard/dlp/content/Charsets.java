package io.meshguard.dlp.content;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Declared charsets ({@code ; charset=…}) as the body path reads them. */
public final class Charsets {
    private Charsets() {}

    /** Printable ASCII a detector looks for: digits, letters, and the punctuation of e-mails, keys and markers. */
    private static final String PROBE =
            "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@.-_+/=:{}[]\",";

    /**
     * Every charset the JDK has, by its name and each alias in lower case, read once. A name the JDK does not know
     * made {@link Charset#isSupported} walk every {@code CharsetProvider} on the class path: 0.18–0.26 ms per lookup
     * warm, 86–375 ms the first time (a cold DLP pod failed its first such request closed on the 2 s headers deadline);
     * the name comes from a request's {@code Content-Type}, so random names cost the server that per request. From this
     * table a lookup takes about a microsecond.
     */
    private static final Map<String, Charset> BY_NAME = byName();

    /** Whether each charset writes a detector's characters as ASCII, worked out once per charset (not per name). */
    private static final Map<Charset, Boolean> ASCII_COMPATIBLE = new ConcurrentHashMap<>();

    private static Map<String, Charset> byName() {
        Map<String, Charset> out = new HashMap<>();
        for (Charset c : Charset.availableCharsets().values()) {
            out.put(c.name().toLowerCase(Locale.ROOT), c);
            for (String alias : c.aliases()) {
                out.putIfAbsent(alias.toLowerCase(Locale.ROOT), c);
            }
        }
        return Map.copyOf(out);
    }

    /** The JDK charset of a declared name (aliases, any case, quotes removed), or empty when the JDK has none. */
    public static Optional<Charset> lookup(String name) {
        return Optional.ofNullable(BY_NAME.get(name.trim().toLowerCase(Locale.ROOT)));
    }

    /** UTF-8 and its subsets: the bytes are scanned as they are. */
    public static boolean isUtf8(Charset c) {
        return c.equals(StandardCharsets.UTF_8) || c.equals(StandardCharsets.US_ASCII);
    }

    /**
     * True when the charset writes every character a detector looks for as the same single ASCII byte (ISO-8859-*,
     * windows-125x, EUC-KR, Shift_JIS …), so a body in it can be scanned in place. False for UTF-16, UTF-32, EBCDIC
     * and names the JDK does not know.
     */
    public static boolean asciiCompatible(String name) {
        return lookup(name)
                .filter(Charset::canEncode)
                .map(c -> ASCII_COMPATIBLE.computeIfAbsent(
                        c, k -> java.util.Arrays.equals(PROBE.getBytes(k), PROBE.getBytes(StandardCharsets.US_ASCII))))
                .orElse(false);
    }
}
