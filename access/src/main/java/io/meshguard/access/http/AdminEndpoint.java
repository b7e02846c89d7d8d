package io.meshguard.access.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import io.meshguard.access.AdminGate;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.access.Scope;
import io.meshguard.db.TenantScope;
import io.meshguard.runtime.http.AdminJson;
import io.meshguard.runtime.http.ErrorKind;
import java.io.IOException;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * The JSON admin APIs on the {@link RequestLoop}: the route the method and decoded path name (from the API's
 * {@link AdminOperations} table, which also writes its OpenAPI paths), the {@link AdminGate}'s admission for that
 * route's permission, the operation's handler with the parsed {@link AdminRequest}, and one answer for every failure
 * by the loop's table of {@link ErrorKind}s (the API adds rows for its own exception types with {@link #refusing}),
 * as a JSON {@code {"error": …}}.
 *
 * @param <A> the API whose handlers the table names
 */
public final class AdminEndpoint<A> implements HttpHandler {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One operation's code: its JSON answer (or {@link AdminRequest#stream} and anything). */
    @FunctionalInterface
    public interface Handler<A> {
        JsonNode handle(A api, AdminRequest request) throws Exception;
    }

    private final A api;
    private final AdminOperations<Handler<A>> operations;
    private final RequestLoop loop;
    private final int maxBody;
    private final Optional<byte[]> openDocument;
    private final ObjectWriter writer;

    private AdminEndpoint(
            A api,
            AdminOperations<Handler<A>> operations,
            RequestLoop loop,
            int maxBody,
            Optional<byte[]> openDocument,
            ObjectWriter writer) {
        this.api = api;
        this.operations = operations;
        this.loop = loop;
        this.maxBody = maxBody;
        this.openDocument = openDocument.map(byte[]::clone);
        this.writer = writer;
    }

    /**
     * @param component names the log a 500 points to ({@code controller}, {@code extauthz})
     * @param maxBody the longest body any operation of the API reads
     */
    public static <A> AdminEndpoint<A> of(
            A api, AdminOperations<Handler<A>> operations, AdminGate gate, String component, int maxBody) {
        ObjectWriter writer = JSON.writer();
        return new AdminEndpoint<>(
                api,
                operations,
                RequestLoop.of(new AdminRouter(operations.routes(), gate), component, RequestLoop.json(writer)),
                maxBody,
                Optional.empty(),
                writer);
    }

    /**
     * The same endpoint answering indented JSON: the API keys', quotas' and policy requests' answers always were, and
     * the CLI prints what they answer as it comes.
     */
    public AdminEndpoint<A> indented() {
        ObjectWriter pretty = JSON.writerWithDefaultPrettyPrinter();
        return new AdminEndpoint<>(
                api, operations, loop.answering(RequestLoop.json(pretty)), maxBody, openDocument, pretty);
    }

    /** The same endpoint answering its open route ({@code GET …/openapi.json}) with {@code document}. */
    public AdminEndpoint<A> withOpenDocument(byte[] document) {
        return new AdminEndpoint<>(api, operations, loop, maxBody, Optional.of(document), writer);
    }

    /** The same endpoint answering {@code type} as {@code refusal} says (a row of the table for the API's type). */
    public <E extends Exception> AdminEndpoint<A> refusing(Class<E> type, Function<E, AdminJson.Refusal> refusal) {
        return new AdminEndpoint<>(api, operations, loop.refusing(type, refusal), maxBody, openDocument, writer);
    }

    /** The same endpoint answering {@code type} with {@code kind} and the exception's message. */
    public <E extends Exception> AdminEndpoint<A> refusing(Class<E> type, ErrorKind kind) {
        return refusing(type, e -> new AdminJson.Refusal(kind, e.getMessage()));
    }

    /** The routes the endpoint admits from (its table's). */
    public List<AdminRoute> routes() {
        return operations.routes();
    }

    @Override
    public void handle(HttpExchange exchange) throws IOException {
        loop.handle(exchange, this::serve);
    }

    private void serve(RequestLoop.Call call) throws Exception {
        HttpExchange exchange = call.exchange();
        AdminRouter router = loop.router();
        if (call.route().filter(AdminRoute::isOpen).isPresent()) {
            RequestLoop.sendJson(exchange, 200, openDocument.orElseThrow(() -> loop.unrouted(call)));
            return;
        }
        // a path no route serves is refused 401 before 404: the router authenticates first
        AdminRouter.Admitted admitted =
                switch (router.admit(exchange, call.requestId(), call.segments())) {
                    case AdminRouter.Admitted a -> a;
                    case AdminRouter.Refused r -> throw new AdminJson.Refusal(r.status(), r.message());
                    case AdminRouter.Unrouted u -> throw loop.unrouted(call);
                };
        TenantScope granted = router.tenantsOf(admitted);
        TenantScope tenants =
                admitted.route().scope().apply(call.segments()).equals(Scope.ANY_TENANT) ? granted : TenantScope.ALL;
        AdminOperation<Handler<A>> operation = operations.operation(admitted.route());
        AdminRequest request = new AdminRequest(
                exchange,
                admitted,
                call.segments(),
                tenants,
                granted.all(),
                call.requestId(),
                maxBody,
                operation.status());
        JsonNode body = operation.handler().handle(api, request);
        if (exchange.getResponseCode() == -1) {
            RequestLoop.sendJson(exchange, request.status(), writer.writeValueAsBytes(body));
        }
    }
}
