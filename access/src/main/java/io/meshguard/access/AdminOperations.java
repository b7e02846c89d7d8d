package io.meshguard.access;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * An admin API's table of {@link AdminOperation}s: the routes the {@code AdminRouter} admits from, the operation an
 * admitted route runs (so admission and dispatch read one table), and the OpenAPI paths written from it.
 *
 * @param <H> the API's handler type
 */
public final class AdminOperations<H> {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private final List<AdminOperation<H>> operations;

    public AdminOperations(List<AdminOperation<H>> operations) {
        this.operations = List.copyOf(operations);
        long distinct = operations.stream()
                .map(o -> o.route().method() + " " + o.route().path())
                .distinct()
                .count();
        if (distinct != operations.size()) {
            throw new IllegalArgumentException("an operation is declared twice");
        }
    }

    @SafeVarargs
    public static <H> AdminOperations<H> of(AdminOperation<H>... operations) {
        return new AdminOperations<>(List.of(operations));
    }

    public List<AdminOperation<H>> all() {
        return operations;
    }

    /** The same table with each handler turned into another (an API adapting its handlers to a request loop). */
    public <G> AdminOperations<G> map(java.util.function.Function<H, G> adapt) {
        return new AdminOperations<>(operations.stream()
                .map(o -> o.handledBy(adapt.apply(o.handler())))
                .toList());
    }

    /** Every route, in declaration order (first match wins, as in {@code AdminRouter}). */
    public List<AdminRoute> routes() {
        return operations.stream().map(AdminOperation::route).toList();
    }

    /** The operation declaring {@code route} (the route the router admitted a call to). */
    public AdminOperation<H> operation(AdminRoute route) {
        return operations.stream()
                .filter(o -> o.route().equals(route))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no operation " + route.method() + " " + route.path()));
    }

    /** The operation serving {@code method} on the decoded path {@code segments}. */
    public Optional<AdminOperation<H>> find(String method, List<String> segments) {
        return operations.stream()
                .filter(o -> o.route().matches(method, segments))
                .findFirst();
    }

    /**
     * Adds each operation to an OpenAPI {@code paths} object: its summary, {@code x-meshguard-permission}, path
     * parameters, request body and success status. An item already there (written by hand, with schemas) keeps what
     * it says and gains what the table declares.
     */
    public static void addPaths(ObjectNode paths, List<? extends AdminOperation<?>> operations) {
        for (AdminOperation<?> o : operations) {
            AdminRoute r = o.route();
            ObjectNode item = paths.has(r.path()) ? (ObjectNode) paths.get(r.path()) : paths.putObject(r.path());
            String method = r.method().toLowerCase(Locale.ROOT);
            ObjectNode operation = item.has(method) ? (ObjectNode) item.get(method) : item.putObject(method);
            operation.put("summary", o.summary()).put("x-meshguard-permission", r.permission());
            if (r.isOpen()) {
                operation.putArray("security");
            }
            o.requestBody().ifPresent(schema -> {
                if (!operation.has("requestBody")) {
                    operation
                            .putObject("requestBody")
                            .put("required", true)
                            .putObject("content")
                            .putObject("application/json")
                            .set("schema", schema);
                }
            });
            if (!operation.has("parameters")) {
                ArrayNode params = operation.putArray("parameters");
                for (String seg : r.path().split("/")) {
                    if (seg.startsWith("{")) {
                        params.addObject()
                                .put("name", seg.substring(1, seg.length() - 1))
                                .put("in", "path")
                                .put("required", true)
                                .putObject("schema")
                                .put("type", "string");
                    }
                }
            }
            if (!operation.has("responses")) {
                operation
                        .putObject("responses")
                        .putObject(String.valueOf(o.status()))
                        .put("description", o.status() == 201 ? "Created" : "OK");
            }
        }
    }

    /** A whole OpenAPI 3.1 document of {@code operations}, bearer-secured. */
    public static ObjectNode document(String title, String description, List<? extends AdminOperation<?>> operations) {
        ObjectNode doc = MAPPER.createObjectNode().put("openapi", "3.1.0");
        ObjectNode info = doc.putObject("info").put("title", title).put("version", "1");
        if (!description.isEmpty()) {
            info.put("description", description);
        }
        doc.putArray("security").addObject().putArray("bearer");
        doc.putObject("components")
                .putObject("securitySchemes")
                .putObject("bearer")
                .put("type", "http")
                .put("scheme", "bearer")
                .put("bearerFormat", "JWT");
        addPaths(doc.putObject("paths"), operations);
        return doc;
    }
}
