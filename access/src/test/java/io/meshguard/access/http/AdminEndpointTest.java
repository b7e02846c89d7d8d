package io.meshguard.access.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.BearerTokens;
import io.meshguard.runtime.http.ErrorKind;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The one admin request loop on a real HTTP server: each kind of failure answers the status of the table. */
class AdminEndpointTest {
    private static final String TOKEN = "t0ken-for-the-endpoint-test";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A caller's own exception type, answered through the API's row of the table. */
    static final class StaleWrite extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StaleWrite(String message) {
            super(message);
        }
    }

    private static final AdminOperations<AdminEndpoint.Handler<Object>> OPERATIONS = AdminOperations.of(
            AdminOperation.of(
                    AdminRoute.system("POST", "/things/{name}", "config:replace"),
                    "Echo the body",
                    (api, r) ->
                            JSON.createObjectNode().put("name", r.segment(1)).set("body", r.body())),
            AdminOperation.of(
                    AdminRoute.system("GET", "/things/{name}", "config:read"),
                    "Fail as the name says",
                    (api, r) -> switch (r.segment(1)) {
                        case "invalid" -> throw new IllegalArgumentException("limits: a number of requests");
                        case "missing" -> throw new NoSuchElementException("no thing missing");
                        case "stale" -> throw new StaleWrite("changed since you read it");
                        case "refused" -> throw new AdminJson.Refusal(ErrorKind.FORBIDDEN, "not yours");
                        case "broken" -> throw new IllegalStateException("a bug");
                        default ->
                            JSON.createObjectNode()
                                    .put("q", r.query("q").orElse(""))
                                    .put("tenant", r.scope().all());
                    }),
            AdminOperation.of(
                    AdminRoute.system("POST", "/owners/{name}", "config:replace"),
                    "Read required fields",
                    (api, r) -> JSON.createObjectNode()
                            .put("owner", AdminRequest.requiredText(r.body(), "owner"))
                            .set("tags", JSON.valueToTree(AdminRequest.strings(r.body(), "tags")))),
            AdminOperation.of(AdminRoute.open("GET", "/openapi.json"), "This document", (api, r) -> {
                throw new IllegalStateException("answered before admission");
            }));

    @TempDir
    Path tmp;

    private HttpServer server;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        Path tokens = tmp.resolve("tokens");
        Files.writeString(tokens, "ops:" + TOKEN + "\n");
        AdminEndpoint<Object> endpoint = AdminEndpoint.of(
                        new Object(),
                        OPERATIONS,
                        AdminGate.local(new BearerTokens(Optional.of(tokens)), "test.token_file"),
                        "test",
                        64)
                .withOpenDocument("{\"openapi\":\"3.1.0\"}".getBytes())
                .refusing(StaleWrite.class, ErrorKind.CONFLICT);
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", endpoint);
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private HttpResponse<String> call(String method, String path, String body, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path))
                .method(
                        method,
                        body.isEmpty()
                                ? HttpRequest.BodyPublishers.noBody()
                                : HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> signed(String method, String path, String body, String... headers) throws Exception {
        String[] all = Arrays.copyOf(headers, headers.length + 2);
        all[headers.length] = "Authorization";
        all[headers.length + 1] = "Bearer " + TOKEN;
        return call(method, path, body, all);
    }

    private static String error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).path("error").asText();
    }

    @Test
    void admitted_answersTheHandlersJson_withTheDeclaredStatus_andNoStore() throws Exception {
        HttpResponse<String> r = signed("POST", "/things/a%20b", "{\"x\": 1}", "Content-Type", "application/json");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(r.body()).path("name").asText()).isEqualTo("a b");
        assertThat(JSON.readTree(r.body()).path("body").path("x").asInt()).isEqualTo(1);
        assertThat(r.headers().firstValue("Cache-Control")).contains("no-store");
        assertThat(r.headers().firstValue("x-request-id")).isPresent();
        assertThat(JSON.readTree(signed("GET", "/things/ok?q=a%2Bb", "").body())
                        .path("q")
                        .asText())
                .isEqualTo("a+b");
    }

    @Test
    void noCredential_is401_withTheChallenge_evenOnAPathNoRouteServes() throws Exception {
        for (String path : new String[] {"/things/ok", "/nothing/here"}) {
            HttpResponse<String> r = call("GET", path, "");
            assertThat(r.statusCode()).as(path).isEqualTo(401);
            assertThat(r.headers().firstValue("WWW-Authenticate")).contains("Bearer");
        }
    }

    @Test
    void malformedInput_is400() throws Exception {
        assertThat(signed("POST", "/things/a", "{not json").statusCode()).isEqualTo(400);
        assertThat(signed("POST", "/things/a", "[1, 2]").statusCode()).isEqualTo(400);
        // java.net.URI refuses to send a broken escape: the parser the loop reads queries with, directly
        assertThatThrownBy(() -> QueryString.parse("q=%zz"))
                .isInstanceOfSatisfying(
                        AdminJson.Refusal.class, e -> assertThat(e.status()).isEqualTo(400))
                .hasMessageContaining("percent-encoding");
    }

    @Test
    void anInvalidArgument_is422_whicheverApiThrowsIt() throws Exception {
        HttpResponse<String> r = signed("GET", "/things/invalid", "");
        assertThat(r.statusCode()).isEqualTo(422);
        assertThat(error(r)).isEqualTo("limits: a number of requests");
    }

    @Test
    void aRequiredFieldMissingOrBlank_is422_andAFieldOfTheWrongType400() throws Exception {
        HttpResponse<String> missing = signed("POST", "/owners/a", "{}");
        assertThat(missing.statusCode()).isEqualTo(422);
        assertThat(error(missing)).isEqualTo("'owner' is required (a string)");
        assertThat(signed("POST", "/owners/a", "{\"owner\": \"  \"}").statusCode())
                .isEqualTo(422);
        assertThat(signed("POST", "/owners/a", "{\"owner\": 7}").statusCode()).isEqualTo(400);
        assertThat(signed("POST", "/owners/a", "{\"owner\": \"o\", \"tags\": \"x\"}")
                        .statusCode())
                .isEqualTo(400);
        assertThat(signed("POST", "/owners/a", "{\"owner\": \"o\", \"tags\": [1]}")
                        .statusCode())
                .isEqualTo(400);
        HttpResponse<String> ok = signed("POST", "/owners/a", "{\"owner\": \"o\", \"tags\": [\"t\"]}");
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(ok.body()).path("tags").get(0).asText()).isEqualTo("t");
    }

    @Test
    void eachKindOfRefusal_answersTheTablesStatus() throws Exception {
        assertThat(signed("GET", "/things/missing", "").statusCode()).isEqualTo(404);
        assertThat(signed("GET", "/things/refused", "").statusCode()).isEqualTo(403);
        assertThat(signed("GET", "/things/stale", "").statusCode()).isEqualTo(409);
        assertThat(signed("POST", "/things/a", "{\"x\": \"" + "y".repeat(100) + "\"}")
                        .statusCode())
                .isEqualTo(413);
        assertThat(signed("POST", "/things/a", "x=1", "Content-Type", "application/x-www-form-urlencoded")
                        .statusCode())
                .isEqualTo(415);
    }

    @Test
    void aPathWithRoutesForOtherMethods_is405_withAllow_andAPathWithNone404() throws Exception {
        HttpResponse<String> r = signed("DELETE", "/things/a", "");
        assertThat(r.statusCode()).isEqualTo(405);
        assertThat(r.headers().firstValue("Allow")).contains("GET, POST");
        assertThat(signed("GET", "/things/a/b", "").statusCode()).isEqualTo(404);
    }

    @Test
    void aFault_is500_namingTheRequestId_andNothingOfTheCause() throws Exception {
        HttpResponse<String> r = signed("GET", "/things/broken", "", "x-request-id", "req-42");
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(error(r))
                .isEqualTo("internal error, see the test log for request req-42")
                .doesNotContain("bug");
    }

    @Test
    void theOpenRoute_isAnsweredWithoutACredential() throws Exception {
        HttpResponse<String> r = call("GET", "/openapi.json", "");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).contains("3.1.0");
    }

    /** docs/problem-codes.md shows the table the loop answers by: one row per kind, with its status. */
    @Test
    void theDocumentedStatusTable_isTheLoops() throws Exception {
        String docs = Files.readString(Path.of("../docs/problem-codes.md"));
        Matcher row = Pattern.compile("(?m)^\\| (\\d{3}) \\| `([A-Z_]+)` \\|").matcher(docs);
        Set<String> documented = new TreeSet<>();
        while (row.find()) {
            documented.add(row.group(1) + " " + row.group(2));
        }
        assertThat(documented)
                .isEqualTo(Arrays.stream(ErrorKind.values())
                        .map(k -> k.status() + " " + k.name())
                        .collect(Collectors.toCollection(TreeSet::new)));
    }
}
