package io.meshguard.xds.admin;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.access.AdminOperation;
import io.meshguard.access.AdminOperations;
import io.meshguard.access.AdminRoute;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.extauthz.quota.QuotaAdminApi;
import io.meshguard.xds.zone.ZoneAdminApi;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The admin port's one OpenAPI document: every route of every table mounted there, none of either old document lost. */
class AdminPortDocumentTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the admin plane mounts beside the controller (AdminPlane, and `up`'s quotas). */
    private static final List<AdminOperation<?>> MOUNTED = Stream.of(
                    CatalogApi.operations(), ApiKeyAdminApi.operations(), QuotaAdminApi.operations())
            .<AdminOperation<?>>flatMap(List::stream)
            .toList();

    private static JsonNode merged() throws Exception {
        return JSON.readTree(AdminPortDocument.of(MOUNTED));
    }

    @Test
    void everyRouteOfEveryTableOnThePort_isAnOperationWithItsPermission() throws Exception {
        JsonNode doc = merged();
        List<? extends AdminOperation<?>> all = Stream.of(
                        AdminApi.operations(),
                        AuditAdminApi.operations(),
                        PolicyRequestApi.operations(),
                        ZoneAdminApi.operations(),
                        MOUNTED)
                .<AdminOperation<?>>flatMap(List::stream)
                .toList();
        assertThat(all).hasSizeGreaterThan(AdminApi.PORT_ROUTES.size() + CatalogApi.ROUTES.size());
        for (AdminOperation<?> o : all) {
            AdminRoute r = o.route();
            JsonNode operation =
                    doc.path("paths").path(r.path()).path(r.method().toLowerCase(Locale.ROOT));
            assertThat(operation.path("x-meshguard-permission").asText())
                    .as("%s %s", r.method(), r.path())
                    .isEqualTo(r.permission());
            assertThat(operation.path("responses").has(String.valueOf(o.status())) || o.status() == 200)
                    .as("%s %s answers %s", r.method(), r.path(), o.status())
                    .isTrue();
        }
        assertThat(doc.at("/paths/~1openapi.json/get/x-meshguard-permission").asText())
                .isEqualTo("none");
        assertThat(doc.at("/paths/~1v1~1openapi.json/get/x-meshguard-permission")
                        .asText())
                .isEqualTo("none");
        assertThat(doc.path("info").path("description").asText()).contains(AdminPortDocument.SAME_AT_V1);
    }

    @Test
    void everyOperationOfBothFormerDocuments_isInTheMergedOne_withItsSchemas() throws Exception {
        JsonNode doc = merged();
        JsonNode controller = JSON.readTree(AdminApi.openApiDocument());
        JsonNode catalogue = AdminOperations.document("meshguard catalogue API", "", CatalogApi.operations());
        for (JsonNode former : List.of(controller, catalogue)) {
            former.path("paths")
                    .fields()
                    .forEachRemaining(p -> p.getValue().fields().forEachRemaining(m -> {
                        JsonNode now = doc.path("paths").path(p.getKey()).path(m.getKey());
                        assertThat(now.isObject())
                                .as("%s %s", m.getKey(), p.getKey())
                                .isTrue();
                        for (String kept : List.of("requestBody", "x-meshguard-permission")) {
                            if (m.getValue().has(kept)) {
                                assertThat(now.path(kept))
                                        .as("%s %s %s", m.getKey(), p.getKey(), kept)
                                        .isEqualTo(m.getValue().path(kept));
                            }
                        }
                    }));
        }
        assertThat(doc.path("components").path("schemas"))
                .isEqualTo(controller.path("components").path("schemas"));
        JsonNode plan = doc.at(
                "/paths/~1v1~1provider~1products~1{id}~1plans/post/requestBody/content" + "/application~1json/schema");
        assertThat(plan.path("required").toString()).isEqualTo("[\"name\",\"auth_modes\"]");
    }

    @Test
    void theControllerAlone_listsExactlyItsOwnPortRoutes() throws Exception {
        JsonNode doc = JSON.readTree(AdminPortDocument.controller());
        List<String> documented = new java.util.ArrayList<>();
        doc.path("paths").fields().forEachRemaining(p -> p.getValue()
                .fieldNames()
                .forEachRemaining(m -> documented.add(m.toUpperCase(Locale.ROOT) + " " + p.getKey())));
        assertThat(documented)
                .containsExactlyInAnyOrderElementsOf(AdminApi.PORT_ROUTES.stream()
                        .map(r -> r.method() + " " + r.path())
                        .toList());
    }
}
