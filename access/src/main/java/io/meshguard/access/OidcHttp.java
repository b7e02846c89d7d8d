package io.meshguard.access;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.util.Map;
import java.util.stream.Collectors;

/** The HTTP both OIDC clients speak to the issuer: form bodies, JSON answers, calls that say why they failed. */
public final class OidcHttp {
    private OidcHttp() {}

    /** Sends {@code request}; an interrupt keeps the thread's flag and fails the call. */
    static HttpResponse<String> exchange(HttpClient http, HttpRequest request) throws IOException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** A JSON object answer, or an IOException naming why it is not one. */
    static Map<String, Object> json(String body) throws IOException {
        try {
            return JSONObjectUtils.parse(body);
        } catch (ParseException e) {
            throw new IOException("not a JSON object: " + e.getMessage(), e);
        }
    }

    /** {@code application/x-www-form-urlencoded} (also a query string). */
    public static String form(Map<String, String> fields) {
        return fields.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
    }
}
