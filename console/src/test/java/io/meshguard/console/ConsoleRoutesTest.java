package io.meshguard.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminRoute;
import io.meshguard.access.Permissions;
import io.meshguard.access.RoleBindings;
import io.meshguard.xds.admin.AdminApi;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** The console's route table, checked like the admin API's: every operation names a permission, or is sign-in. */
class ConsoleRoutesTest {

    @Test
    void everyConsoleRoute_declaresAControllerOrCataloguePermission_exceptSigningInAndAssets() {
        for (AdminRoute r : ConsoleRoutes.ROUTES) {
            assertThat(r.path()).startsWith(Console.PREFIX);
            assertThat(r.isOpen()
                            || Permissions.CONTROLLER.contains(r.permission())
                            || Permissions.AUDIT.contains(r.permission())
                            || Permissions.COVERAGE.contains(r.permission())
                            || Permissions.CATALOG.contains(r.permission()))
                    .as("%s %s declares a permission of the controller", r.method(), r.path())
                    .isTrue();
        }
        assertThat(ConsoleRoutes.ROUTES.stream().filter(AdminRoute::isOpen).map(r -> r.method() + " " + r.path()))
                .containsExactlyInAnyOrder(
                        "GET /console",
                        "GET /console/signin",
                        "POST /console/signin",
                        "GET /console/callback",
                        "POST /console/signout",
                        "GET /console/assets/{file}");
    }

    @Test
    void everyConsoleChange_needsThePermissionTheApiNeedsForIt_atTheSameScope() {
        // the console's POSTs are the API's operations under /console: same permission, same scope rule
        for (AdminRoute c : ConsoleRoutes.ROUTES.stream()
                .filter(r -> r.method().equals("POST") && !r.isOpen())
                .toList()) {
            String apiPath = c.path().substring(Console.PREFIX.length());
            java.util.List<String> sample = java.util.Arrays.stream(
                            c.path().substring(1).split("/"))
                    .map(s -> s.startsWith("{") ? "x" : s)
                    .toList();
            // every operation served on the controller's admin port (the policy requests' included)
            java.util.Optional<AdminRoute> controller = AdminApi.PORT_ROUTES.stream()
                    .filter(a -> a.method().equals("POST") && a.path().equals(apiPath))
                    .findFirst();
            // Approvals and the developer portal: the catalogue's operation at the same path below /v1
            java.util.Optional<AdminRoute> catalogue = io.meshguard.catalog.api.CatalogApi.ROUTES.stream()
                    .filter(a -> a.method().equals("POST") && a.path().equals("/v1" + apiPath))
                    .findFirst();
            AdminRoute api = controller
                    .or(() -> catalogue)
                    .orElseThrow(() -> new AssertionError("no admin API operation POST " + apiPath + " (nor /v1"
                            + apiPath + ") for the console's " + c.path()));
            assertThat(c.permission()).as(c.path()).isEqualTo(api.permission());
            java.util.List<String> apiSample = controller.isPresent()
                    ? sample.subList(1, sample.size())
                    : java.util.stream.Stream.concat(
                                    java.util.stream.Stream.of("v1"), sample.subList(1, sample.size()).stream())
                            .toList();
            assertThat(c.scope().apply(sample))
                    .as(c.path())
                    .isEqualTo(api.scope().apply(apiSample));
        }
    }

    @Test
    void theShippedAccessFile_grantsEveryConsolePermission_toSomeRole() throws Exception {
        RoleBindings shipped = RoleBindings.load(io.meshguard.testing.FixturePolicies.file("access.yaml"));
        Set<String> used = ConsoleRoutes.ROUTES.stream()
                .filter(r -> !r.isOpen())
                .map(AdminRoute::permission)
                .collect(Collectors.toSet());
        for (String permission : used) {
            assertThat(Set.of("system-admin", "org-admin", "gateway-owner", "auditor", "security-approver").stream()
                            .anyMatch(role -> shipped.permissionsOf(role).contains(permission)))
                    .as("some role of policies/access.yaml holds %s", permission)
                    .isTrue();
        }
    }

    @Test
    void afterSignIn_onlyTheConsolesOwnPagesAreRedirectTargets() {
        assertThat(Console.safeNext("/console/revisions/local?from=1&to=2"))
                .isEqualTo("/console/revisions/local?from=1&to=2");
        assertThat(Console.safeNext("https://evil.example/console/")).isEqualTo("/console");
        assertThat(Console.safeNext("//evil.example/console/")).isEqualTo("/console");
        assertThat(Console.safeNext("/console/\\evil")).isEqualTo("/console");
        assertThat(Console.safeNext("/console/x\r\nSet-Cookie: a=b")).isEqualTo("/console");
        assertThat(Console.safeNext("/console")).as("the landing page").isEqualTo("/console");
        assertThat(Console.safeNext("/consolex")).isEqualTo("/console");
    }
}
