package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.testing.IntegrationTest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The install-time checks in manifests/istio/scripts, run for real with the output of the commands their usage
 * names (istioctl version, image references, namespace labels) on stdin. Review items A3 (Istio floor) and B1
 * (no sidecar, or ambient: labels that protect nothing), and the ambient path of manifests/istio/ambient with each
 * bypass it must name: no waypoint, a waypoint that takes Service traffic only, a CUSTOM policy bound by selector
 * (which ztunnel drops), no L4 policy limiting the pods to the waypoint.
 */
@IntegrationTest
class InstallChecksTest {
    record Result(int exit, String out) {}

    private static Result run(String script, String stdin) throws IOException, InterruptedException {
        return run(script, stdin, List.of());
    }

    private static Result run(String script, String stdin, List<String> options)
            throws IOException, InterruptedException {
        Path file = RepoPaths.manifests().resolve("scripts").resolve(script);
        Path out = Files.createTempFile("check", ".out");
        List<String> command = new java.util.ArrayList<>(List.of("sh", file.toString()));
        command.addAll(options);
        command.add("-");
        try {
            Process p = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            try (var in = p.getOutputStream()) {
                in.write(stdin.getBytes(StandardCharsets.UTF_8));
            }
            assertThat(p.waitFor(30, TimeUnit.SECONDS))
                    .as("%s finished", script)
                    .isTrue();
            return new Result(p.exitValue(), Files.readString(out));
        } finally {
            Files.deleteIfExists(out);
        }
    }

    @Test
    void istioVersionCheck_refusesIstioBelow126() throws Exception {
        for (String old : new String[] {
            "docker.io/istio/pilot:1.22.3",
            "docker.io/istio/pilot:1.24.3-distroless",
            "gcr.io/istio-release/pilot:1.25.2"
        }) {
            Result r = run("check-istio-version.sh", old + "\n");
            assertThat(r.exit()).as(old).isEqualTo(1);
            assertThat(r.out()).contains("too old").contains("1.26");
        }
    }

    @Test
    void istioVersionCheck_acceptsTheFloorAndNewer() throws Exception {
        Result r = run(
                "check-istio-version.sh",
                "docker.io/istio/pilot:1.26.0 registry.internal:5000/istio/proxyv2:1.28.1-distroless\n");
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("ok: docker.io/istio/pilot:1.26.0");
    }

    @Test
    void istioVersionCheck_readsIstioctlOutput_andIgnoresTheClientVersion() throws Exception {
        String current =
                "client version: 1.22.0\ncontrol plane version: 1.27.2\ndata plane version: 1.27.2 (14 proxies)\n";
        assertThat(run("check-istio-version.sh", current).exit()).isZero();
        // A data plane still on an old proxy gets the filter it cannot load.
        String mixed =
                "client version: 1.27.2\ncontrol plane version: 1.27.2\ndata plane version: 1.24.1 (3 proxies), 1.27.2 (11 proxies)\n";
        assertThat(run("check-istio-version.sh", mixed).exit()).isEqualTo(1);
    }

    @Test
    void istioVersionCheck_forAmbient_refusesBelow127_andWarnsBelow130() throws Exception {
        // 1.26 ignores an EnvoyFilter's targetRefs: the waypoint's DLP filter would land on every proxy
        Result old = run("check-istio-version.sh", "docker.io/istio/pilot:1.26.3\n", List.of("--ambient"));
        assertThat(old.exit()).as(old.out()).isEqualTo(1);
        assertThat(old.out()).contains("too old for ambient").contains("1.27.0");
        // the sidecar install still takes 1.26
        assertThat(run("check-istio-version.sh", "docker.io/istio/pilot:1.26.3\n")
                        .exit())
                .isZero();

        Result noXfcc = run("check-istio-version.sh", "docker.io/istio/pilot:1.29.1\n", List.of("--ambient"));
        assertThat(noXfcc.exit()).as(noXfcc.out()).isZero();
        assertThat(noXfcc.out()).contains("warning").contains("x-forwarded-client-cert");

        Result current = run("check-istio-version.sh", "docker.io/istio/pilot:1.30.0\n", List.of("--ambient"));
        assertThat(current.exit()).as(current.out()).isZero();
        assertThat(current.out()).contains("ok: docker.io/istio/pilot:1.30.0").doesNotContain("warning");
    }

    @Test
    void istioVersionCheck_withNoReadableVersion_asksForAManualCheck() throws Exception {
        assertThat(run("check-istio-version.sh", "docker.io/istio/pilot@sha256:0f3a\n")
                        .exit())
                .isEqualTo(2);
        assertThat(run("check-istio-version.sh", "").exit()).isEqualTo(2);
    }

    @Test
    void namespaceCheck_acceptsInjectionByLabelOrRevision() throws Exception {
        assertThat(run("check-app-namespace.sh", "kubernetes.io/metadata.name=payments\nistio-injection=enabled\n")
                        .exit())
                .isZero();
        assertThat(run("check-app-namespace.sh", "istio.io/rev=1-27-2\n").exit())
                .isZero();
    }

    @Test
    void namespaceCheck_refusesAmbientAndNamespacesWithoutSidecars() throws Exception {
        Result ambient = run("check-app-namespace.sh", "istio.io/dataplane-mode=ambient\nistio-injection=enabled\n");
        assertThat(ambient.exit()).isEqualTo(1);
        assertThat(ambient.out()).contains("ambient");
        assertThat(run("check-app-namespace.sh", "kubernetes.io/metadata.name=payments\n")
                        .exit())
                .isEqualTo(1);
        assertThat(run("check-app-namespace.sh", "istio-injection=disabled\nistio.io/rev=1-27-2\n")
                        .exit())
                .isEqualTo(1);
    }

    /** What kubectl says about a namespace that follows manifests/istio/ambient (example-namespace, "payments"). */
    private static final String AMBIENT = """
            kubernetes.io/metadata.name=payments
            istio.io/dataplane-mode=ambient
            istio.io/use-waypoint=meshguard-waypoint
            gateway name=meshguard-waypoint class=istio-waypoint waypoint-for=all
            authorizationpolicy name=meshguard-extauthz-waypoint action=CUSTOM provider=meshguard-extauthz \
            targetRefs=Gateway/meshguard-waypoint, selector=no principals=
            authorizationpolicy name=meshguard-only-from-waypoint action=ALLOW provider= targetRefs= selector=yes \
            principals=cluster.local/ns/payments/sa/meshguard-waypoint,
            envoyfilter name=meshguard-dlp-ext-proc-waypoint targetRefs=Gateway/meshguard-waypoint, \
            referenced=meshguard/meshguard-dlp.meshguard.svc.cluster.local
            admissionpolicy name=meshguard-waypoint-identity
            admissionbinding name=meshguard-waypoint-identity policy=meshguard-waypoint-identity actions=Deny,
            access name=Group:payments-developers binding=developers can=
            """;

    @Test
    void namespaceCheck_acceptsAnAmbientNamespaceBehindMeshguardsWaypoint() throws Exception {
        Result r = run("check-app-namespace.sh", AMBIENT);
        assertThat(r.exit()).as(r.out()).isZero();
        assertThat(r.out()).contains("ok:").contains("cluster.local/ns/payments/sa/meshguard-waypoint");
        Result noDlp = run(
                "check-app-namespace.sh",
                AMBIENT.lines().filter(l -> !l.startsWith("envoyfilter")).reduce("", (a, l) -> a + l + "\n"));
        assertThat(noDlp.exit()).isZero();
        assertThat(noDlp.out()).contains("DLP off");
    }

    @Test
    void namespaceCheck_acceptsTheShippedAmbientKit_readThroughTheScriptsOwnKubectlTemplates() throws Exception {
        Assumptions.assumeTrue(Kustomize.available(), "kubectl is not on the PATH: the rendered kit is not checked");
        String rendered = Kustomize.render(RepoPaths.manifests().resolve("ambient/example-namespace"));
        String admission = Files.readString(RepoPaths.manifests().resolve("admission/waypoint-identity.yaml"));
        String facts = "kubernetes.io/metadata.name=payments\nistio.io/dataplane-mode=ambient\n"
                + "istio.io/use-waypoint=meshguard-waypoint\n" + objectLines(rendered + "\n---\n" + admission);
        assertThat(facts)
                .contains("gateway name=meshguard-waypoint")
                .contains("envoyfilter name=")
                .contains("admissionbinding name=meshguard-waypoint-identity");
        Result r = run("check-app-namespace.sh", facts);
        assertThat(r.exit()).as(facts + r.out()).isZero();
        // the kit applied without the per-namespace kustomization keeps its placeholder: its L4 policy admits nobody
        String kit = Kustomize.render(RepoPaths.manifests().resolve("ambient/kit"));
        Result placeholder = run(
                "check-app-namespace.sh",
                "kubernetes.io/metadata.name=payments\nistio.io/dataplane-mode=ambient\n"
                        + "istio.io/use-waypoint=meshguard-waypoint\n" + objectLines(kit));
        assertThat(placeholder.exit()).isEqualTo(1);
        assertThat(placeholder.out()).contains("only principal is cluster.local/ns/payments/sa/meshguard-waypoint");
    }

    @Test
    void namespaceCheck_ambientWithoutAWaypoint_namesTheLabelAndTheGateway() throws Exception {
        Result r = run(
                "check-app-namespace.sh", "kubernetes.io/metadata.name=payments\nistio.io/dataplane-mode=ambient\n");
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out())
                .contains("istio.io/use-waypoint=meshguard-waypoint")
                .contains("Gateway meshguard-waypoint")
                .contains("action CUSTOM")
                .contains("only principal is cluster.local/ns/payments/sa/meshguard-waypoint");
        // the label alone: the namespace points at a waypoint that does not exist
        Result labelOnly = run(
                "check-app-namespace.sh",
                "kubernetes.io/metadata.name=payments\nistio.io/dataplane-mode=ambient\n"
                        + "istio.io/use-waypoint=meshguard-waypoint\n");
        assertThat(labelOnly.exit()).isEqualTo(1);
        assertThat(labelOnly.out()).doesNotContain("namespace label").contains("Gateway meshguard-waypoint");
        Result none =
                run("check-app-namespace.sh", AMBIENT.replace("use-waypoint=meshguard-waypoint", "use-waypoint=none"));
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.out()).contains("namespace label istio.io/use-waypoint");
    }

    @Test
    void namespaceCheck_customPolicyBoundBySelector_isNamedAsDroppedByZtunnel() throws Exception {
        String bySelector = AMBIENT.replace(
                "targetRefs=Gateway/meshguard-waypoint, selector=no principals=",
                "targetRefs= selector=yes principals=");
        Result r = run("check-app-namespace.sh", bySelector);
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out())
                .contains("meshguard-extauthz-waypoint is bound by selector")
                .contains("ztunnel does not support the CUSTOM action");
    }

    @Test
    void namespaceCheck_waypointThatTakesServiceTrafficOnly_namesThePodIpBypass() throws Exception {
        for (String value : List.of("", "service", "workload")) {
            Result r = run("check-app-namespace.sh", AMBIENT.replace("waypoint-for=all", "waypoint-for=" + value));
            assertThat(r.exit()).as(value).isEqualTo(1);
            assertThat(r.out()).as(value).contains("istio.io/waypoint-for=all").contains("bypasses the waypoint");
        }
        Result wrongClass = run("check-app-namespace.sh", AMBIENT.replace("class=istio-waypoint", "class=istio"));
        assertThat(wrongClass.out()).contains("gatewayClassName istio-waypoint");
    }

    @Test
    void namespaceCheck_withoutTheL4PolicyToTheWaypoint_namesThePodIpPath() throws Exception {
        for (String l4 : List.of(
                // another namespace's waypoint, a suffix, a second principal, bound to the waypoint instead of the pods
                "principals=cluster.local/ns/shop/sa/meshguard-waypoint,",
                "principals=*/sa/meshguard-waypoint,",
                "principals=cluster.local/ns/payments/sa/meshguard-waypoint,cluster.local/ns/shop/sa/frontend,")) {
            Result r = run(
                    "check-app-namespace.sh",
                    AMBIENT.replace("principals=cluster.local/ns/payments/sa/meshguard-waypoint,", l4));
            assertThat(r.exit()).as(l4).isEqualTo(1);
            assertThat(r.out()).as(l4).contains("pod's IP");
        }
        Result noSelector = run(
                "check-app-namespace.sh",
                AMBIENT.replace("targetRefs= selector=yes", "targetRefs=Gateway/meshguard-waypoint, selector=no"));
        assertThat(noSelector.exit()).isEqualTo(1);
    }

    @Test
    void namespaceCheck_dlpFilterWithoutTheReferencedServicesAnnotation_isRefused() throws Exception {
        Result r = run(
                "check-app-namespace.sh",
                AMBIENT.replace("referenced=meshguard/meshguard-dlp.meshguard.svc.cluster.local", "referenced="));
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("envoyfilter.istio.io/referenced-services");
    }

    /**
     * R5-06: the L4 policy makes the waypoint's ServiceAccount the credential to every protected pod; without the
     * admission policy that keeps it to istiod's waypoint, anyone who may create pods in the namespace holds it.
     */
    @Test
    void namespaceCheck_ambientWithoutTheWaypointIdentityPolicyInForce_isRefused() throws Exception {
        String policy = "admissionpolicy name=meshguard-waypoint-identity\n";
        String binding =
                "admissionbinding name=meshguard-waypoint-identity policy=meshguard-waypoint-identity actions=Deny,\n";
        for (String broken : List.of(
                AMBIENT.replace(policy, ""),
                AMBIENT.replace(binding, ""),
                AMBIENT.replace(binding, binding.replace("actions=Deny,", "actions=Warn,Audit,")),
                AMBIENT.replace(binding, binding.replace("policy=meshguard-waypoint-identity", "policy=other")))) {
            Result r = run("check-app-namespace.sh", broken);
            assertThat(r.exit()).as(broken).isEqualTo(1);
            assertThat(r.out()).contains("meshguard-waypoint-identity").contains("with no Check, no DLP and no log");
        }
        Result both = run(
                "check-app-namespace.sh",
                AMBIENT.replace(binding, binding.replace("actions=Deny,", "actions=Warn,Deny,")));
        assertThat(both.exit()).as(both.out()).isZero();
    }

    @Test
    void namespaceCheck_subjectWhoCanReachTheWaypointPastAdmission_isRefused_unlessNamedAnAdmin() throws Exception {
        String none = "access name=Group:payments-developers binding=developers can=";
        for (String right : List.of(
                "port-forward",
                "patch-gateway",
                "update-gateway",
                "impersonate-istiod",
                "impersonate-controllers",
                "impersonate-groups",
                "unchecked:exec")) {
            Result r = run("check-app-namespace.sh", AMBIENT.replace(none, none + right + ","));
            assertThat(r.exit()).as(right).isEqualTo(1);
            assertThat(r.out()).as(right).contains("Group:payments-developers").contains("RoleBinding developers");
            Result admin = run(
                    "check-app-namespace.sh",
                    AMBIENT.replace(none, none + right + ","),
                    List.of("--waypoint-admins=User:ops,Group:payments-developers"));
            assertThat(admin.exit()).as(right + admin.out()).isZero();
        }
        // exec and tokens of the account are refused by admission: RBAC that grants them is only noted
        Result exec = run("check-app-namespace.sh", AMBIENT.replace(none, none + "exec,token,"));
        assertThat(exec.exit()).as(exec.out()).isZero();
        assertThat(exec.out())
                .contains("note: Group:payments-developers may exec into pods")
                .contains("may create tokens for meshguard-waypoint");
    }

    /**
     * The script's kubectl path for the waypoint's identity, with a kubectl that answers as a cluster would: the
     * admission objects are read, and {@code kubectl auth can-i --as} is asked for every subject of the namespace's
     * RoleBindings; a question it cannot answer is never read as "no".
     */
    @Test
    void namespaceCheck_withKubectl_asksCanIForEverySubjectBoundInTheNamespace() throws Exception {
        String objects = """
                  *"get gateways"*) echo "gateway name=meshguard-waypoint class=istio-waypoint waypoint-for=all" ;;
                  *"get authorizationpolicies"*)
                    echo "authorizationpolicy name=a action=CUSTOM provider=meshguard-extauthz targetRefs=Gateway/meshguard-waypoint, selector=no principals="
                    echo "authorizationpolicy name=b action=ALLOW provider= targetRefs= selector=yes principals=cluster.local/ns/payments/sa/meshguard-waypoint," ;;
                  *"get envoyfilters"*) ;;
                  *"get validatingadmissionpolicies"*) echo "admissionpolicy name=meshguard-waypoint-identity" ;;
                  *"get validatingadmissionpolicybindings"*) echo "admissionbinding name=b policy=meshguard-waypoint-identity actions=Deny," ;;
                  *"get rolebindings"*) printf 'Group payments-developers <no value> developers\\nServiceAccount ci <no value> ci-deployer\\n' ;;
                """;
        String portForward =
                "  \"auth can-i create pods --subresource=portforward -n payments --as=meshguard-check --as-group=payments-developers\") echo yes ;;\n";
        Result refused = runWithKubectl(objects + portForward + "  \"auth can-i\"*) echo no ;;\n", List.of());
        assertThat(refused.exit()).as(refused.out()).isEqualTo(1);
        assertThat(refused.out())
                .contains("no pods/portforward for Group:payments-developers (RoleBinding developers)")
                .doesNotContain("ServiceAccount:ci");
        assertThat(refused.out()
                        .lines()
                        .filter(l -> l.startsWith("asked: auth can-i"))
                        .toList())
                .anyMatch(l -> l.endsWith("-n payments --as=system:serviceaccount:payments:ci"))
                .anyMatch(l -> l.contains("serviceaccounts/meshguard-waypoint --subresource=token"))
                .anyMatch(l -> l.contains("impersonate serviceaccounts -n istio-system"));
        Result admin = runWithKubectl(
                objects + portForward + "  \"auth can-i\"*) echo no ;;\n",
                List.of("--waypoint-admins=Group:payments-developers"));
        assertThat(admin.exit()).as(admin.out()).isZero();
        // kubectl could not ask (no impersonate right): unchecked, refused
        Result unanswered = runWithKubectl(objects + "  \"auth can-i\"*) echo 'forbidden' >&2; exit 1 ;;\n", List.of());
        assertThat(unanswered.exit()).as(unanswered.out()).isEqualTo(1);
        assertThat(unanswered.out()).contains("an answer from kubectl auth can-i --as ServiceAccount:ci");
    }

    /** check-app-namespace.sh payments, with a kubectl on the PATH made of these case arms; it logs each can-i. */
    private static Result runWithKubectl(String caseArms, List<String> options)
            throws IOException, InterruptedException {
        Path bin = Files.createTempDirectory("kubectl");
        Path kubectl = bin.resolve("kubectl");
        Files.writeString(
                kubectl,
                "#!/bin/sh\ncase \"$*\" in auth*) echo \"asked: $*\" >>\"$KUBECTL_LOG\" ;; esac\ncase \"$*\" in\n"
                        + "  \"get namespace payments -o go-template={{range\"*)\n"
                        + "    printf 'kubernetes.io/metadata.name=payments\\nistio.io/dataplane-mode=ambient\\n"
                        + "istio.io/use-waypoint=meshguard-waypoint\\n' ;;\n"
                        + "  \"get namespace payments -o go-template={{index\"*) printf ambient ;;\n"
                        + caseArms
                        + "  *) echo \"unexpected: $*\" >&2; exit 1 ;;\nesac\n");
        kubectl.toFile().setExecutable(true);
        Path out = Files.createTempFile("check", ".out");
        Path log = bin.resolve("asked.log");
        List<String> command = new java.util.ArrayList<>(List.of(
                "sh",
                RepoPaths.manifests().resolve("scripts/check-app-namespace.sh").toString()));
        command.addAll(options);
        command.add("payments");
        try {
            ProcessBuilder builder =
                    new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile());
            builder.environment().put("PATH", bin + java.io.File.pathSeparator + System.getenv("PATH"));
            builder.environment().put("KUBECTL_LOG", log.toString());
            Process p = builder.start();
            p.getOutputStream().close();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            return new Result(p.exitValue(), Files.readString(out) + (Files.exists(log) ? Files.readString(log) : ""));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(log);
            Files.deleteIfExists(kubectl);
            Files.deleteIfExists(bin);
        }
    }

    /** The script's own go-templates (GATEWAYS, POLICIES, FILTERS) applied by kubectl, offline, to rendered objects. */
    private static String objectLines(String rendered) throws IOException, InterruptedException {
        String script = Files.readString(RepoPaths.manifests().resolve("scripts/check-app-namespace.sh"));
        StringBuilder template = new StringBuilder();
        for (String[] kind : new String[][] {
            {"GATEWAYS", "Gateway"},
            {"POLICIES", "AuthorizationPolicy"},
            {"FILTERS", "EnvoyFilter"},
            {"ADMISSION_POLICIES", "ValidatingAdmissionPolicy"},
            {"ADMISSION_BINDINGS", "ValidatingAdmissionPolicyBinding"}
        }) {
            Matcher m = Pattern.compile("^" + kind[0] + "='\\{\\{range \\.items}}(.*)\\{\\{end}}'$", Pattern.MULTILINE)
                    .matcher(script);
            assertThat(m.find()).as(kind[0]).isTrue();
            template.append("{{if eq .kind \"")
                    .append(kind[1])
                    .append("\"}}")
                    .append(m.group(1))
                    .append("{{end}}");
        }
        Path file = Files.createTempFile("ambient", ".yaml");
        Path out = Files.createTempFile("ambient", ".out");
        try {
            Files.writeString(file, rendered);
            Process p = new ProcessBuilder(
                            "kubectl",
                            "annotate",
                            "--local",
                            "-f",
                            file.toString(),
                            "meshguard.io/checked=1",
                            "-o",
                            "go-template=" + template)
                    .redirectErrorStream(true)
                    .redirectOutput(out.toFile())
                    .start();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            String lines = Files.readString(out);
            assertThat(p.exitValue()).as(lines).isZero();
            return lines.replace("<no value>", "");
        } finally {
            Files.deleteIfExists(file);
            Files.deleteIfExists(out);
        }
    }
}
