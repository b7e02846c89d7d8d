package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.types.SimpleType;
import dev.cel.common.values.NullValue;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ValidatingAdmissionPolicies of manifests/istio/admission, evaluated as the API server evaluates them: a policy
 * applies when a rule of its {@code matchConstraints} names the request's group, resource (with its subresource, as
 * {@code pods/exec}) and operation, and every {@code matchCondition} is true; its {@code variables} are then computed in
 * order and the request is refused by the first validation that is false. CEL sees {@code object}, {@code oldObject},
 * {@code request} (an AdmissionRequest as JSON: fields that are empty are absent), {@code namespaceObject} and
 * {@code variables}. Kubernetes adds its own CEL libraries; the shipped expressions use standard CEL only, so this
 * runtime and the API server read them alike.
 */
public final class AdmissionPolicies {
    private static final CelCompiler COMPILER = CelCompilerFactory.standardCelCompilerBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("object", SimpleType.DYN)
            .addVar("oldObject", SimpleType.DYN)
            .addVar("request", SimpleType.DYN)
            .addVar("namespaceObject", SimpleType.DYN)
            .addVar("variables", SimpleType.DYN)
            .build();
    private static final CelRuntime RUNTIME =
            CelRuntimeFactory.standardCelRuntimeBuilder().build();

    private final List<AdmissionPolicy.Policy> policies;

    private AdmissionPolicies(List<AdmissionPolicy.Policy> policies) {
        this.policies = policies;
    }

    /** Every policy in manifests/istio/admission that a binding puts into force with {@code Deny}. */
    static AdmissionPolicies shipped() {
        return inForce(YamlDocuments.filesUnder(RepoPaths.manifests().resolve("admission")));
    }

    /** The policies of one file ({@code kubectl apply -f FILE}) that a binding in it puts into force with Deny. */
    public static AdmissionPolicies inFile(Path file) {
        return inForce(List.of(file));
    }

    private static AdmissionPolicies inForce(List<Path> files) {
        List<SourcedDocument> docs =
                files.stream().flatMap(f -> YamlDocuments.read(f).stream()).toList();
        assertThat(ManifestChecks.problems(docs)).isEmpty();
        List<AdmissionPolicy.Policy> all = docs.stream()
                .filter(d -> d.kind().equals("ValidatingAdmissionPolicy"))
                .map(d -> StrictKubernetesModels.parse(d, AdmissionPolicy.Policy.class))
                .toList();
        List<String> denying = docs.stream()
                .filter(d -> d.kind().equals("ValidatingAdmissionPolicyBinding"))
                .map(d -> StrictKubernetesModels.parse(d, AdmissionPolicy.Binding.class))
                .filter(b -> b.spec().validationActions().contains("Deny"))
                .map(b -> b.spec().policyName())
                .toList();
        return new AdmissionPolicies(all.stream()
                .filter(p -> denying.contains(p.metadata().getName()))
                .toList());
    }

    /** One API request as admission sees it. {@code oldObject} is null on CREATE and CONNECT. */
    public record Request(
            String operation,
            String group,
            String resource,
            String subResource,
            String name,
            String username,
            List<String> groups,
            Object object,
            Object oldObject) {

        Request withOld(Object old) {
            return new Request(operation, group, resource, subResource, name, username, groups, object, old);
        }

        /** The AdmissionRequest as the API server hands it to CEL: JSON of the Go struct, empty fields omitted. */
        Map<String, Object> asCel() {
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("operation", operation);
            request.put("resource", Map.of("group", group, "version", "v1", "resource", resource));
            if (!subResource.isEmpty()) {
                request.put("subResource", subResource);
            }
            if (!name.isEmpty()) {
                request.put("name", name);
            }
            Map<String, Object> userInfo = new LinkedHashMap<>();
            userInfo.put("username", username);
            if (!groups.isEmpty()) {
                userInfo.put("groups", groups);
            }
            request.put("userInfo", userInfo);
            return request;
        }
    }

    /** The messages of the validations that refuse the request, from every policy that applies; empty: admitted. */
    public List<String> refusals(Request request) {
        List<String> refusals = new ArrayList<>();
        for (AdmissionPolicy.Policy policy : policies) {
            if (!matches(policy, request)) {
                continue;
            }
            Map<String, Object> vars = new LinkedHashMap<>();
            vars.put("object", asCelValue(request.object()));
            vars.put("oldObject", request.oldObject() == null ? NullValue.NULL_VALUE : asCelValue(request.oldObject()));
            vars.put("request", asCelValue(request.asCel()));
            vars.put("namespaceObject", asCelValue(Map.of("metadata", Map.of("name", "payments"))));
            if (!conditionsHold(policy, vars)) {
                continue;
            }
            Map<String, Object> variables = new LinkedHashMap<>();
            vars.put("variables", variables);
            for (AdmissionPolicy.NamedExpression v : nullToEmpty(policy.spec().variables())) {
                variables.put(v.name(), eval(v.expression(), vars));
            }
            for (AdmissionPolicy.Validation v : policy.spec().validations()) {
                if (!Boolean.TRUE.equals(eval(v.expression(), vars))) {
                    refusals.add(v.message());
                    break;
                }
            }
        }
        return refusals;
    }

    private static boolean matches(AdmissionPolicy.Policy policy, Request request) {
        String resource = request.resource() + (request.subResource().isEmpty() ? "" : "/" + request.subResource());
        return policy.spec().matchConstraints().resourceRules().stream()
                .anyMatch(r -> r.apiGroups().contains(request.group())
                        && r.resources().contains(resource)
                        && r.operations().contains(request.operation()));
    }

    private static boolean conditionsHold(AdmissionPolicy.Policy policy, Map<String, Object> vars) {
        for (AdmissionPolicy.NamedExpression c : nullToEmpty(policy.spec().matchConditions())) {
            if (!Boolean.TRUE.equals(eval(c.expression(), vars))) {
                return false;
            }
        }
        return true;
    }

    private static <T> List<T> nullToEmpty(List<T> list) {
        return list == null ? List.of() : list;
    }

    /** One expression with these CEL variables; an expression that does not evaluate fails the test. */
    static Object eval(String expression, Map<String, Object> vars) {
        try {
            CelAbstractSyntaxTree ast = COMPILER.compile(expression).getAst();
            return RUNTIME.createProgram(ast).eval(vars);
        } catch (Exception e) {
            // failurePolicy Fail: an expression that does not evaluate refuses the request
            throw new IllegalStateException("CEL expression failed: " + expression, e);
        }
    }

    /** A YAML document as the API server hands it to CEL: integers as int64. */
    static Object fromYaml(String yaml) {
        return YamlDocuments.JSON.convertValue(
                YamlDocuments.parse("object", yaml).getFirst().node(), Map.class);
    }

    /** A Kubernetes object (a fabric8 model) as the API server hands it to CEL: JSON, empty fields absent. */
    public static Object fromModel(Object model) {
        return YamlDocuments.JSON.convertValue(model, Map.class);
    }

    /** The API server hands integer fields (containerPort) to CEL as int64; Jackson reads them as Integer. */
    static Object asCelValue(Object value) {
        if (value instanceof Integer i) {
            return i.longValue();
        }
        if (value instanceof Map<?, ?> map) {
            Map<Object, Object> copy = new LinkedHashMap<>();
            map.forEach((k, v) -> copy.put(k, asCelValue(v)));
            return copy;
        }
        if (value instanceof List<?> list) {
            return list.stream().map(AdmissionPolicies::asCelValue).toList();
        }
        return value;
    }
}
