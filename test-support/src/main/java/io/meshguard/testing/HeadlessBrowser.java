package io.meshguard.testing;

import java.io.IOException;
import java.net.CookieHandler;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A cookie-keeping HTTP client that follows Keycloak's login pages the way a person's browser would (forms and
 * redirects, no script: Keycloak's login, device and consent pages need none).
 */
public final class HeadlessBrowser {
    private static final Pattern FORM_ACTION = Pattern.compile("<form[^>]*action=\"([^\"]+)\"");
    private static final Pattern HIDDEN =
            Pattern.compile("<input[^>]*type=\"hidden\"[^>]*name=\"([^\"]+)\"[^>]*value=\"([^\"]*)\"");
    private final HttpClient http = HttpClient.newBuilder()
            .cookieHandler(new OneSiteCookieJar())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();

    /** GETs {@code url}, following redirects that stay on {@code host}; returns the last response. */
    public HttpResponse<String> open(String url) throws IOException, InterruptedException {
        HttpResponse<String> r =
                http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
        while (r.statusCode() / 100 == 3 && stays(r, url)) {
            String next = r.request()
                    .uri()
                    .resolve(r.headers().firstValue("Location").orElseThrow())
                    .toString();
            r = http.send(HttpRequest.newBuilder(URI.create(next)).build(), HttpResponse.BodyHandlers.ofString());
        }
        return r;
    }

    /** Submits the page's (first) form with {@code fields}; redirects are not followed. */
    public HttpResponse<String> submit(HttpResponse<String> page, Map<String, String> fields)
            throws IOException, InterruptedException {
        Matcher m = FORM_ACTION.matcher(page.body());
        if (!m.find()) {
            throw new IllegalStateException("no form on " + page.uri() + ":\n" + page.body());
        }
        String action = m.group(1).replace("&amp;", "&");
        // hidden inputs travel with the form, as a browser sends them (Keycloak's consent page carries its code)
        Map<String, String> all = new java.util.LinkedHashMap<>();
        Matcher hidden = HIDDEN.matcher(page.body().substring(m.start()));
        while (hidden.find()) {
            all.put(hidden.group(1), hidden.group(2).replace("&amp;", "&"));
        }
        all.putAll(fields);
        fields = all;
        return http.send(
                HttpRequest.newBuilder(page.uri().resolve(action))
                        .header("Content-Type", "application/x-www-form-urlencoded")
                        .POST(HttpRequest.BodyPublishers.ofString(KeycloakServer.form(fields)))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A person approving a device sign-in (RFC 8628 §3.3): opens the verification link with the code, signs in with
     * Keycloak's login form and grants access on the consent page when the realm asks; returns the last page.
     */
    public HttpResponse<String> approveDevice(String verificationUriComplete, String username, String password)
            throws IOException, InterruptedException {
        HttpResponse<String> page = open(verificationUriComplete);
        page = follow(submit(page, Map.of("username", username, "password", password)));
        if (page.body().contains("name=\"accept\"")) {
            page = follow(submit(page, Map.of("accept", "Yes")));
        }
        return page;
    }

    /** Follows a redirect after a form post, staying on the same host. */
    public HttpResponse<String> follow(HttpResponse<String> r) throws IOException, InterruptedException {
        return r.statusCode() / 100 == 3
                ? open(r.request()
                        .uri()
                        .resolve(r.headers().firstValue("Location").orElseThrow())
                        .toString())
                : r;
    }

    private static boolean stays(HttpResponse<String> r, String url) {
        URI next = r.request().uri().resolve(r.headers().firstValue("Location").orElse(""));
        return next.getPort() == URI.create(url).getPort();
    }

    /**
     * Keeps every cookie the one site sets and sends them all back. The JDK's CookieManager drops cookies for the
     * host "localhost" (HttpCookie.domainMatches wants an embedded dot), and Keycloak's login needs them.
     */
    private static final class OneSiteCookieJar extends CookieHandler {
        private final Map<String, String> cookies = new LinkedHashMap<>();

        @Override
        public synchronized Map<String, List<String>> get(URI uri, Map<String, List<String>> headers) {
            if (cookies.isEmpty()) {
                return Map.of();
            }
            List<String> pairs = cookies.entrySet().stream()
                    .map(e -> e.getKey() + "=" + e.getValue())
                    .toList();
            return Map.of("Cookie", List.of(String.join("; ", pairs)));
        }

        @Override
        public synchronized void put(URI uri, Map<String, List<String>> headers) {
            headers.forEach((name, values) -> {
                if (name != null && name.equalsIgnoreCase("Set-Cookie")) {
                    for (String v : values) {
                        String pair = v.split(";", 2)[0];
                        int eq = pair.indexOf('=');
                        if (eq <= 0) {
                            continue;
                        }
                        String key = pair.substring(0, eq).strip();
                        String value = pair.substring(eq + 1).strip();
                        boolean expired = v.toLowerCase(java.util.Locale.ROOT).contains("max-age=0");
                        if (expired || value.isEmpty()) {
                            cookies.remove(key);
                        } else {
                            cookies.put(key, value);
                        }
                    }
                }
            });
        }
    }
}
