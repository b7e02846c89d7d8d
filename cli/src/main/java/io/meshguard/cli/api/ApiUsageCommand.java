package io.meshguard.cli.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.audit.query.ApiUsageReport;
import io.meshguard.audit.query.ApiUsageReport.Caller;
import io.meshguard.audit.query.ApiUsageReport.VersionUsage;
import io.meshguard.audit.query.TimeArguments;
import io.meshguard.cli.common.DatabaseOptions;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code meshguard api usage}: requests, errors, latency and top callers per API version from the audit log, with
 * each version's lifecycle and the days left until its sunset; deprecated versions still called close to their
 * sunset are named at the end (the same condition as the {@code DeprecatedApiVersionNearSunset} alert).
 */
@Command(
        name = "usage",
        mixinStandardHelpOptions = true,
        description = "Usage per API version from the gateway's access log: requests, error rates, p50/p95 latency, "
                + "deprecation and sunset, top callers (tenant / client id).")
public final class ApiUsageCommand implements Callable<Integer> {
    /** Output formats of {@code --format}. */
    public enum Format {
        table,
        json
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String UNVERIFIED = "(unverified)";

    @Mixin
    DatabaseOptions database = new DatabaseOptions();

    @Spec
    CommandSpec spec;

    @Option(names = "--api", paramLabel = "NAME", description = "Only this API.")
    String api;

    @Option(
            names = "--since",
            defaultValue = "7d",
            paramLabel = "TIME",
            description = "Start: a duration ago (15m, 1h, 7d), an ISO time or a date (default: ${DEFAULT-VALUE}).")
    String since;

    @Option(
            names = "--until",
            paramLabel = "TIME",
            description = "End (exclusive), same forms as --since (default: now).")
    String until;

    @Option(
            names = "--top",
            defaultValue = "5",
            paramLabel = "N",
            description = "Top callers shown per version (default: ${DEFAULT-VALUE}).")
    int top;

    @Option(
            names = "--warn-days",
            defaultValue = "30",
            paramLabel = "DAYS",
            description = "Name deprecated versions still called whose sunset is at most this many days away "
                    + "(default: ${DEFAULT-VALUE}, as the alert).")
    int warnDays;

    @Option(names = "--format", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    Format format;

    @Override
    public Integer call() throws Exception {
        if (top < 0 || top > 100) {
            throw new IllegalArgumentException("--top must be between 0 and 100, got " + top);
        }
        Clock clock = Clock.systemUTC();
        Instant now = clock.instant();
        Instant from = TimeArguments.pointInTime(since, clock);
        Instant to = until == null ? now : TimeArguments.pointInTime(until, clock);
        List<VersionUsage> usage;
        try {
            usage = new ApiUsageReport(database.open("meshguard-api-usage", System.getenv()))
                    .report(from, to, Optional.ofNullable(api), top);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read API usage from the database: " + e.getMessage(), e);
        }
        PrintWriter out = spec.commandLine().getOut();
        switch (format) {
            case table -> table(usage, from, to, now, out);
            case json -> out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json(usage, now)));
        }
        out.flush();
        return 0;
    }

    private void table(List<VersionUsage> usage, Instant from, Instant to, Instant now, PrintWriter out) {
        out.printf(
                "API usage from %s to %s (gateway requests, one row per request)%n",
                from.truncatedTo(ChronoUnit.SECONDS), to.truncatedTo(ChronoUnit.SECONDS));
        if (usage.isEmpty()) {
            out.println(
                    api == null
                            ? "no API versions configured and no gateway traffic in this window"
                            : "API '" + api + "' has no versions configured and no gateway traffic in this window");
            return;
        }
        String format = "%-16s %-8s %-10s %9s %7s %7s %9s %9s %-11s %9s  %s%n";
        out.printf(
                format,
                "API",
                "VERSION",
                "LIFECYCLE",
                "REQUESTS",
                "5XX",
                "4XX",
                "P50_MS",
                "P95_MS",
                "SUNSET",
                "DAYS_LEFT",
                "TOP_CALLERS (tenant/client: requests)");
        for (VersionUsage u : usage) {
            out.printf(
                    format,
                    u.api(),
                    u.version(),
                    u.lifecycle().orElse("(unknown)"),
                    u.requests(),
                    share(u.errors(), u.requests()),
                    share(u.clientErrors(), u.requests()),
                    ms(u.p50Millis()),
                    ms(u.p95Millis()),
                    u.sunsetAt().map(s -> s.toString().substring(0, 10)).orElse("-"),
                    daysLeft(u, now).map(String::valueOf).orElse("-"),
                    callers(u.topCallers()));
        }
        for (VersionUsage u : nearSunset(usage, now)) {
            out.printf(
                    "WARNING %s %s is deprecated and still called (%d requests in the window); its sunset is in %d "
                            + "days (%s)%s; callers: %s%n",
                    u.api(),
                    u.version(),
                    u.requests(),
                    daysLeft(u, now).orElseThrow(),
                    u.sunsetAt().orElseThrow(),
                    u.successor().map(s -> ", successor " + s).orElse(""),
                    callers(u.topCallers()));
        }
    }

    /** Deprecated versions with traffic whose sunset is at most {@code warnDays} away (or already past). */
    private List<VersionUsage> nearSunset(List<VersionUsage> usage, Instant now) {
        return usage.stream()
                .filter(u -> u.deprecated() && u.requests() > 0)
                .filter(u -> daysLeft(u, now).filter(d -> d <= warnDays).isPresent())
                .toList();
    }

    /** Whole days from now to the sunset, rounded down (negative once past). */
    static Optional<Long> daysLeft(VersionUsage u, Instant now) {
        return u.sunsetAt().map(s -> Math.floorDiv(Duration.between(now, s).toSeconds(), 86_400L));
    }

    private static String share(long part, long whole) {
        return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }

    private static String ms(OptionalDouble v) {
        return v.isPresent() ? String.format(Locale.ROOT, "%.1f", v.getAsDouble()) : "-";
    }

    private static String callers(List<Caller> callers) {
        if (callers.isEmpty()) {
            return "-";
        }
        return callers.stream().map(c -> caller(c) + ": " + c.requests()).collect(Collectors.joining(", "));
    }

    private static String caller(Caller c) {
        if (c.tenant().isEmpty() && c.clientId().isEmpty()) {
            return UNVERIFIED;
        }
        return c.tenant().orElse("-") + "/" + c.clientId().orElse("-");
    }

    private ArrayNode json(List<VersionUsage> usage, Instant now) {
        ArrayNode rows = JSON.createArrayNode();
        List<VersionUsage> warned = nearSunset(usage, now);
        for (VersionUsage u : usage) {
            ObjectNode o = rows.addObject();
            o.put("api", u.api());
            o.put("api_version", u.version());
            o.put("lifecycle", u.lifecycle().orElse(null));
            o.put("deprecated_at", u.deprecatedAt().map(Instant::toString).orElse(null));
            o.put("sunset_at", u.sunsetAt().map(Instant::toString).orElse(null));
            daysLeft(u, now).ifPresentOrElse(d -> o.put("days_left", d), () -> o.putNull("days_left"));
            o.put("successor", u.successor().orElse(null));
            o.put("requests", u.requests());
            o.put("errors_5xx", u.errors());
            o.put("errors_4xx", u.clientErrors());
            putMs(o, "p50_ms", u.p50Millis());
            putMs(o, "p95_ms", u.p95Millis());
            o.put("near_sunset", warned.contains(u));
            ArrayNode callers = o.putArray("top_callers");
            for (Caller c : u.topCallers()) {
                ObjectNode co = callers.addObject();
                co.put("tenant", c.tenant().orElse(null));
                co.put("client_id", c.clientId().orElse(null));
                co.put("requests", c.requests());
            }
        }
        return rows;
    }

    private static void putMs(ObjectNode o, String field, OptionalDouble v) {
        if (v.isPresent()) {
            o.put(field, v.getAsDouble());
        } else {
            o.putNull(field);
        }
    }
}
