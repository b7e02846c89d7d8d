package io.meshguard.console;

import org.jooq.DSLContext;

/** Held tool calls as the DLP server writes them, for the screens that show them. */
final class HeldToolCalls {
    private HeldToolCalls() {}

    /** A call of transfer_funds by ursula (of {@code issuer}), through agent-7 which olga owns, held for ten minutes. */
    static long transferFunds(DSLContext dsl, String reference, String issuer) {
        return dsl.fetchOne(
                        "insert into mcp_tool_approval (reference, caller, caller_issuer, agent, agent_owner, server,"
                                + " tool, args_digest, masked_args, policy_version, expires_at) values (?,"
                                + " 'ursula', ?, 'agent-7', 'olga', 'payments-mcp', 'transfer_funds', ?,"
                                + " '{\"account\": \"****1234\", \"amount\": 2500}'::jsonb, 'policy-v1',"
                                + " now() + interval '10 minutes') returning id",
                        reference,
                        issuer,
                        "ab".repeat(32))
                .get(0, Long.class);
    }
}
