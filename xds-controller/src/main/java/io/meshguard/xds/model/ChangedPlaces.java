package io.meshguard.xds.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Where one list of immutable objects differs from the one before it, by identity: what a draft's edit changed, so
 * that what was worked out from the list before is carried over everywhere else.
 */
public final class ChangedPlaces {
    private ChangedPlaces() {}

    /**
     * The most objects a change may replace and add for what was worked out before to be carried over; a larger one
     * (a bulk edit, an unrelated list) is worked out whole, which then costs no more than the diff would.
     */
    public static final int FEW = 256;

    /** Objects {@code [beforeFrom, beforeTo)} of the list before were replaced by {@code [nowFrom, nowTo)} of this one. */
    public record Span(int beforeFrom, int beforeTo, int nowFrom, int nowTo) {}

    /**
     * The spans where {@code now} differs from {@code before}, in order: place by place when both have the same length
     * (an edit keeps its place in the draft), else the one span between the longest same-instance start and end.
     */
    public static List<Span> between(List<?> before, List<?> now) {
        List<Span> changed = new ArrayList<>();
        if (before.size() == now.size()) {
            for (int i = 0; i < now.size(); i++) {
                if (before.get(i) != now.get(i)) {
                    changed.add(new Span(i, i + 1, i, i + 1));
                }
            }
            return changed;
        }
        int shorter = Math.min(before.size(), now.size());
        int start = 0;
        while (start < shorter && before.get(start) == now.get(start)) {
            start++;
        }
        int end = 0;
        while (end < shorter - start && before.get(before.size() - 1 - end) == now.get(now.size() - 1 - end)) {
            end++;
        }
        changed.add(new Span(start, before.size() - end, start, now.size() - end));
        return changed;
    }

    /** Whether the two lists hold the same instances in the same order. */
    public static boolean sameInstances(List<?> a, List<?> b) {
        if (a == b) {
            return true;
        }
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (a.get(i) != b.get(i)) {
                return false;
            }
        }
        return true;
    }

    /** How many objects the spans replace and add: the size of the change. */
    public static int size(List<Span> spans) {
        int n = 0;
        for (Span s : spans) {
            n += (s.beforeTo() - s.beforeFrom()) + (s.nowTo() - s.nowFrom());
        }
        return n;
    }
}
