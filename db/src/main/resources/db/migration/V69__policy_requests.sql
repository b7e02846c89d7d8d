-- Four eyes on the security team's policy files (issue 47): a change to the files extauthz enforces becomes a policy
-- request carrying exactly the files asked for (their digest is what extauthz computes of the files it reads), their
-- diff against the last approved bundle, and the replay report of the recorded decisions against them. A second person
-- who did not ask for it approves or rejects it; an approval adds the digest to approved_policy, which extauthz reads
-- when authz.policy.require_approval is on (it then enforces only approved bundles).
create table policy_request (
    id                  bigint        generated always as identity,
    policy              varchar(64)   not null,
    state               varchar(16)   not null default 'pending',
    requested_by        varchar(400)  not null,
    requested_by_person varchar(1000) not null,
    requested_at        timestamptz   not null default now(),
    reason              varchar(1000) not null,
    -- exactly what was asked for: [{"file": name, "text": content}], in the order extauthz reads them
    files               jsonb         not null,
    digest              varchar(64)   not null,
    -- the approved bundle the diff is against (none before the first approval)
    base_digest         varchar(64),
    diff                text          not null,
    -- the replay report on exactly these files: counts, groups, samples; its window and when it was computed
    report              jsonb,
    report_from         timestamptz,
    report_to           timestamptz,
    report_computed_at  timestamptz,
    decided_by          varchar(400),
    decided_at          timestamptz,
    decision_reason     varchar(1000),
    constraint policy_request_pk primary key (id),
    constraint policy_request_state_check check (state in ('pending', 'approved', 'rejected', 'voided')),
    constraint policy_request_decided_check check ((state = 'pending') = (decided_by is null))
);
-- one open request per policy: a newer request replaces the older one (voiding it)
create unique index policy_request_one_pending on policy_request (policy) where state = 'pending';
create index policy_request_recent_idx on policy_request (requested_at desc);

-- The bundles a second person approved: what extauthz may enforce when it requires approval.
create table approved_policy (
    digest      varchar(64)  not null,
    policy      varchar(64)  not null,
    request_id  bigint       not null,
    approved_by varchar(400) not null,
    approved_at timestamptz  not null default now(),
    constraint approved_policy_pk primary key (policy, digest),
    constraint approved_policy_request_fk foreign key (request_id) references policy_request (id)
);
create index approved_policy_latest_idx on approved_policy (policy, approved_at desc);
