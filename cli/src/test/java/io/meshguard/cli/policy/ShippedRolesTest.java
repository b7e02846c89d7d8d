package io.meshguard.cli.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminRoute;
import io.meshguard.access.RoleBindings;
import io.meshguard.catalog.api.CatalogApi;
import io.meshguard.catalog.apikey.ApiKeyAdminApi;
import io.meshguard.console.ConsoleRoutes;
import io.meshguard.extauthz.quota.QuotaAdminApi;
import io.meshguard.xds.admin.AdminApi;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every permission of every role in the shipped {@code policies/access.yaml} can be used at the scope the role is
 * meant for: some admin route of the product (controller, catalogue, keys, quotas, console) declares it and a grant
 * of that scope kind admits the call. A gateway owner bound to its own gateway once held seven permissions only a
 * system grant could use (routes are tenants' objects; publish, rollback, fleet and clusters were system-wide).
 */
class ShippedRolesTest {
    /** Where each shipped role is meant to be bound: reviewable data, as the roles themselves. */
    private static final Map<String, String> INTENDED_SCOPE = Map.of(
            "system-admin",
            "system",
            "auditor",
            "system",
            "security-approver",
            "system",
            "gateway-owner",
            "gateway",
            "org-admin",
            "tenant",
            "api-developer",
            "tenant",
            "business-manager",
            "tenant",
            "customer-admin",
            "tenant",
            "api-consumer",
            "tenant");

    private static final List<AdminRoute> EVERY_ROUTE = Stream.of(
                    AdminApi.PORT_ROUTES,
                    CatalogApi.ROUTES,
                    ApiKeyAdminApi.ROUTES,
                    QuotaAdminApi.ROUTES,
                    ConsoleRoutes.ROUTES)
            .flatMap(List::stream)
            .filter(r -> !r.isOpen())
            .toList();

    private final RoleBindings shipped = RoleBindings.load(Path.of("..", "policies", "access.yaml"));

    @Test
    void everyShippedRole_saysWhereItIsMeantToBeBound_andItsBindingsAgree() {
        assertThat(new TreeSet<>(shipped.roles())).isEqualTo(new TreeSet<>(INTENDED_SCOPE.keySet()));
        for (RoleBindings.Binding b : shipped.bindings()) {
            assertThat(b.scope().kind())
                    .as("binding of %s to %s", b.match(), b.role())
                    .isEqualTo(INTENDED_SCOPE.get(b.role()));
        }
    }

    @Test
    void everyPermissionOfEveryRole_isUsableAtTheRolesScope() {
        Map<String, List<String>> unusable = new TreeMap<>();
        for (String role : shipped.roles()) {
            String kind = INTENDED_SCOPE.get(role);
            for (String permission : new TreeSet<>(shipped.permissionsOf(role))) {
                boolean usable = EVERY_ROUTE.stream()
                        .anyMatch(r -> r.permission().equals(permission) && admits(kind, targetKind(r)));
                if (!usable) {
                    unusable.computeIfAbsent(role, x -> new ArrayList<>()).add(permission);
                }
            }
        }
        assertThat(unusable)
                .as("permissions no route admits at the role's scope")
                .isEmpty();
    }

    /** The scope kind a route's target has: its path parameters filled with a name, as a call would. */
    private static String targetKind(AdminRoute r) {
        List<String> segments = Arrays.stream(r.path().substring(1).split("/"))
                .map(s -> s.startsWith("{") ? "some-name" : s)
                .toList();
        return r.scope().apply(segments).kind();
    }

    /** A grant of kind {@code grant} admits a route of target kind {@code target} (AdminGate, Scope.covers). */
    private static boolean admits(String grant, String target) {
        return grant.equals("system") || grant.equals(target);
    }
}
