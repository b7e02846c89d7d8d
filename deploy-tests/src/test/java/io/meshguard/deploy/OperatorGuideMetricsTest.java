package io.meshguard.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The alerts in the operator guide (docs/operator-guide.md and its task pages, docs/operate/) query metrics by name; a renamed metric would leave an alert that never
 * fires. Every {@code meshguard_*} name in the guide must be registered (as a Micrometer meter name, in its
 * Prometheus or dotted form) in the main sources of the module that owns its prefix. A prefix whose module
 * registers no metric of that family yet (the module has not landed in this checkout) is listed and skipped;
 * its names are checked from the first metric the module registers.
 */
class OperatorGuideMetricsTest {
    private static final Pattern METRIC = Pattern.compile("\\bmeshguard_[a-z0-9_]+");
    /** Prometheus adds these to meter names; the sources register the name without them. */
    private static final List<String> SUFFIXES = List.of("_bucket", "_count", "_sum", "_max");

    /** Which modules register metrics with which prefix (comma-separated when an engine registers some of them). */
    private static final Map<String, String> OWNERS = Map.ofEntries(
            // the decision engine registers its JWKS and token-cache meters, the server the rest
            Map.entry("meshguard_authz_", "extauthz-server,authz-policy"),
            Map.entry("meshguard_dlp_", "extproc-dlp-server"),
            Map.entry("meshguard_xds_", "xds-controller"),
            Map.entry("meshguard_zone_", "xds-controller,envoy-gateway"),
            Map.entry("meshguard_audit_", "audit"),
            Map.entry("meshguard_decision_log_", "audit"),
            Map.entry("meshguard_api_", "audit"),
            Map.entry("meshguard_coverage_", "audit"),
            Map.entry("meshguard_canary_", "cli"),
            Map.entry("meshguard_admin_trail_", "audit"),
            Map.entry("meshguard_grpc_", "runtime"),
            // the policy watcher's reload meters; the approval gate both servers share (audit's ApprovedPolicies) its
            // gauges
            Map.entry("meshguard_policy_", "runtime,audit"),
            Map.entry("meshguard_http_", "runtime"),
            Map.entry("meshguard_process_", "runtime"),
            Map.entry("meshguard_tracing_", "runtime"),
            Map.entry("meshguard_build_", "runtime"),
            Map.entry("meshguard_ratelimit_", "extauthz-server"),
            Map.entry("meshguard_quota_", "extauthz-server"),
            Map.entry("meshguard_subscription_state_", "extauthz-server"));

    /** PostgreSQL roles and functions the guide names (migration V35), which look like metric names. */
    private static final Set<String> NOT_METRICS =
            Set.of("meshguard_tenant_scoped", "meshguard_scope_tenants", "meshguard_row_visible");

    private static Set<String> metricsIn(Path doc) throws IOException {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC.matcher(Files.readString(doc));
        while (m.find()) {
            names.add(m.group());
        }
        // names of the guide that are PostgreSQL objects, not metrics (the tenants section)
        names.removeAll(NOT_METRICS);
        return names;
    }

    /** The meter names that would show up in Prometheus as {@code exposed}. */
    static List<String> registeredFormsOf(String exposed) {
        String base = exposed;
        for (String suffix : SUFFIXES) {
            if (base.endsWith(suffix)) {
                base = base.substring(0, base.length() - suffix.length());
            }
        }
        List<String> forms = new ArrayList<>(List.of(base));
        if (base.endsWith("_total")) {
            forms.add(base.substring(0, base.length() - "_total".length()));
        }
        for (String form : List.copyOf(forms)) {
            forms.add(form.replace('_', '.'));
            // Dotted meter names keep underscores inside words (meshguard.grpc.calls.in_flight): try each split.
            forms.add(form.replaceFirst("^meshguard_", "meshguard."));
        }
        return forms;
    }

    private static String mainSources(Path module) {
        Path src = module.resolve("src/main/java");
        if (!Files.isDirectory(src)) {
            return "";
        }
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(src)) {
            files.filter(f -> f.toString().endsWith(".java")).forEach(f -> {
                try {
                    all.append(Files.readString(f)).append('\n');
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return all.toString();
    }

    private static boolean registered(String source, String exposed) {
        for (String form : registeredFormsOf(exposed)) {
            if (source.contains("\"" + form + "\"")) {
                return true;
            }
        }
        // Dotted names whose words contain underscores: compare with every dot/underscore mix.
        Matcher literals = Pattern.compile("\"(meshguard[._][a-z0-9_.]+)\"").matcher(source);
        while (literals.find()) {
            String normalized = literals.group(1).replace('.', '_');
            for (String form : registeredFormsOf(exposed)) {
                if (normalized.equals(form.replace('.', '_'))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** True when {@code source} registers any meter of the family {@code prefix} (either spelling). */
    private static boolean registersFamily(String source, String prefix) {
        return source.contains("\"" + prefix) || source.contains("\"" + prefix.replace('_', '.'));
    }

    @Test
    void registeredForms_coverPrometheusSuffixesAndDottedNames() {
        assertThat(registeredFormsOf("meshguard_audit_events_spooled_total"))
                .contains("meshguard_audit_events_spooled_total", "meshguard.audit.events.spooled");
        assertThat(registeredFormsOf("meshguard_authz_check_duration_seconds_bucket"))
                .contains("meshguard_authz_check_duration_seconds");
        assertThat(registered(
                        "Counter.builder(\"meshguard.grpc.calls.rejected\")", "meshguard_grpc_calls_rejected_total"))
                .isTrue();
        assertThat(registered("Gauge.builder(\"meshguard.grpc.calls.in_flight\")", "meshguard_grpc_calls_in_flight"))
                .isTrue();
        assertThat(registered("Counter.builder(\"meshguard_authz_decisions_total\")", "meshguard_authz_denials_total"))
                .isFalse();
    }

    @Test
    void everyMetricInTheOperatorGuide_isRegisteredByItsModule() throws IOException {
        Set<String> names = new TreeSet<>();
        for (Path page : RepoPaths.operatorGuide()) {
            names.addAll(metricsIn(page));
        }
        assertThat(names).as("the guide's alerts query meshguard metrics").isNotEmpty();
        List<String> missing = new ArrayList<>();
        Set<String> notYetHere = new TreeSet<>();
        for (String name : names) {
            String owner = OWNERS.entrySet().stream()
                    .filter(e -> name.startsWith(e.getKey()))
                    .map(Map.Entry::getValue)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no owning module known for " + name));
            String prefix = OWNERS.entrySet().stream()
                    .filter(e -> name.startsWith(e.getKey()))
                    .map(Map.Entry::getKey)
                    .findFirst()
                    .orElseThrow();
            String source = java.util.Arrays.stream(owner.split(","))
                    .map(m -> mainSources(RepoPaths.root().resolve(m)))
                    .collect(java.util.stream.Collectors.joining("\n"));
            if (!registersFamily(source, prefix)) {
                notYetHere.add(owner + " (" + prefix + "*)");
                continue;
            }
            if (!registered(source, name)) {
                missing.add(name + " (expected in " + owner + ")");
            }
        }
        if (!notYetHere.isEmpty()) {
            System.out.println("OperatorGuideMetricsTest: no metrics registered yet by " + notYetHere
                    + "; their names in the guide are unchecked");
        }
        assertThat(missing)
                .as("metrics the operator guide alerts on but no module registers")
                .isEmpty();
    }
}
