package io.meshguard.access;

import io.meshguard.runtime.yaml.InvalidYamlException;
import io.meshguard.runtime.yaml.YamlDocument;
import io.meshguard.runtime.yaml.YamlEntry;
import io.meshguard.runtime.yaml.YamlNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The reviewed access file ({@code policies/access.yaml}): which permissions each role has, and which IdP groups or
 * roles (values found at the configured claim paths of the access token) hold which role at which scope.
 * Validated at load with file:line errors: unknown keys, undefined roles, permissions no admin route declares,
 * malformed scopes and claim paths all fail. Nothing is granted that a binding does not name.
 */
public final class RoleBindings {
    /**
     * One line of the bindings: IdP value {@code match} found at any claim path holds {@code role} at {@code scope}.
     * With {@code tenantFrom} (a pattern such as {@code /tenants/{tenant}}), the scope is each tenant a claim value of
     * the same token names through that pattern: the role from one claim, the tenant from another ({@code scope} is
     * then {@code tenant:{tenant}}).
     */
    public record Binding(String match, String role, Scope scope, Optional<Pattern> tenantFrom) {
        public Binding(String match, String role, Scope scope) {
            this(match, role, scope, Optional.empty());
        }
    }

    /** Where a binding's tenant is read from: {@code {tenant}} stands for one scope name. */
    private static final String TENANT_PLACEHOLDER = "{tenant}";

    private static final Pattern CLAIM_PATH = Pattern.compile("[A-Za-z0-9_-]+(\\.[A-Za-z0-9_:-]+)*");
    private static final Pattern ROLE = Pattern.compile("[a-z][a-z0-9-]{0,62}");

    private final List<List<String>> claimPaths;
    private final Map<String, Set<String>> permissionsByRole;
    private final List<Binding> bindings;

    private RoleBindings(
            List<List<String>> claimPaths, Map<String, Set<String>> permissionsByRole, List<Binding> bindings) {
        this.claimPaths = List.copyOf(claimPaths);
        this.permissionsByRole = Map.copyOf(permissionsByRole);
        this.bindings = List.copyOf(bindings);
    }

    /** No roles, no bindings: every OIDC caller is refused (deny by default). */
    public static RoleBindings none() {
        return new RoleBindings(List.of(), Map.of(), List.of());
    }

    public static RoleBindings load(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidYamlException(file.toString(), 0, "cannot read the access file: " + e.getMessage());
        }
        return parse(file.getFileName().toString(), text);
    }

    /** Parses the access file; {@link InvalidYamlException} names the file and line of the first problem. */
    public static RoleBindings parse(String sourceName, String text) {
        YamlNode root = YamlDocument.parse(sourceName, text);
        if (root.isNull()) {
            throw new InvalidYamlException(
                    sourceName, 1, "the access file is empty: it needs claims, roles and bindings");
        }
        root.checkKeys(List.of("claims", "roles", "bindings"));
        List<List<String>> paths = new ArrayList<>();
        for (YamlNode p : root.get("claims").asList()) {
            String path = p.asString();
            if (!CLAIM_PATH.matcher(path).matches()) {
                throw p.error("invalid claim path '" + path + "' (e.g. groups, realm_access.roles, "
                        + "resource_access.CLIENT.roles)");
            }
            paths.add(List.of(path.split("\\.")));
        }
        if (paths.isEmpty()) {
            throw root.get("claims").error("at least one claim path is required (e.g. groups)");
        }
        Map<String, Set<String>> roles = new LinkedHashMap<>();
        for (YamlEntry e : root.get("roles").entries()) {
            if (!ROLE.matcher(e.name()).matches()) {
                throw e.key().error("invalid role name '" + e.name() + "' (lower case, digits and '-')");
            }
            e.value().checkKeys(List.of("description", "permissions"));
            Set<String> perms = new LinkedHashSet<>();
            for (YamlNode p : e.value().get("permissions").asList()) {
                String perm = p.asString();
                if (!Permissions.ALL.contains(perm)) {
                    throw p.error("role " + e.name() + ": no admin route declares the permission '" + perm
                            + "'; known permissions: " + String.join(", ", new java.util.TreeSet<>(Permissions.ALL)));
                }
                if (!perms.add(perm)) {
                    throw p.error("role " + e.name() + ": permission '" + perm + "' is listed twice");
                }
            }
            roles.put(e.name(), Set.copyOf(perms));
        }
        List<Binding> bindings = new ArrayList<>();
        for (YamlNode b : root.get("bindings").asList()) {
            b.checkKeys(List.of("match", "role", "scope", "tenant_from"));
            String match = b.get("match").asString();
            if (match.isBlank()) {
                throw b.get("match").error("match must name an IdP group or role");
            }
            String role = b.get("role").asString();
            if (!roles.containsKey(role)) {
                throw b.get("role")
                        .error("role '" + role + "' is not defined under roles: (defined: "
                                + String.join(", ", roles.keySet()) + ")");
            }
            Optional<Pattern> tenantFrom = Optional.empty();
            if (b.has("tenant_from")) {
                String from = b.get("tenant_from").asString();
                int at = from.indexOf(TENANT_PLACEHOLDER);
                if (at < 0 || from.indexOf(TENANT_PLACEHOLDER, at + 1) >= 0) {
                    throw b.get("tenant_from")
                            .error("tenant_from needs exactly one " + TENANT_PLACEHOLDER + " (e.g. /tenants/{tenant})");
                }
                if (!b.get("scope").asString().equals("tenant:" + TENANT_PLACEHOLDER)) {
                    throw b.get("scope").error("with tenant_from the scope is tenant:" + TENANT_PLACEHOLDER);
                }
                tenantFrom =
                        Optional.of(Pattern.compile(Pattern.quote(from.substring(0, at)) + "([a-z0-9][a-z0-9._-]{0,62})"
                                + Pattern.quote(from.substring(at + TENANT_PLACEHOLDER.length()))));
                bindings.add(new Binding(match, role, Scope.ANY_TENANT, tenantFrom));
                continue;
            }
            Scope scope;
            try {
                scope = Scope.parse(b.get("scope").asString());
            } catch (IllegalArgumentException ex) {
                throw b.get("scope").error(ex.getMessage());
            }
            bindings.add(new Binding(match, role, scope));
        }
        return new RoleBindings(paths, roles, bindings);
    }

    public Set<String> permissionsOf(String role) {
        return permissionsByRole.getOrDefault(role, Set.of());
    }

    public Set<String> roles() {
        return permissionsByRole.keySet();
    }

    public List<Binding> bindings() {
        return bindings;
    }

    /** The grants an access token's claims carry through the bindings; read per call, never stored. */
    public List<RoleGrant> grantsFrom(Map<String, Object> claims) {
        Set<String> values = new LinkedHashSet<>();
        for (List<String> path : claimPaths) {
            collect(claims, path, values);
        }
        List<RoleGrant> grants = new ArrayList<>();
        for (Binding b : bindings) {
            if (!values.contains(b.match())) {
                continue;
            }
            if (b.tenantFrom().isEmpty()) {
                grants.add(new RoleGrant(b.role(), b.scope(), b.match()));
                continue;
            }
            // a value that only looks like a tenant path (other characters, a second segment) grants nothing
            for (String v : values) {
                java.util.regex.Matcher m = b.tenantFrom().get().matcher(v);
                if (m.matches()) {
                    grants.add(new RoleGrant(b.role(), Scope.tenant(m.group(1)), b.match() + " + " + v));
                }
            }
        }
        return grants;
    }

    private static void collect(Object node, List<String> path, Set<String> out) {
        Object current = node;
        for (String step : path) {
            if (!(current instanceof Map<?, ?> map)) {
                return;
            }
            current = map.get(step);
        }
        if (current instanceof String s) {
            out.add(s);
        } else if (current instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof String s) {
                    out.add(s);
                }
            }
        }
    }
}
