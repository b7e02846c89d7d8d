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
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one request loop of the JSON admin APIs: the route the method and decoded path name (from the API's
 * {@link AdminOperations} table, which also writes its OpenAPI paths), the {@link AdminGate}'s admission for that
 * route's permission, the operation's handler with the parsed {@link AdminRequest}, and one answer for every failure
 * by the table of {@link ErrorKind}s (the API adds rows for its own exception types with {@link #refusing}).
 *
 * @param <A> the API whose handlers the table names
 */
public final class AdminEndpoint<A> implements HttpHandler {
    private static final Logger LOG = LoggerFactory.getLogger(AdminEndpoint.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One operation's code: its JSON answer (or {@link AdminRequest#stream} and anything). */
    @FunctionalInterface
    public interface Handler<A> {
        JsonNode handle(A api, AdminRequest request) throws Exception;
    }

    /** A row of the error table for an API's own exception type. */
    private record Row<E extends Exception>(Class<E> type, Function<E, AdminJson.Refusal> refusal) {
        Optional<AdminJson.Refusal> match(Exception e) {
            return type.isInstance(e) ? Optional.of(refusal.apply(type.cast(e))) : Optional.empty();
        }
    }

    private final A api;
    private final AdminOperations<Handler<A>> operations;
    private final AdminRouter router;
    private final String component;
    private final int maxBody;
    private final Optional<byte[]> openDocument;
    private final List<Row<?>> rows;
    private final ObjectWriter writer;

    private AdminEndpoint(
            A api,
            AdminOperations<Handler<A>> operations,
            AdminRouter router,
            String component,
            int maxBody,
            Optional<byte[]> openDocument,
            List<Row<?>> rows,
            ObjectWriter writer) {
        this.api = api;
        this.operations = operations;
        this.router = router;
        this.component = component;
        this.maxBody = maxBody;
        this.openDocument = openDocument.map(byte[]::clone);
        this.rows = List.copyOf(rows);
        this.writer = writer;
    }

    /**
     * @param component names the log a 500 points to ({@code controller}, {@code extauthz})
     * @param maxBody the longest body any operation of the API reads
     */
    public static <A> AdminEndpoint<A> of(
            A api, AdminOperations<Handler<A>> operations, AdminGate gate, String component, int maxBody) {
        return new AdminEndpoint<>(
                api,
                operations,
                new AdminRouter(operations.routes(), gate),
                component,
                maxBody,
                Optional.empty(),
                List.of(),
                JSON.writer());
    }

    /**
     * The same endpoint answering indented JSON: the API keys', quotas' and policy requests' answers always were, and
     * the CLI prints what they answer as it comes.
     */
    public AdminEndpoint<A> indented() {
        return new AdminEndpoint<>(
                api, operations, router, component, maxBody, openDocument, rows, JSON.writerWithDefaultPrettyPrinter());
    }

    /** The same endpoint answering its open route ({@code GET …/openapi.json}) with {@code document}. */
    public AdminEndpoint<A> withOpenDocument(byte[] document) {
        return new AdminEndpoint<>(api, operations, router, component, maxBody, Optional.of(document), rows, writer);
    }

    /** The same endpoint answering {@code type} as {@code refusal} says (a row of the table for the API's type). */
    public <E extends Exception> AdminEndpoint<A> refusing(Class<E> type, Function<E, AdminJson.Refusal> refusal) {
        List<Row<?>> more = new ArrayList<>(rows);
        more.add(new Row<>(type, refusal));
        return new AdminEndpoint<>(api, operations, router, component, maxBody, openDocument, more, writer);
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
        String requestId = AdminRouter.requestId(exchange);
        Optional<AdminRequest> admitted = Optional.empty();
        try {
            List<String> segments =
                    AdminRouter.segments(exchange.getRequestURI().getRawPath());
            String method = exchange.getRequestMethod();
            if (router.route(method, segments).filter(AdminRoute::isOpen).isPresent()) {
                send(exchange, 200, openDocument.orElseThrow(() -> unrouted(exchange, segments)));
                return;
            }
            AdminRouter.Admitted call =
                    switch (router.admit(exchange, requestId, segments)) {
                        case AdminRouter.Admitted a -> a;
                        case AdminRouter.Refused r -> throw new AdminJson.Refusal(r.status(), r.message());
                        case AdminRouter.Unrouted u -> throw unrouted(exchange, segments);
                    };
            TenantScope granted = router.tenantsOf(call);
            TenantScope tenants =
                    call.route().scope().apply(segments).equals(Scope.ANY_TENANT) ? granted : TenantScope.ALL;
            AdminOperation<Handler<A>> operation = operations.operation(call.route());
            AdminRequest request = new AdminRequest(
                    exchange, call, segments, tenants, granted.all(), requestId, maxBody, operation.status());
            admitted = Optional.of(request);
            JsonNode body = operation.handler().handle(api, request);
            if (!request.streamed()) {
                send(exchange, request.status(), writer.writeValueAsBytes(body));
            }
        } catch (Exception e) {
            AdminJson.Refusal refusal = refusal(e, requestId);
            if (admitted.filter(AdminRequest::streamed).isPresent()) {
                // the status left with the first bytes: the stream ends short, and the log says why
                LOG.warn("admin request {} failed while streaming: {}", requestId, e.toString());
                return;
            }
            send(exchange, refusal.status(), writer.writeValueAsBytes(refusal.body()));
        } finally {
            exchange.close();
        }
    }

    /**
     * The refusal answered for {@code e}: a refusal as it is; the API's rows; then the table's rows for the JDK's
     * exceptions (an invalid argument is {@link ErrorKind#INVALID}, a missing element {@link ErrorKind#NOT_FOUND});
     * anything else is {@link ErrorKind#INTERNAL}, logged with the request id.
     */
    AdminJson.Refusal refusal(Exception e, String requestId) {
        if (e instanceof AdminJson.Refusal r) {
            return logged(r, e, requestId);
        }
        for (Row<?> row : rows) {
            Optional<AdminJson.Refusal> r = row.match(e);
            if (r.isPresent()) {
                return logged(r.get(), e, requestId);
            }
        }
        return switch (e) {
            case IllegalArgumentException x -> new AdminJson.Refusal(ErrorKind.INVALID, x.getMessage());
            case NoSuchElementException x -> new AdminJson.Refusal(ErrorKind.NOT_FOUND, x.getMessage());
            default -> {
                LOG.error("admin request {} failed", requestId, e);
                yield new AdminJson.Refusal(
                        ErrorKind.INTERNAL, "internal error, see the " + component + " log for request " + requestId);
            }
        };
    }

    private static AdminJson.Refusal logged(AdminJson.Refusal r, Exception e, String requestId) {
        if (r.status() >= 500) {
            LOG.warn("admin request {} refused {}: {}", requestId, r.status(), e.getMessage());
        }
        return r;
    }

    /** 405 with {@code Allow} when the path has routes for other methods; 404 otherwise. */
    private AdminJson.Refusal unrouted(HttpExchange exchange, List<String> segments) {
        String what = "no operation " + exchange.getRequestMethod() + " "
                + exchange.getRequestURI().getPath();
        Set<String> methods = router.methodsOn(segments);
        if (methods.isEmpty()) {
            return new AdminJson.Refusal(ErrorKind.NOT_FOUND, what);
        }
        exchange.getResponseHeaders().set("Allow", String.join(", ", methods));
        return new AdminJson.Refusal(ErrorKind.METHOD_NOT_ALLOWED, what);
    }

    private static void send(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
