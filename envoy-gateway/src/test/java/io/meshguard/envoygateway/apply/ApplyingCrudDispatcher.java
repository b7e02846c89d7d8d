package io.meshguard.envoygateway.apply;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
 * must confirm instead). Every apply's query string is recorded, so tests see the field manager and {@code force}.
 */
final class ApplyingCrudDispatcher extends KubernetesCrudDispatcher {
    static final String APPLY_PATCH = "application/apply-patch+yaml";
    private static final ObjectMapper JSON = new ObjectMapper();

    final List<String> applies = new CopyOnWriteArrayList<>();

    @Override
    public MockResponse handlePatch(RecordedRequest request) {
        String contentType = String.valueOf(request.getHeader("Content-Type"));
        if (!contentType.startsWith(APPLY_PATCH)) {
            return super.handlePatch(request);
        }
        String path = request.getPath();
        int query = path.indexOf('?');
        applies.add(query < 0 ? "" : path.substring(query + 1));
        String objectPath = query < 0 ? path : path.substring(0, query);
        byte[] body = request.getBody().getBytes();
        Headers json = request.getHeaders()
                .newBuilder()
                .removeAll("Content-Type")
                .set("Content-Type", "application/json")
                .build();
        Map.Entry<?, String> current = findResource(getKey(objectPath));
        if (current == null) {
            String collection = objectPath.substring(0, objectPath.lastIndexOf('/'));
            return handleCreate(
                    new RecordedRequest(request.getHttpVersion(), HttpMethod.POST, collection, json, new Buffer(body)));
        }
        ObjectNode merged = applied(read(current.getValue()), read(new String(body, StandardCharsets.UTF_8)));
        return handleUpdate(new RecordedRequest(
                request.getHttpVersion(),
                HttpMethod.PUT,
                objectPath,
                json,
                new Buffer(merged.toString().getBytes(StandardCharsets.UTF_8))));
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
