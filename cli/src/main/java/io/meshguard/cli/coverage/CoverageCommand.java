package io.meshguard.cli.coverage;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.meshguard.audit.query.CoverageReport;
import io.meshguard.audit.query.CoverageReport.Coverage;
import io.meshguard.audit.query.CoverageReport.Sample;
import io.meshguard.audit.query.CoverageReport.ServiceCoverage;
import io.meshguard.audit.query.TimeArguments;
import io.meshguard.cli.common.DatabaseOptions;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard coverage}: per protected service, the requests the gateways, sidecars and waypoints logged, how
 * many had their Check and their DLP session, and sample ids of those that did not. Exits {@value #UNCOVERED} when any
 * protected request was uncovered and {@value #UNVERIFIABLE} when some could not be verified (no request id), so
 * a CI job or a cron can gate on it (docs/operate/prove-coverage.md, "Proof of coverage").
 */
@Command(
        name = "coverage",
        mixinStandardHelpOptions = true,
        description = "Proof of coverage: joins the access log with extauthz's Checks and the DLP server's sessions"
                + " by request id and reports requests that reached a workload without them. Exit 0: all covered;"
                + " 3: some uncovered; 4: none uncovered but some logged without x-request-id (unverifiable).")
public final class CoverageCommand implements Callable<Integer> {
    /** Exit code when a protected request reached a workload without its Check or DLP session. */
    public static final int UNCOVERED = 3;

    /** Exit code when nothing was uncovered but some protected requests had no request id to join on. */
    public static final int UNVERIFIABLE = 4;

    /** Output formats of {@code --format}. */
    public enum Format {
        table,
        json
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Spec
    CommandSpec spec;

    @Option(
            names = "--since",
            defaultValue = "1h",
            paramLabel = "TIME",
            description = "Start: a duration ago (15m, 1h, 7d), an ISO time or a date (default: ${DEFAULT-VALUE}).")
    String since;

    @Option(
            names = "--until",
            paramLabel = "TIME",
            description = "End (exclusive), same forms as --since (default: now).")
    String until;

    @Option(
            names = "--service",
            paramLabel = "S",
            description = "Only this service: a gateway route's name, or a mesh service's host "
                    + "(reviews.shop.svc.cluster.local).")
    String service;

    @Option(
            names = "--samples",
            defaultValue = "5",
            paramLabel = "N",
            description = "Uncovered request ids shown per service (default: ${DEFAULT-VALUE}).")
    int samples;

    @Option(names = "--format", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    Format format;

    @Override
    public Integer call() throws Exception {
        Clock clock = Clock.systemUTC();
        Instant from = TimeArguments.pointInTime(since, clock);
        Instant to = until == null ? clock.instant() : TimeArguments.pointInTime(until, clock);
        Coverage coverage;
        try {
            coverage = new CoverageReport(database.open("meshguard-coverage", System.getenv()))
                    .report(from, to, Optional.ofNullable(service), samples);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the audit log from the database: " + e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        switch (format) {
            case table -> table(coverage, out);
            case json -> out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(coverage.toJson()));
        }
        out.flush();
        if (coverage.uncovered() > 0) {
            return UNCOVERED;
        }
        return coverage.unverifiable() > 0 ? UNVERIFIABLE : 0;
    }

    private void table(Coverage c, PrintWriter out) {
        out.printf(
                "Coverage from %s to %s (access-log rows joined with Checks by nonce or request id, DLP sessions by"
                        + " request id)%n",
                c.since().truncatedTo(ChronoUnit.SECONDS), c.until().truncatedTo(ChronoUnit.SECONDS));
        if (c.services().isEmpty()) {
            out.println(
                    service == null
                            ? "no request was logged in this window"
                            : "no request to '" + service + "' was logged in this window");
            return;
        }
        String row = "%-40s %9s %9s %9s %11s %9s %10s %12s  %s%n";
        out.printf(
                row,
                "SERVICE",
                "SEEN",
                "PROTECTED",
                "CHECKED",
                "DLP_COVERED",
                "UNCHECKED",
                "NO_DLP",
                "UNVERIFIABLE",
                "SAMPLE_UNCOVERED_REQUEST_IDS");
        for (ServiceCoverage s : c.services()) {
            out.printf(
                    row,
                    s.service(),
                    s.seen(),
                    s.protectedRequests(),
                    s.checked(),
                    s.dlpRequired() == 0 ? "-" : s.dlpCovered() + "/" + s.dlpRequired(),
                    s.unchecked(),
                    s.withoutDlp(),
                    s.unverifiable(),
                    s.samples().isEmpty()
                            ? "-"
                            : s.samples().stream().map(CoverageCommand::sample).collect(Collectors.joining(", ")));
        }
        long checked = c.services().stream().mapToLong(ServiceCoverage::checked).sum();
        long onNonce = c.services().stream().mapToLong(s -> s.joins().onNonce()).sum();
        if (checked > 0) {
            // the nonce is what a client cannot choose; the request id only joins allows from before nonces
            out.printf(
                    "JOINED %d checked request(s) on their Check's nonce, %d on the request id (Checks that minted no"
                            + " nonce)%n",
                    onNonce, checked - onNonce);
        }
        long missing =
                c.services().stream().mapToLong(s -> s.joins().nonceMissing()).sum();
        long unknown =
                c.services().stream().mapToLong(s -> s.joins().nonceUnknown()).sum();
        long reusedNonce =
                c.services().stream().mapToLong(s -> s.joins().nonceReused()).sum();
        if (missing + unknown + reusedNonce > 0) {
            out.printf(
                    "NONCE unchecked: %d without the nonce their request id's Check minted (nonce_missing), %d with a"
                            + " nonce no Check minted (nonce_unknown), %d with a nonce another request carries"
                            + " (nonce_reused)%n",
                    missing, unknown, reusedNonce);
        }
        if (c.uncovered() > 0) {
            out.printf(
                    "UNCOVERED %d protected request(s) reached a workload without their Check or DLP profile%n",
                    c.uncovered());
        }
        if (c.unverifiable() > 0) {
            out.printf(
                    "UNVERIFIABLE %d protected request(s) were logged without x-request-id and cannot be matched%n",
                    c.unverifiable());
        }
        if (c.uncovered() == 0 && c.unverifiable() == 0) {
            out.println("every protected request had its Check and DLP profile");
        }
        if (c.canary() > 0) {
            out.printf(
                    "CANARY %d of the requests seen were `meshguard canary`'s (x-meshguard-canary), joined like the"
                            + " rest: %s%n",
                    c.canary(),
                    c.services().stream()
                            .filter(s -> s.canary() > 0)
                            .map(s -> s.service() + " " + s.canary())
                            .collect(Collectors.joining(", ")));
        }
    }

    private static String sample(Sample s) {
        return s.requestId() + (s.withoutCheck() ? " (no check)" : " (no dlp)");
    }
}
