-- The admin trail: every sign-in, refused admin call and change of the admin plane, one row each, hash-chained so
-- that `meshguard audit verify` names the first row that was altered, removed or inserted (io.meshguard.audit.trail).
-- Each row carries the SHA-256 of its canonical form, which includes the previous row's hash; rows are numbered
-- without gaps. Writers serialise on admin_trail_head (SELECT ... FOR UPDATE in the appending transaction), so two
-- controller replicas cannot fork the chain. Pruning old rows records an anchor first: the hash of the last pruned
-- row, so the chain stays verifiable from the first kept row.
create table admin_trail (
    seq            bigint        not null,
    occurred_at    timestamptz   not null,
    actor          varchar(256)  not null,
    auth_method    varchar(32)   not null,
    tenant         varchar(200),
    role_used      varchar(256),
    source_address varchar(64),
    request_id     varchar(128),
    action         varchar(64)   not null,
    target         varchar(512)  not null,
    outcome        varchar(512)  not null,
    before_digest  varchar(64),
    after_digest   varchar(64),
    details        jsonb         not null default '{}',
    prev_hash      varchar(64)   not null,
    row_hash       varchar(64)   not null,
    constraint admin_trail_pk primary key (seq),
    constraint admin_trail_seq_check check (seq > 0)
);

create index admin_trail_occurred_at_idx on admin_trail (occurred_at);

create table admin_trail_head (
    id       integer     not null,
    seq      bigint      not null,
    row_hash varchar(64) not null,
    constraint admin_trail_head_pk primary key (id),
    constraint admin_trail_head_single check (id = 1)
);

-- The chain starts from 64 zeros (no row before the first).
insert into admin_trail_head (id, seq, row_hash) values (1, 0, repeat('0', 64));

create table admin_trail_anchor (
    up_to_seq    bigint       not null,
    row_hash     varchar(64)  not null,
    recorded_at  timestamptz  not null default now(),
    reason       varchar(256) not null,
    constraint admin_trail_anchor_pk primary key (up_to_seq)
);
