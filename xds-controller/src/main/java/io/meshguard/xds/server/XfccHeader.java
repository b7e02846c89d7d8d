package io.meshguard.xds.server;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the {@code x-forwarded-client-cert} header Envoy writes: comma-separated elements (one per proxy), each
 * {@code key=value} pairs separated by {@code ;}, keys case-insensitive, a value holding {@code , ; =} double-quoted
 * with {@code \"} inside (envoyproxy/envoy docs {@code configuration/http/http_conn_man/headers.rst}, written by
 * {@code source/common/http/conn_manager_utility.cc} {@code mutateXfccRequestHeader}).
 *
 * <p>Only one shape is accepted as an identity: exactly one element with exactly one {@code URI=spiffe://...}. That is
 * what the controller's own sidecar writes with {@code SANITIZE_SET} (any header the client sent is dropped first),
 * and also what it writes with Istio's older default {@code APPEND_FORWARD} for a client whose own sidecar stripped
 * the header (Envoy removes XFCC on every connection that is not mutual TLS, so on the app → sidecar hop). A second
 * element means a header travelled from further away than our sidecar: refused, never guessed at.
 */
public final class XfccHeader {
    public static final String NAME = "x-forwarded-client-cert";

    private XfccHeader() {}

    /**
     * The one SPIFFE ID in {@code values} (every value of the header the request carried).
     *
     * @throws IllegalArgumentException saying what is wrong, when there is not exactly one
     */
    public static String soleSpiffeId(List<String> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("no " + NAME + " header: the stream did not come through the "
                    + "controller's sidecar over mutual TLS");
        }
        if (values.size() > 1) {
            throw new IllegalArgumentException(NAME + " sent " + values.size() + " times");
        }
        List<List<Map.Entry<String, String>>> elements = parse(values.get(0));
        if (elements.size() != 1) {
            throw new IllegalArgumentException(NAME + " has " + elements.size() + " elements; the controller's "
                    + "sidecar must set it alone (forwardedClientCert: SANITIZE_SET)");
        }
        List<String> uris = elements.get(0).stream()
                .filter(e -> e.getKey().equals("uri"))
                .map(Map.Entry::getValue)
                .toList();
        if (uris.size() != 1 || !uris.get(0).startsWith("spiffe://")) {
            throw new IllegalArgumentException(NAME + " names " + uris.size() + " URI SAN(s), not one SPIFFE ID");
        }
        String id = uris.get(0);
        // a well-formed SPIFFE ID only (trust domain and path characters of the SPIFFE spec, no wildcard): it goes
        // into logs, /fleet and grant matching as it is
        if (id.contains("*")) {
            throw new IllegalArgumentException(NAME + " URI is not a SPIFFE ID");
        }
        new SpiffeIdPattern(id);
        return id;
    }

    /** Elements, each a list of (lower-cased key, unquoted value). */
    static List<List<Map.Entry<String, String>>> parse(String header) {
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
            throw new IllegalArgumentException(NAME + " has an unterminated quoted value");
        }
        pairs.add(pair(key, token));
        elements.add(List.copyOf(pairs));
        return elements;
    }

    private static Map.Entry<String, String> pair(String key, StringBuilder value) {
        if (key == null || key.isEmpty()) {
            throw new IllegalArgumentException(NAME + " has a part that is not key=value");
        }
        return Map.entry(key, value.toString().trim());
    }
}
