package io.meshguard.contract;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The grammar of the {@code x-forwarded-client-cert} header Envoy writes: comma-separated elements (one per proxy),
 * each {@code key=value} pairs separated by {@code ;}, keys case-insensitive, a value holding {@code , ; =}
 * double-quoted with {@code \"} inside (envoyproxy/envoy docs {@code configuration/http/http_conn_man/headers.rst},
 * written by {@code source/common/http/conn_manager_utility.cc} {@code mutateXfccRequestHeader}). Which elements and
 * keys are believed is the reader's decision: the controller's peer identity and extauthz's waypoint peer each decide.
 */
public final class XfccElements {
    public static final String HEADER = "x-forwarded-client-cert";

    private XfccElements() {}

    /**
     * The header's elements, each a list of (lower-cased key, unquoted value).
     *
     * @throws IllegalArgumentException when a part is not {@code key=value} or a quoted value is not closed
     */
    public static List<List<Map.Entry<String, String>>> parse(String header) {
        List<List<Map.Entry<String, String>>> elements = new ArrayList<>();
        List<Map.Entry<String, String>> pairs = new ArrayList<>();
        StringBuilder token = new StringBuilder();
        String key = null;
        boolean quoted = false;
        for (int i = 0; i < header.length(); i++) {
            char c = header.charAt(i);
            if (quoted) {
                if (c == '\\' && i + 1 < header.length() && header.charAt(i + 1) == '"') {
                    token.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    token.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == '=' && key == null) {
                key = token.toString().trim().toLowerCase(Locale.ROOT);
                token.setLength(0);
            } else if (c == ';' || c == ',') {
                pairs.add(pair(key, token));
                key = null;
                token.setLength(0);
                if (c == ',') {
                    elements.add(List.copyOf(pairs));
                    pairs.clear();
                }
            } else {
                token.append(c);
            }
        }
        if (quoted) {
            throw new IllegalArgumentException(HEADER + " has an unterminated quoted value");
        }
        pairs.add(pair(key, token));
        elements.add(List.copyOf(pairs));
        return elements;
    }

    /** The values of {@code key} in one element, in order. */
    public static List<String> valuesOf(List<Map.Entry<String, String>> element, String key) {
        return element.stream()
                .filter(e -> e.getKey().equals(key))
                .map(Map.Entry::getValue)
                .toList();
    }

    private static Map.Entry<String, String> pair(String key, StringBuilder value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException(HEADER + " has a part that is not key=value");
        }
        return Map.entry(key, value.toString().trim());
    }
}
