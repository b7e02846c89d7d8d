package io.meshguard.console;

import io.meshguard.audit.query.TrafficReport;
import java.util.List;
import java.util.Locale;
import java.util.OptionalDouble;

/**
 * An API's requests, errors and p95 latency over the window as two small server-rendered SVG line charts: the points
 * of each polyline computed here (numbers only), colours from the stylesheet, no script and no inline style (the CSP
 * allows neither), so the page needs no Node build and no charting library.
 *
 * @param requests the requests polyline's points; {@code errors} the 4xx/5xx polyline's, on the same scale
 * @param latency the p95 latency polyline's points (buckets without calls left out)
 * @param peakRequests the largest bucket's requests: the top of the first chart's scale
 * @param peakLatency the largest bucket's p95, formatted: the top of the second chart's scale
 */
public record TrafficChart(
        String api,
        String requests,
        String errors,
        String latency,
        long total,
        long errorTotal,
        long peakRequests,
        String peakLatency,
        String bucket) {
    public static final int WIDTH = 360;
    public static final int HEIGHT = 80;

    static TrafficChart of(TrafficReport.ApiSeries series, String bucket) {
        List<TrafficReport.Point> points = series.points();
        long peak = Math.max(
                1,
                points.stream().mapToLong(TrafficReport.Point::requests).max().orElse(1));
        double peakMs = points.stream()
                .map(TrafficReport.Point::p95Millis)
                .filter(OptionalDouble::isPresent)
                .mapToDouble(OptionalDouble::getAsDouble)
                .max()
                .orElse(0);
        StringBuilder req = new StringBuilder();
        StringBuilder err = new StringBuilder();
        StringBuilder lat = new StringBuilder();
        for (int i = 0; i < points.size(); i++) {
            TrafficReport.Point p = points.get(i);
            double x = points.size() == 1 ? 0 : (double) i * WIDTH / (points.size() - 1);
            point(req, x, p.requests() / (double) peak);
            point(err, x, p.errors() / (double) peak);
            if (p.p95Millis().isPresent()) {
                point(lat, x, peakMs <= 0 ? 0 : p.p95Millis().getAsDouble() / peakMs);
            }
        }
        return new TrafficChart(
                series.api(),
                req.toString().strip(),
                err.toString().strip(),
                lat.toString().strip(),
                points.stream().mapToLong(TrafficReport.Point::requests).sum(),
                points.stream().mapToLong(TrafficReport.Point::errors).sum(),
                peak,
                String.format(Locale.ROOT, "%.1f ms", peakMs),
                bucket);
    }

    /** {@code share} 0..1 of the scale, drawn from the bottom, 2 px inside the frame. */
    private static void point(StringBuilder out, double x, double share) {
        double y = HEIGHT - 2 - share * (HEIGHT - 4);
        out.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
    }
}
