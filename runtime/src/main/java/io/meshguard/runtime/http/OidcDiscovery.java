package io.meshguard.runtime.http;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/**
 * An issuer's OpenID Connect discovery document (Discovery 1.0 §4): read from
 * {@code <issuer>/.well-known/openid-configuration}, it must name exactly that issuer (§4.3: a document for another
 * issuer is refused), and its {@code jwks_uri} is used only where {@link KeySetLocations} allows. Every reader of a
 * discovery document goes through here: the admin plane's token verifier and sign-in clients, extauthz's discovered
 * issuers and the dev stack's check of an external issuer. The document is fetched until it succeeds once, then kept.
 */
public final class OidcDiscovery {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> OBJECT = new TypeReference<>() {};

    private final String issuer;
    private final HttpClient http;
    private final Duration timeout;
    private volatile Map<String, Object> document;

    /** @param http the client of the fetch (its TLS trust is the issuer's) */
    public OidcDiscovery(String issuer, HttpClient http, Duration timeout) {
        this.issuer = issuer;
        this.http = http;
        this.timeout = timeout;
    }

    /** Where {@code issuer}'s discovery document is. */
    public static URI location(String issuer) {
        return URI.create((issuer.endsWith("/") ? issuer : issuer + "/") + ".well-known/openid-configuration");
    }

    /** The issuer's document; it names exactly the issuer. */
    public Map<String, Object> document() throws IOException {
        Map<String, Object> doc = document;
        if (doc == null) {
            doc = ofIssuer(issuer, fetch(http, issuer, timeout));
            document = doc;
        }
        return doc;
    }

    /** The endpoint the document names as {@code name}, e.g. {@code token_endpoint}. */
    public String endpoint(String name) throws IOException {
        if (!(document().get(name) instanceof String s)) {
            throw new IOException("the issuer does not offer " + name);
        }
        return s;
    }

    /** The document's {@code jwks_uri}, where {@link KeySetLocations} allows fetching keys. */
    public URI jwksUri() throws IOException {
        return jwksUri(document());
    }

    /**
     * Fetches {@code issuer}'s document without checking the issuer it names (for a caller that reports a mismatch
     * itself; {@link #ofIssuer} checks it).
     */
    public static Map<String, Object> fetch(HttpClient http, String issuer, Duration timeout) throws IOException {
        HttpResponse<String> res;
        try {
            res = http.send(
                    HttpRequest.newBuilder(location(issuer))
                            .timeout(timeout)
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading the issuer's discovery document", e);
        }
        if (res.statusCode() != 200) {
            throw new IOException("the issuer's discovery document answered " + res.statusCode());
        }
        return parse(res.body());
    }

    /** A discovery document's text as a JSON object, or an IOException naming why it is not one. */
    public static Map<String, Object> parse(String body) throws IOException {
        Map<String, Object> doc;
        try {
            doc = JSON.readValue(body, OBJECT);
        } catch (IOException e) {
            throw new IOException("the discovery document is not a JSON object: " + e.getMessage(), e);
        }
        if (doc == null) {
            throw new IOException("the discovery document is empty");
        }
        return doc;
    }

    /** {@code doc}, when it names exactly {@code issuer}; refused otherwise. */
    public static Map<String, Object> ofIssuer(String issuer, Map<String, Object> doc) throws IOException {
        if (!issuer.equals(doc.get("issuer"))) {
            throw new IOException("discovery names issuer " + doc.get("issuer") + ", not " + issuer);
        }
        return doc;
    }

    /** {@code doc}'s {@code jwks_uri}, refused unless it is a location {@link KeySetLocations} allows. */
    public static URI jwksUri(Map<String, Object> doc) throws IOException {
        if (!(doc.get("jwks_uri") instanceof String text)) {
            throw new IOException("discovery has no jwks_uri");
        }
        URI location;
        try {
            location = URI.create(text);
        } catch (IllegalArgumentException e) {
            throw new IOException("discovery names jwks_uri " + text + ", not a URI", e);
        }
        // a key set over plain http to another host is anyone's on the path: they could sign any token
        if (!KeySetLocations.allowed(location)) {
            throw new IOException("discovery names jwks_uri " + text + ": " + KeySetLocations.RULE);
        }
        return location;
    }
}
