package io.meshguard.deploy.box;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A browser's session with the console as an operator without an identity provider uses it: the sign-in form, the
 * admin token posted with the form's binding, then pages with the session cookie. Cookies are kept by name (the
 * console sets them per path; a browser would send each to its own path, which every page used here is under).
 */
final class ConsoleSession {
    private static final Pattern BINDING = Pattern.compile("name=\"_signin\" value=\"([^\"]+)\"");
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String base;
    private final Map<String, String> cookies = new LinkedHashMap<>();

    private ConsoleSession(InetSocketAddress address) {
        this.base = "http://127.0.0.1:" + address.getPort();
    }

    static ConsoleSession signIn(InetSocketAddress address, String token, String next) throws Exception {
        ConsoleSession s = new ConsoleSession(address);
        HttpResponse<String> form = s.get("/console/signin?next=" + URLEncoder.encode(next, StandardCharsets.UTF_8));
        Matcher binding = BINDING.matcher(form.body());
        if (form.statusCode() != 200 || !binding.find()) {
            throw new AssertionError("the console's sign-in form: " + form.statusCode() + " " + form.body());
        }
        HttpResponse<String> signedIn =
                s.post("/console/signin", Map.of("_signin", binding.group(1), "token", token, "next", next));
        if (signedIn.statusCode() != 303 && signedIn.statusCode() != 302) {
            throw new AssertionError(
                    "signing in with the admin token: " + signedIn.statusCode() + " " + signedIn.body());
        }
        return s;
    }

    HttpResponse<String> get(String path) throws Exception {
        return send(request(path).GET().build());
    }

    HttpResponse<String> post(String path, Map<String, String> form) throws Exception {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "="
                        + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return send(request(path)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .header("Origin", base)
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
        if (!cookies.isEmpty()) {
            b.header(
                    "Cookie",
                    cookies.entrySet().stream()
                            .map(e -> e.getKey() + "=" + e.getValue())
                            .collect(Collectors.joining("; ")));
        }
        return b;
    }

    private HttpResponse<String> send(HttpRequest request) throws Exception {
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        for (String set : r.headers().allValues("Set-Cookie")) {
            String pair = set.split(";", 2)[0];
            int eq = pair.indexOf('=');
            String name = pair.substring(0, eq).strip();
            String value = pair.substring(eq + 1).strip();
            if (value.isEmpty() || set.contains("Max-Age=0")) {
                cookies.remove(name);
            } else {
                cookies.put(name, value);
            }
        }
        return r;
    }
}
