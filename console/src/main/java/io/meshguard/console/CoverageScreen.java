package io.meshguard.console;

import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.CoverageReport.ServiceCoverage;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * Proof of coverage per namespace: the {@link CoverageReport} join (what the gateways, sidecars and waypoints logged,
 * joined by request id with extauthz's Checks and the DLP sessions) over the last hour or day, grouped by the
 * namespace of each service's host, with the covered, unchecked, without-DLP and unverifiable counts; one service's
 * sample uncovered request ids on demand ({@code ?service=}). The same join as {@code meshguard coverage}, so the
 * console and the CLI cannot disagree.
 */
public final class CoverageScreen {
    /** Sample ids listed for the service drilled into. */
    static final int SAMPLES = 20;

    /** Services that are not a mesh host: gateway routes (by route name) and hosts without a namespace. */
    static final String NO_NAMESPACE = "(gateway routes and other hosts)";

    /** Pod IPs: traffic that reached a workload by its address, the first place a bypass shows. */
    static final String POD_IPS = "(pod IPs)";

    private static final Pattern IP = Pattern.compile("^[0-9.]+$|^\\[?[0-9a-fA-F:]+\\]?$");

    /**
     * One service; {@code covered}: protected requests proven checked (and DLP-scanned where their route names a
     * profile).
     */
    public record ServiceRow(
            String service,
            long protectedRequests,
            long covered,
            long unchecked,
            long withoutDlp,
            long unverifiable,
            boolean ok) {
        /** The service as a query parameter value, for the drill-down link. */
        public String query() {
            return java.net.URLEncoder.encode(service, java.nio.charset.StandardCharsets.UTF_8);
        }
    }

    /** One namespace's services and their sums. */
    public record NamespaceRow(
            String namespace,
            List<ServiceRow> services,
            long protectedRequests,
            long covered,
            long unchecked,
            long withoutDlp,
            long unverifiable,
            boolean ok) {
        /** An element id for the namespace's heading: no spaces, which an ARIA id reference would split on. */
        public String anchor() {
            return "ns-" + namespace.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-");
        }
    }

    /** One uncovered request of the service drilled into, and what it lacked. */
    public record SampleRow(String requestId, String lacked) {}

    /** {@code service}: the one drilled into (empty: none), with its samples. */
    public record Page(
            Views.Chrome chrome,
            String window,
            String since,
            String until,
            List<NamespaceRow> namespaces,
            String service,
            List<SampleRow> samples,
            String error) {}

    private final CoverageReport report;
    private final Clock clock;

    public CoverageScreen(CoverageReport report, Clock clock) {
        this.report = report;
        this.clock = clock;
    }

    Page page(String window, String service, Views.Chrome chrome) {
        String name = window.equals("day") ? "day" : "hour";
        Instant until = clock.instant();
        Instant since = until.minus(name.equals("day") ? Duration.ofDays(1) : Duration.ofHours(1));
        CoverageReport.Coverage all;
        List<SampleRow> samples = new ArrayList<>();
        try {
            all = report.report(since, until, Optional.empty(), 0);
            if (!service.isEmpty()) {
                report.report(since, until, Optional.of(service), SAMPLES).services().stream()
                        .flatMap(s -> s.samples().stream())
                        .forEach(s -> samples.add(new SampleRow(
                                s.requestId(),
                                s.withoutCheck() && s.withoutDlp()
                                        ? "no Check, no DLP session"
                                        : s.withoutCheck() ? "no Check" : "no DLP session")));
            }
        } catch (SQLException e) {
            return new Page(
                    chrome,
                    name,
                    "",
                    "",
                    List.of(),
                    service,
                    List.of(),
                    "The audit database did not answer: " + e.getMessage());
        }
        Map<String, List<ServiceRow>> byNamespace = new TreeMap<>();
        for (ServiceCoverage s : all.services()) {
            if (s.protectedRequests() == 0) {
                continue; // nothing there needed a Check: local replies, denials, routes without ext_authz
            }
            long covered = Math.max(0, s.protectedRequests() - s.uncovered() - s.unverifiable());
            byNamespace
                    .computeIfAbsent(namespaceOf(s.service()), n -> new ArrayList<>())
                    .add(new ServiceRow(
                            s.service(),
                            s.protectedRequests(),
                            covered,
                            s.unchecked(),
                            s.withoutDlp(),
                            s.unverifiable(),
                            s.covered()));
        }
        List<NamespaceRow> namespaces = new ArrayList<>();
        byNamespace.forEach((ns, rows) -> namespaces.add(new NamespaceRow(
                ns,
                List.copyOf(rows),
                rows.stream().mapToLong(ServiceRow::protectedRequests).sum(),
                rows.stream().mapToLong(ServiceRow::covered).sum(),
                rows.stream().mapToLong(ServiceRow::unchecked).sum(),
                rows.stream().mapToLong(ServiceRow::withoutDlp).sum(),
                rows.stream().mapToLong(ServiceRow::unverifiable).sum(),
                rows.stream().allMatch(ServiceRow::ok))));
        // namespaces with uncovered requests first: they are what the page is for
        namespaces.sort((a, b) -> a.ok() == b.ok() ? 0 : a.ok() ? 1 : -1);
        return new Page(
                chrome,
                name,
                RevisionsScreen.time(all.since()),
                RevisionsScreen.time(all.until()),
                List.copyOf(namespaces),
                service,
                List.copyOf(samples),
                "");
    }

    /**
     * The namespace of a service host: {@code name.namespace.svc[.cluster domain]}; a pod IP and a host or gateway
     * route without one are grouped apart.
     */
    static String namespaceOf(String service) {
        String host = service.toLowerCase(Locale.ROOT);
        if (IP.matcher(host).matches()) {
            return POD_IPS;
        }
        String[] labels = host.split("\\.");
        if (labels.length >= 3 && labels[2].equals("svc")) {
            return labels[1];
        }
        return NO_NAMESPACE;
    }
}
