package io.meshguard.contract.peer;

import io.meshguard.contract.XfccElements;
import java.util.List;
import java.util.Map;

/**
 * The controller's peer identity from the {@code x-forwarded-client-cert} header its sidecar writes (the grammar:
 * {@link XfccElements}).
 *
 * <p>Only one shape is accepted as an identity: exactly one element with exactly one {@code URI=spiffe://...}. That is
 * what the controller's own sidecar writes with {@code SANITIZE_SET} (any header the client sent is dropped first),
 * and also what it writes with Istio's older default {@code APPEND_FORWARD} for a client whose own sidecar stripped
 * the header (Envoy removes XFCC on every connection that is not mutual TLS, so on the app → sidecar hop). A second
 * element means a header travelled from further away than our sidecar: refused, never guessed at.
 */
public final class XfccHeader {
    public static final String NAME = XfccElements.HEADER;

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
        List<List<Map.Entry<String, String>>> elements = XfccElements.parse(values.get(0));
        if (elements.size() != 1) {
            throw new IllegalArgumentException(NAME + " has " + elements.size() + " elements; the controller's "
                    + "sidecar must set it alone (forwardedClientCert: SANITIZE_SET)");
        }
        List<String> uris = XfccElements.valuesOf(elements.get(0), "uri");
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
}
