-- Four eyes on what reaches production (issue 22). A protected gateway group is served only what a second person
-- approved: a publish that would change it becomes a publish request, approved or rejected by someone holding
-- revision:approve who neither asked for it nor authored any draft change in it.
create table protected_group (
    group_name   varchar(128)  not null,
    protected_by varchar(400)  not null,
    protected_at timestamptz   not null default now(),
    reason       varchar(1000) not null,
    constraint protected_group_pk primary key (group_name)
);

-- Who changed the draft, per gateway group whose slice the change touched: the authors of a publish request are
-- those since the group's last revision. Written by the admin API with every draft change.
create table draft_author (
    id         bigint       generated always as identity,
    group_name varchar(128) not null,
    actor      varchar(400) not null,
    changed_at timestamptz  not null default now(),
    constraint draft_author_pk primary key (id)
);
create index draft_author_group_idx on draft_author (group_name, changed_at);

create table publish_request (
    id              bigint        generated always as identity,
    group_name      varchar(128)  not null,
    state           varchar(16)   not null default 'pending',
    requested_by    varchar(400)  not null,
    requested_at    timestamptz   not null default now(),
    reason          varchar(1000) not null,
    -- exactly what was asked for: the group's slice, its SHA-256, and the diff against what was served then
    content         jsonb         not null,
    content_sha256  varchar(64)   not null,
    diff            jsonb         not null,
    authors         varchar(400) array not null,
    decided_by      varchar(400),
    decided_at      timestamptz,
    decision_reason varchar(1000),
    revision        bigint,
    constraint publish_request_pk primary key (id),
    constraint publish_request_state_check
        check (state in ('pending', 'published', 'rejected', 'voided')),
    constraint publish_request_decided_check
        check ((state = 'pending') = (decided_by is null))
);
create index publish_request_group_idx on publish_request (group_name, state);
-- at most one open request per group: a newer publish replaces the older one (voiding it)
create unique index publish_request_one_pending on publish_request (group_name) where state = 'pending';
create index publish_request_revision_idx on publish_request (revision);
