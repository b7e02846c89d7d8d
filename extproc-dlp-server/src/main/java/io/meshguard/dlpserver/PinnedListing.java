package io.meshguard.dlpserver;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.dlp.mcp.ToolPins;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One {@code tools/list} answer held to the route's pins: which listed tools an agent may see, and the tools dropped
 * (changed since pinned, or never pinned) with both digests, for the log, the metrics and the decision row. Names and
 * digests only: a description or schema text is never repeated.
 */
final class PinnedListing {
    /** Dropped tools named in one decision row, at most; the count is always whole. */
    static final int MAX_NOTED = 16;

    private final ToolPins pins;
    private final List<ToolPins.Review> dropped = new ArrayList<>();

    PinnedListing(ToolPins pins) {
        this.pins = pins;
    }

    /** Whether {@code tool} (an object with a string name) is listed exactly as pinned; remembers it when not. */
    boolean shows(JsonNode tool) {
        ToolPins.Review r = pins.review(tool);
        if (!r.shown()) {
            dropped.add(r);
        }
        return r.shown();
    }

    List<ToolPins.Review> dropped() {
        return List.copyOf(dropped);
    }

    /** {@code changed transfer_funds pinned=sha256:… listed=sha256:…; not_pinned close_account listed=…}. */
    String note() {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < dropped.size() && i < MAX_NOTED; i++) {
            ToolPins.Review r = dropped.get(i);
            if (i > 0) {
                out.append("; ");
            }
            out.append(standing(r)).append(' ').append(r.tool());
            r.pinned().ifPresent(p -> out.append(" pinned=").append(p));
            out.append(" listed=").append(r.listed());
        }
        if (dropped.size() > MAX_NOTED) {
            out.append("; and ").append(dropped.size() - MAX_NOTED).append(" more");
        }
        return out.toString();
    }

    /** {@code changed} or {@code not_pinned}: the metric's and the note's word for why a tool was dropped. */
    static String standing(ToolPins.Review r) {
        return r.standing().name().toLowerCase(Locale.ROOT);
    }
}
