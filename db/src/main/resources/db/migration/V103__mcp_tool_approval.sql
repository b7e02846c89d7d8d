-- A tool call held for two approvers (docs/agents.md "Two people for high-risk tools"). The DLP server opens a row on
-- the first call of a tool its profile marks for approval and redeems it, once, on the client's retry; the controller's
-- admin API records the approvers. The row binds the call: who asked (caller and agent), the MCP server (route), the
-- tool, an HMAC-SHA256 of the canonical arguments (keyed outside the database: a row alone cannot confirm a guessed
-- argument), the DLP policy's digest and an expiry. The masked arguments are what approvers see; values never are.
create table mcp_tool_approval (
    id              bigint        generated always as identity,
    reference       varchar(64)   not null,
    state           varchar(16)   not null default 'pending',
    caller          varchar(400)  not null,
    caller_issuer   varchar(400)  not null,
    agent           varchar(400)  not null,
    agent_owner     varchar(400)  not null,
    server          varchar(400)  not null,
    tool            varchar(400)  not null,
    args_digest     varchar(64)   not null,
    masked_args     jsonb         not null,
    policy_version  varchar(128)  not null,
    requested_at    timestamptz   not null default now(),
    expires_at      timestamptz   not null,
    -- approved: the second approval; used: the retry ran; voided: a retry did not match; expired/rejected: never ran
    decided_at      timestamptz,
    decision_reason varchar(1000),
    used_at         timestamptz,
    constraint mcp_tool_approval_pk primary key (id),
    constraint mcp_tool_approval_reference_uq unique (reference),
    constraint mcp_tool_approval_state_check
        check (state in ('pending', 'approved', 'used', 'voided', 'expired', 'rejected'))
);
create index mcp_tool_approval_state_idx on mcp_tool_approval (state, expires_at);

-- One row per approver and call: the primary key is what makes an approver approving twice count once.
create table mcp_tool_approval_vote (
    approval_id   bigint        not null references mcp_tool_approval (id),
    approver_id   varchar(400)  not null,
    approver_name varchar(400)  not null,
    approved_at   timestamptz   not null default now(),
    reason        varchar(1000) not null,
    constraint mcp_tool_approval_vote_pk primary key (approval_id, approver_id)
);
