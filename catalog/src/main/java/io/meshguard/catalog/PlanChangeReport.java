package io.meshguard.catalog;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.Objects;

/**
 * A plan-change request's replay report: what the requested limits would have decided over the plan's recorded
 * decisions (the controller's replay computes it, the catalogue keeps it with the request). {@code detail} holds the
 * flip groups with their sample request ids and the not-replayable reasons; {@code text} is the report as printed.
 */
public record PlanChangeReport(
        Instant computedAt, long decisions, long flipped, long notReplayable, String text, ObjectNode detail) {
    public PlanChangeReport {
        Objects.requireNonNull(computedAt, "computedAt");
        Objects.requireNonNull(text, "text");
        Objects.requireNonNull(detail, "detail");
    }
}
