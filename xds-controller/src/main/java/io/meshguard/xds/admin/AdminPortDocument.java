package io.meshguard.xds.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.xds.zone.ZoneAdminApi;
import java.io.IOException;
import java.util.List;

/**
 * The one OpenAPI document of the controller's admin port, written from the route tables of what is mounted there:
 * the hand-written {@code openapi.json} gives the controller's request and response schemas, and each table adds its
 * operations (summary, success status, request body, {@code x-meshguard-permission}). The admin plane answers it at
 * {@code GET /openapi.json} and, for clients of the catalogue's former document, at {@code GET /v1/openapi.json}.
 */
public final class AdminPortDocument {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    /** What the document says of its second URL (the catalogue's document used to be served there). */
    public static final String SAME_AT_V1 = "This port has one OpenAPI document: GET /openapi.json and GET "
            + "/v1/openapi.json (where the catalogue's own document used to be) answer the same bytes, both open.";

    private AdminPortDocument() {}

    /** The controller alone: its API, the audit routes and the zone routes (where central's zone hub runs). */
    public static byte[] controller() {
        return write(tree(List.of()));
    }

    /**
     * The port as the admin plane mounts it: the controller's tables and {@code mounted}, the operations of the other
     * APIs on the same port (the catalogue, the API keys, and in {@code up} the quotas).
     */
    public static byte[] of(List<? extends AdminOperation<?>> mounted) {
        return write(tree(mounted));
    }

    static ObjectNode tree(List<? extends AdminOperation<?>> mounted) {
        ObjectNode doc;
        try {
            doc = (ObjectNode) MAPPER.readTree(AdminApi.openApiDocument());
        } catch (IOException e) {
            throw new IllegalStateException("openapi.json in the jar is not JSON", e);
        }
        ObjectNode paths = (ObjectNode) doc.get("paths");
        AdminOperations.addPaths(paths, AdminApi.operations());
        AdminOperations.addPaths(paths, AuditAdminApi.operations());
        AdminOperations.addPaths(paths, PolicyRequestApi.operations());
        AdminOperations.addPaths(paths, ZoneAdminApi.operations());
        if (!mounted.isEmpty()) {
            AdminOperations.addPaths(paths, mounted);
            // the catalogue's request bodies are JSON Schema 2020-12, which OpenAPI 3.1 takes as they are
            doc.put("openapi", "3.1.0");
            ObjectNode info = (ObjectNode) doc.get("info");
            info.put("title", "meshguard admin API");
            info.put(
                    "description",
                    info.path("description").asText() + " The same port serves the catalogue "
                            + "(/v1/…) and the API keys (/apikeys…); their operations are listed here as well, each with its "
                            + "`x-meshguard-permission`. " + SAME_AT_V1);
        }
        return doc;
    }

    private static byte[] write(ObjectNode doc) {
        try {
            return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(doc);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("the admin port's OpenAPI document cannot be written", e);
        }
    }
}
