package io.meshguard.cli.xds;

import io.meshguard.access.BearerTokenSource;
import io.meshguard.access.OidcClient;
import io.meshguard.access.SignedInToken;
import io.meshguard.access.TokenStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/** Calls a running controller's admin API with a bearer token: from a file, or the one {@code meshguard login} keeps. */
public final class AdminClient {
    private final URI base;
    private final BearerTokenSource token;
    private final HttpClient http;

    public AdminClient(String url, Path tokenFile) throws IOException {
        this(url, readTokenFile(tokenFile));
    }

    /** With a bearer token as is (the access token {@code meshguard login} keeps). */
    public AdminClient(String url, String token) {
        this(url, (BearerTokenSource) () -> token);
    }

    /** With the token {@code token} gives at each call (a long-running client whose tokens expire). */
    public AdminClient(String url, BearerTokenSource token) {
        this(url, token, Optional.empty());
    }

    /** @param tls the CAs trusted for an {@code https} admin origin; empty: the JDK trust store */
    public AdminClient(String url, BearerTokenSource token, Optional<SSLContext> tls) {
        this.base = URI.create(url.endsWith("/") ? url.substring(0, url.length() - 1) : url);
        this.token = token;
        HttpClient.Builder http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5));
        tls.ifPresent(http::sslContext);
        this.http = http.build();
    }

    /**
     * The signed-in user's client: the token {@code meshguard login} stored, refreshed first when it is about to
     * expire (and stored again).
     */
    public static Optional<AdminClient> signedIn(String url, TokenStore store) throws IOException {
        Optional<SignedInToken> stored = store.load();
        if (stored.isEmpty()) {
            return Optional.empty();
        }
        SignedInToken token = stored.get();
        if (!token.freshAt(Instant.now(), 30)) {
            token = new OidcClient(token.issuer(), token.clientId(), Clock.systemUTC()).refresh(token);
            store.save(token);
        }
        return Optional.of(new AdminClient(url, token.accessToken()));
    }

    /** The token of a client-side token file: its first line that is no comment, less a server-side {@code name:}. */
    public static String readTokenFile(Path tokenFile) throws IOException {
        String line = Files.readAllLines(tokenFile, StandardCharsets.UTF_8).stream()
                .map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#"))
                .findFirst()
                .orElseThrow(() -> new IOException("no token in " + tokenFile));
        // a server-side token file (name:token) works as the client's file too
        int colon = line.indexOf(':');
        return colon > 0 ? line.substring(colon + 1) : line;
    }

    public HttpResponse<String> send(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(Duration.ofSeconds(60))
                .header("Authorization", "Bearer " + token.current())
                .header("Content-Type", "application/json")
                .method(
                        method,
                        body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /**
     * The admin API a command names: {@code url} with {@code tokenFile}; {@code url} alone with the signed-in user's
     * token ({@code meshguard login}); otherwise the running {@code meshguard up} on {@code dataDir}, for whatever of
     * the two is missing.
     */
    public static AdminClient resolve(String url, Path tokenFile, Path dataDir) throws IOException {
        if (url != null && tokenFile != null) {
            return new AdminClient(url, tokenFile);
        }
        if (url != null) {
            Optional<AdminClient> signedIn = signedIn(url, io.meshguard.access.TokenStore.forUser(System.getenv()));
            if (signedIn.isPresent()) {
                return signedIn.get();
            }
        }
        Optional<io.meshguard.cli.common.RunningStack> stack = io.meshguard.cli.common.RunningStack.find(dataDir);
        if (stack.isEmpty()) {
            throw new IllegalStateException(
                    "no admin API given: pass --url URL --token-file FILE, or start `meshguard up` ("
                            + io.meshguard.cli.common.RunningStack.notRunning(dataDir) + ")");
        }
        return new AdminClient(
                url != null ? url : stack.get().xdsAdminUrl(),
                tokenFile != null ? tokenFile : stack.get().xdsAdminTokenFile());
    }
}
