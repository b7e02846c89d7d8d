package io.meshguard.dlp.replay;

import io.meshguard.dlp.mcp.PinnedTool;
import io.meshguard.dlp.mcp.ToolPins;
import io.meshguard.dlp.policy.DlpPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The pinned MCP tools a draft dlp.yaml changes against the one in force, per profile: a tool pinned anew, one whose
 * pin (description or input schema) changed, one no longer pinned. What {@code meshguard dlp impact} holds the recorded
 * tool calls against.
 */
public final class PinChanges {
    private PinChanges() {}

    /** How a tool's pin moves. */
    public enum Kind {
        /** Pinned in the draft only: its calls start to run, its listing to show. */
        PINNED,
        /** Pinned in both, differently: calls are held to the new schema, the old listing is dropped. */
        CHANGED,
        /** Pinned in force only: its calls are refused, its listing dropped. */
        UNPINNED
    }

    /** One tool's move; the digests of its pin in force and in the draft, where it has one. */
    public record Change(String profile, String tool, Kind kind, Optional<String> inForce, Optional<String> draft) {}

    public static List<Change> between(DlpPolicy inForce, DlpPolicy draft) {
        TreeSet<String> profiles = new TreeSet<>();
        inForce.profiles().forEach(p -> profiles.add(p.name()));
        draft.profiles().forEach(p -> profiles.add(p.name()));
        List<Change> out = new ArrayList<>();
        for (String profile : profiles) {
            Map<String, PinnedTool> before = pins(inForce, profile);
            Map<String, PinnedTool> after = pins(draft, profile);
            TreeSet<String> tools = new TreeSet<>(before.keySet());
            tools.addAll(after.keySet());
            for (String tool : tools) {
                Optional<String> was = Optional.ofNullable(before.get(tool)).map(PinnedTool::digest);
                Optional<String> is = Optional.ofNullable(after.get(tool)).map(PinnedTool::digest);
                if (was.equals(is)) {
                    continue;
                }
                Kind kind = was.isEmpty() ? Kind.PINNED : is.isEmpty() ? Kind.UNPINNED : Kind.CHANGED;
                out.add(new Change(profile, tool, kind, was, is));
            }
        }
        return List.copyOf(out);
    }

    private static Map<String, PinnedTool> pins(DlpPolicy policy, String profile) {
        return policy.profile(profile)
                .flatMap(DlpPolicy.Profile::mcpPins)
                .map(ToolPins::tools)
                .orElse(Map.of());
    }
}
