package io.meshguard.dlp.content;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/** Declared charsets ({@code ; charset=…}) as the body path reads them. */
public final class Charsets {
    private Charsets() {}

    /** Printable ASCII a detector looks for: digits, letters, and the punctuation of e-mails, keys and markers. */
    private static final String PROBE =
            "0123456789 ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz@.-_+/=:{}[]\",";

    private static final ConcurrentHashMap<String, Boolean> ASCII_COMPATIBLE = new ConcurrentHashMap<>();

    /** The JDK charset of a declared name (aliases, any case, quotes removed), or empty when the JDK has none. */
    public static Optional<Charset> lookup(String name) {
        String n = name.trim();
        try {
            return Charset.isSupported(n) ? Optional.of(Charset.forName(n)) : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty(); // illegal charset name
        }
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
        return ASCII_COMPATIBLE.computeIfAbsent(name.trim().toLowerCase(Locale.ROOT), n -> lookup(n)
                .filter(Charset::canEncode)
                .map(c -> java.util.Arrays.equals(PROBE.getBytes(c), PROBE.getBytes(StandardCharsets.US_ASCII)))
                .orElse(false));
    }
}
