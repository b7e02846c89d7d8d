package io.meshguard.envoygateway.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.mockwebserver.dsl.HttpMethod;
import io.fabric8.mockwebserver.http.Buffer;
import io.fabric8.mockwebserver.http.Headers;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * fabric8's CRUD-mode dispatcher, with server-side apply ({@code application/apply-patch+yaml}) as the Kubernetes API
 * server does it for a manager that applies the whole object, which the stock dispatcher does not do: it answers 404
 * to an apply of an object that does not exist (the API server creates it) and 415 to an apply of one that does.
 * Here an apply creates a missing object, and on an existing one sets every applied top-level field (the applier's
 * intent replaces its previous one, lists included) and merges the applied labels and annotations. Field ownership,
 * conflicts and another manager's fields inside ours are not modelled (docs/envoy-gateway.md lists what a kind cluster
 * must confirm instead). {@code metadata.managedFields} is kept as the API server keeps it at the level the zone reads
 * it: an apply or update adds its field manager's entry with the first-level {@code spec} fields it sent, and an
 * update that sends no {@code managedFields} keeps the object's. Every apply's query string and every apply's and
 * update's object path are recorded, so tests see the field manager, {@code force} and the order of writes.
 */
final class ApplyingCrudDispatcher extends KubernetesCrudDispatcher {
    static final String APPLY_PATCH = "application/apply-patch+yaml";
    private static final ObjectMapper JSON = new ObjectMapper();

    final List<String> applies = new CopyOnWriteArrayList<>();
    /** {@code METHOD path} of every apply, update and delete, in arrival order. */
    final List<String> writes = new CopyOnWriteArrayList<>();

    @Override
    public MockResponse handleDelete(String path) {
        int query = path.indexOf('?');
        writes.add("DELETE " + (query < 0 ? path : path.substring(0, query)));
        return super.handleDelete(path);
    }

    @Override
    public MockResponse handleUpdate(RecordedRequest request) {
        String path = request.getPath();
        int query = path.indexOf('?');
        String objectPath = query < 0 ? path : path.substring(0, query);
        writes.add("PUT " + objectPath);
        ObjectNode body = read(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
        Map.Entry<?, String> current = findResource(getKey(objectPath));
        if (current != null && !body.path("metadata").has("managedFields")) {
            ((ObjectNode) body.get("metadata"))
                    .set("managedFields", updated(read(current.getValue()), body, parameter(path, "fieldManager")));
        }
        return super.handleUpdate(new RecordedRequest(
                request.getHttpVersion(),
                HttpMethod.PUT,
                path,
                request.getHeaders(),
                new Buffer(body.toString().getBytes(StandardCharsets.UTF_8))));
    }

    /**
     * The managed fields after {@code manager} wrote {@code now} over {@code was}: it takes the first-level spec fields
     * it changed from whoever held them and owns what it sent; no manager, no change of ownership.
     */
    private static ArrayNode updated(ObjectNode was, ObjectNode now, String manager) {
        ArrayNode kept = was.path("metadata").path("managedFields").isArray()
                ? (ArrayNode) was.path("metadata").path("managedFields").deepCopy()
                : JSON.createArrayNode();
        if (manager.isEmpty()) {
            return kept;
        }
        java.util.Set<String> changed = new java.util.TreeSet<>();
        was.path("spec").fieldNames().forEachRemaining(changed::add);
        now.path("spec").fieldNames().forEachRemaining(changed::add);
        changed.removeIf(f -> was.path("spec").path(f).equals(now.path("spec").path(f)));
        java.util.Set<String> mine = new java.util.TreeSet<>(changed);
        for (JsonNode entry : kept) {
            if (entry.path("fieldsV1").path("f:spec") instanceof ObjectNode spec) {
                if (manager.equals(entry.path("manager").asText())) {
                    spec.fieldNames().forEachRemaining(f -> mine.add(f.substring(2)));
                }
                changed.forEach(f -> spec.remove("f:" + f));
            }
        }
        owned(kept, manager, "Update", mine);
        return kept;
    }

    /** Replaces {@code manager}'s entry in {@code entries} with one owning the first-level spec fields of {@code sent}. */
    private static void owned(ArrayNode entries, String manager, String operation, JsonNode sent) {
        java.util.Set<String> fields = new java.util.TreeSet<>();
        sent.path("spec").fieldNames().forEachRemaining(fields::add);
        owned(entries, manager, operation, fields);
    }

    private static void owned(ArrayNode entries, String manager, String operation, java.util.Set<String> fields) {
        for (int i = entries.size() - 1; i >= 0; i--) {
            if (manager.equals(entries.get(i).path("manager").asText())) {
                entries.remove(i);
            }
        }
        ObjectNode entry = entries.addObject().put("manager", manager).put("operation", operation);
        ObjectNode spec = entry.putObject("fieldsV1").putObject("f:spec");
        fields.forEach(f -> spec.putObject("f:" + f));
    }

    private static String parameter(String path, String name) {
        int query = path.indexOf('?');
        if (query < 0) {
            return "";
        }
        for (String pair : path.substring(query + 1).split("&")) {
            if (pair.startsWith(name + "=")) {
                return pair.substring(name.length() + 1);
            }
        }
        return "";
    }

    @Override
    public MockResponse handlePatch(RecordedRequest request) {
        String contentType = String.valueOf(request.getHeader("Content-Type"));
        if (!contentType.startsWith(APPLY_PATCH)) {
            return patched(request);
        }
        String path = request.getPath();
        int query = path.indexOf('?');
        applies.add(query < 0 ? "" : path.substring(query + 1));
        String objectPath = query < 0 ? path : path.substring(0, query);
        writes.add("APPLY " + objectPath);
        ObjectNode sent = read(new String(request.getBody().getBytes(), StandardCharsets.UTF_8));
        String manager = parameter(path, "fieldManager");
        byte[] body;
        Headers json = request.getHeaders()
                .newBuilder()
                .removeAll("Content-Type")
                .set("Content-Type", "application/json")
                .build();
        Map.Entry<?, String> current = findResource(getKey(objectPath));
        if (current == null) {
            ArrayNode entries = JSON.createArrayNode();
            owned(entries, manager, "Apply", sent);
            ((ObjectNode) sent.get("metadata")).set("managedFields", entries);
            body = sent.toString().getBytes(StandardCharsets.UTF_8);
            String collection = objectPath.substring(0, objectPath.lastIndexOf('/'));
            return handleCreate(
                    new RecordedRequest(request.getHttpVersion(), HttpMethod.POST, collection, json, new Buffer(body)));
        }
        ObjectNode merged = applied(read(current.getValue()), sent);
        ArrayNode entries = merged.path("metadata").path("managedFields").isArray()
                ? (ArrayNode) merged.path("metadata").path("managedFields")
                : ((ObjectNode) merged.get("metadata")).putArray("managedFields");
        owned(entries, manager, "Apply", sent);
        return super.handleUpdate(new RecordedRequest(
                request.getHttpVersion(),
                HttpMethod.PUT,
                objectPath,
                json,
                new Buffer(merged.toString().getBytes(StandardCharsets.UTF_8))));
    }

    /** A JSON or merge patch as the stock dispatcher does it, with the writer's managed fields kept as above. */
    private MockResponse patched(RecordedRequest request) {
        String path = request.getPath();
        int query = path.indexOf('?');
        String objectPath = query < 0 ? path : path.substring(0, query);
        writes.add("PATCH " + objectPath);
        Map.Entry<?, String> before = findResource(getKey(objectPath));
        MockResponse response = super.handlePatch(request);
        Map.Entry<?, String> after = findResource(getKey(objectPath));
        String manager = parameter(path, "fieldManager");
        if (before == null || after == null || manager.isEmpty()) {
            return response;
        }
        ObjectNode now = read(after.getValue());
        ((ObjectNode) now.get("metadata")).set("managedFields", updated(read(before.getValue()), now, manager));
        Headers json = request.getHeaders()
                .newBuilder()
                .removeAll("Content-Type")
                .set("Content-Type", "application/json")
                .build();
        return super.handleUpdate(new RecordedRequest(
                request.getHttpVersion(),
                HttpMethod.PUT,
                objectPath,
                json,
                new Buffer(now.toString().getBytes(StandardCharsets.UTF_8))));
    }

    private static ObjectNode applied(ObjectNode live, ObjectNode apply) {
        ObjectNode out = live.deepCopy();
        apply.fields().forEachRemaining(e -> {
            if (!e.getKey().equals("metadata")) {
                out.set(e.getKey(), e.getValue());
            }
        });
        ObjectNode meta = (ObjectNode) out.get("metadata");
        for (String field : List.of("labels", "annotations")) {
            JsonNode wanted = apply.path("metadata").path(field);
            if (wanted.isObject()) {
                meta.withObject(field).setAll((ObjectNode) wanted);
            }
        }
        return out;
    }

    private static ObjectNode read(String json) {
        try {
            return (ObjectNode) JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
