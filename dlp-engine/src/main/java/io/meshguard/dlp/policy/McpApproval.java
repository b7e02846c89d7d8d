package io.meshguard.dlp.policy;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * {@code mcp_approval:} on a profile: the tools whose calls run only after two people approved exactly that call
 * (docs/agents.md "Two people for high-risk tools").
 *
 * @param tools the tool names ({@code params.name} of {@code tools/call}) held for approval
 * @param expires how long a held call may wait for its approvals and its retry; past it the call never runs
 * @param agentOwners the person who owns each agent (its client id, as extauthz's {@code x-client-id} names it), by
 *     their verified subject: that person may not approve the agent's calls
 */
public record McpApproval(List<String> tools, Duration expires, Map<String, String> agentOwners) {
    /** The longest a call may wait: an approval outliving a working day is no longer about the same situation. */
    public static final Duration MAX_EXPIRES = Duration.ofHours(24);

    public McpApproval {
        tools = List.copyOf(tools);
        agentOwners = Map.copyOf(agentOwners);
    }

    public boolean holds(String tool) {
        return tools.contains(tool);
    }
}
