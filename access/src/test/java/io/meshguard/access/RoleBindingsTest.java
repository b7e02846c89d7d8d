package io.meshguard.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.runtime.yaml.InvalidYamlException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RoleBindingsTest {
    private static final String VALID = """
            claims: [groups, resource_access.meshguard-console.roles]
            roles:
              auditor:
                permissions: [fleet:read]
              gateway-owner:
                permissions: [route:update]
            bindings:
              - {match: auditors, role: auditor, scope: system}
              - {match: owners, role: gateway-owner, scope: "gateway:edge-prod"}
            """;

    @Test
    void shippedAccessFile_loads_andDefinesEveryPersonaRole() {
        RoleBindings shipped = RoleBindings.load(io.meshguard.testing.FixturePolicies.file("access.yaml"));
        assertThat(shipped.roles())
                .contains(
                        "system-admin",
                        "org-admin",
                        "gateway-owner",
                        "api-developer",
                        "business-manager",
                        "customer-admin",
                        "api-consumer",
                        "auditor");
        // the auditor changes nothing: reads, and exports and verifies the audit log (the brief's auditor duties)
        assertThat(shipped.permissionsOf("auditor"))
                .allSatisfy(p -> assertThat(p.endsWith(":read") || p.equals("audit:export") || p.equals("audit:verify"))
                        .as(p)
                        .isTrue());
        assertThat(shipped.permissionsOf("auditor")).contains("audit:read", "audit:export", "audit:verify");
    }

    @Test
    void grants_comeFromEveryConfiguredClaimPath_andNothingElse() {
        RoleBindings b = RoleBindings.parse("access.yaml", VALID);
        List<RoleGrant> grants = b.grantsFrom(Map.of(
                "groups",
                List.of("owners", "unrelated"),
                "resource_access",
                Map.of("meshguard-console", Map.of("roles", List.of("auditors")))));
        assertThat(grants)
                .extracting(g -> g.role() + "@" + g.scope())
                .containsExactlyInAnyOrder("auditor@system", "gateway-owner@gateway:edge-prod");
        assertThat(b.grantsFrom(Map.of("realm_access", Map.of("roles", List.of("auditors")))))
                .as("unlisted claim")
                .isEmpty();
        assertThat(b.grantsFrom(Map.of("groups", "auditors"))).hasSize(1);
    }

    @Test
    void permissionNoRouteDeclares_failsAtItsLine() {
        assertThatThrownBy(() -> RoleBindings.parse("access.yaml", VALID.replace("[fleet:read]", "[fleet:reed]")))
                .isInstanceOf(InvalidYamlException.class)
                .hasMessageContaining("access.yaml:4")
                .hasMessageContaining("fleet:reed");
    }

    @Test
    void undefinedRole_badScope_unknownKey_emptyFile_allFailWithFileAndLine() {
        assertThatThrownBy(() -> RoleBindings.parse("access.yaml", VALID.replace("role: auditor", "role: auditer")))
                .hasMessageContaining("access.yaml:8")
                .hasMessageContaining("auditer");
        assertThatThrownBy(() -> RoleBindings.parse("access.yaml", VALID.replace("gateway:edge-prod", "cluster:x")))
                .hasMessageContaining("access.yaml:9")
                .hasMessageContaining("cluster");
        assertThatThrownBy(() -> RoleBindings.parse("access.yaml", VALID.replace("bindings:", "bindngs:")))
                .hasMessageContaining("access.yaml:7")
                .hasMessageContaining("bindings");
        assertThatThrownBy(() -> RoleBindings.parse("access.yaml", "")).hasMessageContaining("empty");
    }

    /**
     * A realm set up unlike the demo's: the role from realm roles, the tenant from a group path. A binding that
     * matched one claim value with a fixed scope could not say it (the persona matrix).
     */
    @Test
    void roleFromOneClaim_tenantFromAGroupPath_grantsTheRoleInExactlyThoseTenants() {
        RoleBindings b = RoleBindings.parse("access.yaml", """
                claims: [groups, realm_access.roles]
                roles:
                  org-admin: {permissions: [route:read]}
                bindings:
                  - {match: org-admin, role: org-admin, scope: "tenant:{tenant}", tenant_from: "/tenants/{tenant}"}
                """);
        List<RoleGrant> grants = b.grantsFrom(Map.of(
                "realm_access",
                Map.of("roles", List.of("org-admin")),
                "groups",
                List.of(
                        "/tenants/acme",
                        "/tenants/globex",
                        "/tenants/globex/payments",
                        "/tenants/Bad",
                        "/teams/acme",
                        "/tenants/")));
        assertThat(grants)
                .extracting(g -> g.role() + "@" + g.scope())
                .containsExactlyInAnyOrder("org-admin@tenant:acme", "org-admin@tenant:globex");
        assertThat(b.grantsFrom(Map.of("groups", List.of("/tenants/acme"))))
                .as("without the role")
                .isEmpty();
        assertThat(b.grantsFrom(Map.of("realm_access", Map.of("roles", List.of("org-admin")))))
                .as("without a tenant")
                .isEmpty();
        assertThatThrownBy(() -> RoleBindings.parse("access.yaml", """
                claims: [groups]
                roles:
                  org-admin: {permissions: [route:read]}
                bindings:
                  - {match: org-admin, role: org-admin, scope: "tenant:{tenant}", tenant_from: "/tenants/"}
                """))
                .hasMessageContaining("access.yaml:5")
                .hasMessageContaining("exactly one {tenant}");
        assertThatThrownBy(() -> RoleBindings.parse("access.yaml", """
                claims: [groups]
                roles:
                  org-admin: {permissions: [route:read]}
                bindings:
                  - {match: org-admin, role: org-admin, scope: system, tenant_from: "/tenants/{tenant}"}
                """))
                .hasMessageContaining("access.yaml:5")
                .hasMessageContaining("tenant:{tenant}");
    }

    @Test
    void scope_systemCoversAll_othersOnlyThemselves() {
        assertThat(Scope.SYSTEM.covers(Scope.gateway("x"))).isTrue();
        assertThat(Scope.tenant("acme").covers(Scope.tenant("acme"))).isTrue();
        assertThat(Scope.tenant("acme").covers(Scope.tenant("globex"))).isFalse();
        assertThat(Scope.tenant("acme").covers(Scope.gateway("acme"))).isFalse();
        assertThat(Scope.gateway("edge-prod").covers(Scope.SYSTEM)).isFalse();
    }
}
