-- extauthz calendar quotas (policies/README.md §quotas, docs/operator-guide.md §Quotas).
--
-- quota_usage is the durable count: every replica adds its pending increments at least once a second
-- (used = used + n), so a Redis flush or restart loses no quota: the live Redis counter is re-seeded from here.
-- A period is identified by its first local day in the quota's time zone (a day quota: that day; a month quota:
-- the 1st), so a reset at local midnight or on the 1st is a new row, never an update of an old one.
create table quota_usage (
    quota        varchar(64)  not null,
    caller       varchar(300) not null,
    period_start date         not null,
    period       varchar(8)   not null,
    period_end   timestamptz  not null,
    used         bigint       not null default 0,
    updated_at   timestamptz  not null default now(),
    constraint quota_usage_pkey primary key (quota, caller, period_start),
    constraint quota_usage_period_check check (period in ('day', 'month'))
);

-- Retention (rows of periods long over) and "who is near the limit this month" both filter on the end.
create index quota_usage_period_end_idx on quota_usage (period_end);

-- Every operator change of a counter (meshguard quota adjust|reset, POST /quotas/...): who, when, what, why.
-- The same change is also an audit_event of kind 'quota'; this table is the counters' own history.
create table quota_adjustment (
    id           bigserial     not null,
    occurred_at  timestamptz   not null default now(),
    quota        varchar(64)   not null,
    caller       varchar(300)  not null,
    period_start date          not null,
    action       varchar(16)   not null,
    delta        bigint        not null,
    used_before  bigint        not null,
    used_after   bigint        not null,
    actor        varchar(200)  not null,
    via          varchar(32)   not null,
    reason       varchar(1000) not null,
    constraint quota_adjustment_pkey primary key (id),
    constraint quota_adjustment_action_check check (action in ('adjust', 'reset')),
    constraint quota_adjustment_reason_check check (char_length(reason) > 0),
    constraint quota_adjustment_actor_check check (char_length(actor) > 0)
);

create index quota_adjustment_caller_idx on quota_adjustment (quota, caller, period_start);

-- One row per alert that fired: the primary key makes an alert fire once per caller, period and threshold across
-- every replica (INSERT ... ON CONFLICT DO NOTHING; only the replica whose insert wins records the audit event).
create table quota_alert (
    quota        varchar(64)  not null,
    caller       varchar(300) not null,
    period_start date         not null,
    threshold    integer      not null,
    used         bigint       not null,
    quota_limit  bigint       not null,
    occurred_at  timestamptz  not null default now(),
    constraint quota_alert_pkey primary key (quota, caller, period_start, threshold),
    constraint quota_alert_threshold_check check (threshold between 1 and 100)
);

-- Quota alerts and operator changes are audit events of their own kind.
/* [jooq ignore start] */
alter table audit_event drop constraint audit_event_kind_check;
alter table audit_event add constraint audit_event_kind_check
    check (kind in ('authz_decision', 'dlp_finding', 'api_call', 'config_change', 'quota'));
/* [jooq ignore stop] */
