package io.meshguard.extauthz.quota;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.access.AdminRoute;
import io.meshguard.access.Permissions;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every /quotas operation declares a permission of the access catalogue, and every quota permission has a route. */
class QuotaAdminRoutesTest {
    @Test
    void everyQuotaRoute_declaresAQuotaPermission_andNoneIsOpen() {
        assertThat(QuotaAdminApi.ROUTES).allSatisfy(r -> {
            assertThat(r.isOpen()).as("%s %s", r.method(), r.path()).isFalse();
            assertThat(Permissions.QUOTAS).contains(r.permission());
        });
        assertThat(QuotaAdminApi.ROUTES.stream()
                        .map(AdminRoute::permission)
                        .distinct()
                        .toList())
                .containsExactlyInAnyOrderElementsOf(Permissions.QUOTAS);
    }

    @Test
    void routes_matchOnlyTheirMethodAndShape() {
        AdminRoute adjust = QuotaAdminApi.ROUTES.get(2);
        assertThat(adjust.matches("POST", List.of("quotas", "daily", "adjust"))).isTrue();
        assertThat(adjust.matches("GET", List.of("quotas", "daily", "adjust"))).isFalse();
        assertThat(adjust.matches("POST", List.of("quotas", "daily", "reset"))).isFalse();
        assertThat(adjust.matches("POST", List.of("quotas", "daily", "adjust", "x")))
                .isFalse();
    }
}
