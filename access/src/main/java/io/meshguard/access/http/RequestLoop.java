package io.meshguard.access.http;

import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import io.meshguard.access.AdminRoute;
import io.meshguard.db.DatabaseOutage;
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
 * The one request loop under every surface of an admin port: the JSON admin APIs ({@link AdminEndpoint}) and the
 * console's pages. Each request gets its id ({@link AdminRouter#requestId}), its decoded path and the route of the
 * surface's table; the surface's step serves it; and every failure is answered by one table: the {@link ErrorKind}
 * rows, the surface's rows for its own exception types ({@link #refusing}), anything else 500 and logged with the
 * request id. The surfaces differ only in how a refusal looks ({@link Answer}): a JSON problem or an HTML page.
 */
public final class RequestLoop {
    private static final Logger LOG = LoggerFactory.getLogger(RequestLoop.class);

    /**
     * What a 503 tells a client to wait before the retry: long enough for a database failover or a restarted pod's
     * pool to connect, short enough that an operator's script does not look hung.
     */
    static final int RETRY_AFTER_SECONDS = 5;

    /** How a surface shows a refusal: the APIs' {@code {"error": …}}, the console's message page. */
    @FunctionalInterface
    public interface Answer {
        void refuse(HttpExchange exchange, AdminJson.Refusal refusal, String requestId) throws IOException;
    }

    /** A request as the loop found it: its id, its decoded path and the table's route for it, if any. */
    public record Call(HttpExchange exchange, String requestId, List<String> segments, Optional<AdminRoute> route) {}

    /** What a surface does with a request; whatever it throws is answered by the table. */
    @FunctionalInterface
    public interface Step {
        void serve(Call call) throws Exception;
    }

    /** A row of the table for a surface's own exception type. */
    private record Row<E extends Exception>(Class<E> type, Function<E, AdminJson.Refusal> refusal) {
        Optional<AdminJson.Refusal> match(Exception e) {
            return type.isInstance(e) ? Optional.of(refusal.apply(type.cast(e))) : Optional.empty();
        }
    }

    private final AdminRouter router;
    private final String component;
    private final List<Row<?>> rows;
    private final Answer answer;

    private RequestLoop(AdminRouter router, String component, List<Row<?>> rows, Answer answer) {
        this.router = router;
        this.component = component;
        this.rows = List.copyOf(rows);
        this.answer = answer;
    }

    /**
     * @param router the surface's routes and the gate that admits to them
     * @param component names the log a 500 points to ({@code controller}, {@code extauthz})
     * @param answer how the surface shows a refusal
     */
    public static RequestLoop of(AdminRouter router, String component, Answer answer) {
        return new RequestLoop(router, component, List.of(), answer);
    }

    /** The same loop answering {@code type} as {@code refusal} says (a row of the table for the surface's type). */
    public <E extends Exception> RequestLoop refusing(Class<E> type, Function<E, AdminJson.Refusal> refusal) {
        List<Row<?>> more = new ArrayList<>(rows);
        more.add(new Row<>(type, refusal));
        return new RequestLoop(router, component, more, answer);
    }

    /** The same loop showing refusals as {@code other} does. */
    public RequestLoop answering(Answer other) {
        return new RequestLoop(router, component, rows, other);
    }

    public AdminRouter router() {
        return router;
    }

    public void handle(HttpExchange exchange, Step step) throws IOException {
        String requestId = AdminRouter.requestId(exchange);
        try {
            List<String> segments =
                    AdminRouter.segments(exchange.getRequestURI().getRawPath());
            step.serve(new Call(exchange, requestId, segments, router.route(exchange.getRequestMethod(), segments)));
        } catch (Exception e) {
            AdminJson.Refusal refusal = refusal(e, requestId);
            if (exchange.getResponseCode() != -1) {
                // the status left with the first bytes (a stream): the answer ends short, and the log says why
                LOG.warn("admin request {} failed after its answer began: {}", requestId, e.toString());
                return;
            }
            retryAfter(exchange, refusal);
            answer.refuse(exchange, refusal, requestId);
        } finally {
            exchange.close();
        }
    }

    /**
     * The refusal answered for {@code e}: a refusal as it is; the surface's rows; then the table's rows for the JDK's
     * exceptions (an invalid argument is {@link ErrorKind#INVALID}, a missing element {@link ErrorKind#NOT_FOUND});
     * anything else is {@link ErrorKind#INTERNAL}, logged with the request id.
     */
    AdminJson.Refusal refusal(Exception e, String requestId) {
        if (e instanceof AdminJson.Refusal r) {
            return logged(r, e, requestId);
        }
        // before the surface's rows: a store's exception that a surface answers as a conflict or a bad request may
        // be the database being away, which the caller must be able to tell from a refusal of its change
        Optional<DatabaseOutage> outage = DatabaseOutage.in(e);
        if (outage.isPresent()) {
            LOG.warn(
                    "admin request {} refused 503: the database is unavailable ({})",
                    requestId,
                    outage.get().describe());
            return new DatabaseUnavailable();
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

    /**
     * Sets {@code Retry-After} on a 503: every unavailable answer of the admin plane (a database, a store, the identity
     * provider) is one a client should retry, and says when.
     */
    public static void retryAfter(HttpExchange exchange, AdminJson.Refusal refusal) {
        if (refusal.status() == ErrorKind.UNAVAILABLE.status()) {
            exchange.getResponseHeaders().set("Retry-After", Integer.toString(RETRY_AFTER_SECONDS));
        }
    }

    /** The database cannot be reached: 503 with the problem code tooling retries on, and no SQL in the message. */
    static final class DatabaseUnavailable extends AdminJson.Refusal {
        private static final long serialVersionUID = 1L;

        DatabaseUnavailable() {
            super(ErrorKind.UNAVAILABLE, "the database is unavailable; retry in " + RETRY_AFTER_SECONDS + " s");
        }

        @Override
        public ObjectNode body() {
            return super.body().put("code", DatabaseOutage.PROBLEM_CODE);
        }
    }

    /** 405 with {@code Allow} when the path has routes for other methods; 404 otherwise. */
    public AdminJson.Refusal unrouted(Call call) {
        HttpExchange exchange = call.exchange();
        String what = "no operation " + exchange.getRequestMethod() + " "
                + exchange.getRequestURI().getPath();
        Set<String> methods = router.methodsOn(call.segments());
        if (methods.isEmpty()) {
            return new AdminJson.Refusal(ErrorKind.NOT_FOUND, what);
        }
        exchange.getResponseHeaders().set("Allow", String.join(", ", methods));
        return new AdminJson.Refusal(ErrorKind.METHOD_NOT_ALLOWED, what);
    }

    /** The JSON APIs' answer to a refusal: its body ({@code {"error": …}}) as {@code writer} writes it. */
    public static Answer json(ObjectWriter writer) {
        return (exchange, refusal, requestId) ->
                sendJson(exchange, refusal.status(), writer.writeValueAsBytes(refusal.body()));
    }

    /** A JSON answer, never cached. */
    public static void sendJson(HttpExchange exchange, int status, byte[] body) throws IOException {
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Cache-Control", "no-store");
        exchange.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }
}
