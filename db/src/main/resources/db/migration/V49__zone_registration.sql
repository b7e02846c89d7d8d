-- Zone controllers (issue 28, docs/operator-guide.md "Zones"): one per cluster, registered once with a one-time token,
-- then following the central controller with a short-lived credential rotated over its stream. Secrets are stored only
-- as SHA-256 digests: a database reader learns no usable token. Clusters belong to operators (no tenant rows).

-- Revoking a cluster's zone cuts its stream and refuses its credentials until it is registered again.
alter table cluster add column zone_revoked_at timestamptz;

-- A registration token: single use (used_at set by the one exchange that wins), valid until expires_at (<= 24 h).
create table zone_registration (
    token_sha256 char(64)     not null,
    cluster_id   varchar(63)  not null,
    created_by   varchar(400) not null,
    created_at   timestamptz  not null default now(),
    expires_at   timestamptz  not null,
    used_at      timestamptz,
    constraint zone_registration_pk primary key (token_sha256),
    constraint zone_registration_cluster_fk foreign key (cluster_id) references cluster (id) on delete cascade
);
create index zone_registration_cluster_idx on zone_registration (cluster_id);

-- A zone's credential (<= 1 h): what the zone presents when it (re)opens its stream; the successor is granted over
-- the stream before the predecessor expires.
create table zone_credential (
    credential_sha256 char(64)    not null,
    cluster_id        varchar(63) not null,
    created_at        timestamptz not null default now(),
    expires_at        timestamptz not null,
    constraint zone_credential_pk primary key (credential_sha256),
    constraint zone_credential_cluster_fk foreign key (cluster_id) references cluster (id) on delete cascade
);
create index zone_credential_cluster_idx on zone_credential (cluster_id);

-- Gateway groups a cluster's zone serves besides those its product publishes name. A withdrawn row stays: the
-- withdrawal is what the zone is told (a disconnect never removes anything from a zone).
create table cluster_group (
    cluster_id    varchar(63)  not null,
    gateway_group varchar(128) not null,
    assigned_at   timestamptz  not null default now(),
    withdrawn_at  timestamptz,
    constraint cluster_group_pk primary key (cluster_id, gateway_group),
    constraint cluster_group_cluster_fk foreign key (cluster_id) references cluster (id) on delete cascade
);
