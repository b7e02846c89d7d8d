package io.meshguard.console;

import io.meshguard.audit.query.TrafficReport;
import io.meshguard.catalogmodel.PlanQuotaUse;
import io.meshguard.db.TenantScope;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Traffic & security: per API version the requests, 4xx/5xx, the 401/403/429 split and p95 latency, DLP findings per
 * detector and callers near a quota, over the last hour or day ({@link TrafficReport}), scoped to the caller's tenants
 * as the audit API is. Bars are {@code <meter>} elements: no inline style, which the CSP forbids.
 */
public final class TrafficScreen {
    /** One API version; {@code errorShare} in 0..1 for the meter. */
    public record VersionRow(
            String api,
            String version,
            long requests,
            long clientErrors,
            long serverErrors,
            long unauthorized,
            long forbidden,
            long tooManyRequests,
            String p95,
            double errorShare) {}

    public record DetectorRow(String detector, long findings, long most) {}

    /**
     * A caller past {@link TrafficReport#NEAR_QUOTA_PERCENT} % of a quota: a policy quota's caller key, or a plan
     * quota's subscriber by name ({@code callerId}: the key or the subscription's id, shown on hover).
     */
    public record QuotaRow(
            String quota, String caller, String callerId, String period, long used, long limit, String percent) {}

    /** {@code planQuotasCounted}: the catalogue runs here, so the subscriptions' plan quotas are in the list too. */
    public record Page(
            Views.Chrome chrome,
            String window,
            String since,
            String until,
            List<VersionRow> versions,
            List<DetectorRow> dlp,
            List<QuotaRow> nearQuota,
            boolean planQuotasCounted,
            List<TrafficChart> charts,
            String error) {}

    private final TrafficReport report;
    private final Clock clock;

    public TrafficScreen(TrafficReport report, Clock clock) {
        this.report = report;
        this.clock = clock;
    }

    /**
     * {@code planQuotas}: the plan quotas of the subscriptions the caller may see, counted this period (empty and
     * {@code planQuotasCounted} false where no catalogue runs).
     */
    Page page(
            String window,
            TenantScope tenants,
            Views.Chrome chrome,
            List<PlanQuotaUse> planQuotas,
            boolean planQuotasCounted) {
        TrafficReport.Window w = window.equals("day") ? TrafficReport.Window.DAY : TrafficReport.Window.HOUR;
        String name = w.name().toLowerCase(Locale.ROOT);
        TrafficReport.Traffic t;
        List<TrafficChart> charts;
        try {
            java.time.Instant now = clock.instant();
            t = report.report(w, now, tenants);
            String bucket = w == TrafficReport.Window.HOUR ? "5 minutes" : "hour";
            charts = report.series(w, now, tenants).stream()
                    .map(sr -> TrafficChart.of(sr, bucket))
                    .toList();
        } catch (SQLException e) {
            return new Page(
                    chrome,
                    name,
                    "",
                    "",
                    List.of(),
                    List.of(),
                    List.of(),
                    planQuotasCounted,
                    List.of(),
                    "The audit database did not answer: " + e.getMessage());
        }
        List<VersionRow> versions = t.versions().stream()
                .map(v -> new VersionRow(
                        v.api(),
                        v.version(),
                        v.requests(),
                        v.clientErrors(),
                        v.serverErrors(),
                        v.unauthorized(),
                        v.forbidden(),
                        v.tooManyRequests(),
                        v.p95Millis().isPresent()
                                ? String.format(
                                        Locale.ROOT, "%.1f ms", v.p95Millis().getAsDouble())
                                : "–",
                        v.requests() == 0 ? 0 : (double) (v.clientErrors() + v.serverErrors()) / v.requests()))
                .toList();
        long most = t.dlp().stream()
                .mapToLong(TrafficReport.DetectorFindings::findings)
                .max()
                .orElse(1);
        List<DetectorRow> dlp = t.dlp().stream()
                .map(d -> new DetectorRow(d.detector(), d.findings(), most))
                .toList();
        List<QuotaRow> quota = new ArrayList<>();
        t.nearQuota()
                .forEach(q -> quota.add(new QuotaRow(
                        q.quota(),
                        q.caller(),
                        q.caller(),
                        q.periodStart().toString(),
                        q.used(),
                        q.limit(),
                        percent(q.used(), q.limit()))));
        planQuotas.stream()
                .filter(p -> p.share() * 100 >= TrafficReport.NEAR_QUOTA_PERCENT)
                .forEach(p -> quota.add(new QuotaRow(
                        "plan " + p.planName()
                                + (p.counter().equals("subscription")
                                        ? ""
                                        : " · operation "
                                                + p.counter()
                                                        .substring(p.counter().indexOf('/') + 1)),
                        p.subscriber().applicationName() + " · "
                                + p.subscriber().customerName(),
                        p.subscriber().subscriptionId(),
                        p.periodStart().toString(),
                        p.used(),
                        p.limit(),
                        percent(p.used(), p.limit()))));
        quota.sort(Comparator.comparingDouble((QuotaRow q) -> q.limit() <= 0 ? 0 : (double) q.used() / q.limit())
                .reversed());
        return new Page(
                chrome,
                name,
                RevisionsScreen.time(t.since()),
                RevisionsScreen.time(t.until()),
                versions,
                dlp,
                List.copyOf(quota),
                planQuotasCounted,
                charts,
                "");
    }

    private static String percent(long used, long limit) {
        return limit <= 0 ? "–" : String.format(Locale.ROOT, "%d %%", Math.round(100.0 * used / limit));
    }
}
