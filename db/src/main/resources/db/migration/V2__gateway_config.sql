-- Gateway configuration: the xds-controller's source of truth. Operators edit it through the admin API;
-- the controller renders it into LDS/RDS/CDS/EDS and records what it published in config_revision.
-- Later migrations add columns and tables; this one lays down the skeleton.

-- A set of gateways (Envoy nodes) that share one configuration.
create table gateway_group (
    id            bigint       generated always as identity,
    name          varchar(128) not null,
    environment   varchar(64)  not null,
    region        varchar(64),
    cluster       varchar(128),
    listener_port integer      not null default 8080,
    hostnames     varchar(253) array not null default array[]::varchar(253)[],
    created_at    timestamptz  not null default now(),
    updated_at    timestamptz  not null default now(),
    constraint gateway_group_pk primary key (id),
    constraint gateway_group_name_uk unique (name),
    constraint gateway_group_listener_port_check check (listener_port between 1 and 65535)
);

create table upstream (
    id                 bigint       generated always as identity,
    name               varchar(128) not null,
    protocol           varchar(8)   not null default 'http1',
    lb_policy          varchar(32)  not null default 'round_robin',
    connect_timeout_ms integer      not null default 1000,
    tls                boolean      not null default false,
    tls_sni            varchar(253),
    health_check       jsonb,
    circuit_breakers   jsonb,
    created_at         timestamptz  not null default now(),
    updated_at         timestamptz  not null default now(),
    constraint upstream_pk primary key (id),
    constraint upstream_name_uk unique (name),
    constraint upstream_protocol_check check (protocol in ('http1', 'h2', 'grpc')),
    constraint upstream_lb_policy_check
        check (lb_policy in ('round_robin', 'least_request', 'random', 'ring_hash', 'maglev')),
    constraint upstream_connect_timeout_check check (connect_timeout_ms > 0)
);

create table upstream_endpoint (
    id          bigint       generated always as identity,
    upstream_id bigint       not null,
    host        varchar(253) not null,
    port        integer      not null,
    weight      integer      not null default 1,
    constraint upstream_endpoint_pk primary key (id),
    constraint upstream_endpoint_upstream_fk foreign key (upstream_id) references upstream (id) on delete cascade,
    constraint upstream_endpoint_uk unique (upstream_id, host, port),
    constraint upstream_endpoint_port_check check (port between 1 and 65535),
    -- Envoy's load_balancing_weight must be at least 1.
    constraint upstream_endpoint_weight_check check (weight between 1 and 128)
);

create table api (
    id              bigint        generated always as identity,
    name            varchar(128)  not null,
    description     varchar(1024),
    -- The version clients get when they do not ask for one; must be one of this API's versions.
    default_version varchar(32),
    created_at      timestamptz   not null default now(),
    updated_at      timestamptz   not null default now(),
    constraint api_pk primary key (id),
    constraint api_name_uk unique (name)
);

create table api_version (
    id            bigint      generated always as identity,
    api_id        bigint      not null,
    version       varchar(32) not null,
    status        varchar(16) not null default 'active',
    deprecated_at timestamptz,
    sunset_at     timestamptz,
    -- The version clients should move to (a version of the same API).
    successor     varchar(32),
    created_at    timestamptz not null default now(),
    updated_at    timestamptz not null default now(),
    constraint api_version_pk primary key (id),
    constraint api_version_api_fk foreign key (api_id) references api (id) on delete cascade,
    constraint api_version_uk unique (api_id, version),
    constraint api_version_successor_fk foreign key (api_id, successor) references api_version (api_id, version),
    constraint api_version_status_check check (status in ('active', 'deprecated', 'sunset', 'retired')),
    constraint api_version_successor_self_check check (successor is null or successor <> version),
    constraint api_version_dates_check
        check (deprecated_at is null or sunset_at is null or sunset_at >= deprecated_at)
);

alter table api add constraint api_default_version_fk
    foreign key (id, default_version) references api_version (api_id, version);

create table route (
    id              bigint        generated always as identity,
    group_id        bigint        not null,
    api_version_id  bigint,
    name            varchar(128)  not null,
    -- Envoy matches routes in order: lower priority values are tried first.
    priority        integer       not null default 0,
    path_match_type varchar(8)    not null default 'prefix',
    path            varchar(2048) not null,
    -- Empty means any method.
    methods         varchar(16) array not null default array[]::varchar(16)[],
    -- 0 disables the timeout (long-lived SSE streams); null means the gateway default.
    timeout_ms      integer,
    idle_timeout_ms integer,
    retry_attempts  integer       not null default 0,
    retry_on        varchar(256),
    authz_profile   varchar(128),
    dlp_profile     varchar(128),
    enabled         boolean       not null default true,
    created_at      timestamptz   not null default now(),
    updated_at      timestamptz   not null default now(),
    constraint route_pk primary key (id),
    constraint route_group_fk foreign key (group_id) references gateway_group (id) on delete cascade,
    constraint route_api_version_fk foreign key (api_version_id) references api_version (id),
    constraint route_name_uk unique (group_id, name),
    constraint route_path_match_type_check check (path_match_type in ('exact', 'prefix', 'regex')),
    constraint route_timeouts_check
        check ((timeout_ms is null or timeout_ms >= 0) and (idle_timeout_ms is null or idle_timeout_ms >= 0)),
    constraint route_retry_attempts_check check (retry_attempts between 0 and 10)
);

create index route_api_version_idx on route (api_version_id);

-- Weighted destinations of a route (canary splits). The weights of one route add up to 100; the
-- admin API checks the sum, since a row-level constraint cannot.
create table route_destination (
    route_id    bigint  not null,
    upstream_id bigint  not null,
    weight      integer not null,
    constraint route_destination_pk primary key (route_id, upstream_id),
    constraint route_destination_route_fk foreign key (route_id) references route (id) on delete cascade,
    constraint route_destination_upstream_fk foreign key (upstream_id) references upstream (id),
    constraint route_destination_weight_check check (weight between 0 and 100)
);

create index route_destination_upstream_idx on route_destination (upstream_id);

-- What was published to a gateway group: a snapshot of the rendered configuration. Rows are never
-- updated (a trigger refuses it); a rollback publishes an older content as a new revision.
create table config_revision (
    id         bigint        generated always as identity,
    group_id   bigint        not null,
    created_at timestamptz   not null default now(),
    created_by varchar(256)  not null,
    reason     varchar(1024),
    content    jsonb         not null,
    constraint config_revision_pk primary key (id),
    constraint config_revision_group_fk foreign key (group_id) references gateway_group (id)
);

create index config_revision_group_idx on config_revision (group_id, id);

-- What every connected Envoy node last acknowledged or rejected.
create table node_status (
    node_id            varchar(256) not null,
    group_name         varchar(128),
    connected          boolean      not null default false,
    -- type URL -> last ACKed version, e.g. {"type.googleapis.com/envoy.config.cluster.v3.Cluster": "42"}
    acked_versions     jsonb        not null default jsonb_build_object(),
    last_nack_type_url varchar(256),
    last_nack_version  varchar(64),
    last_nack_error    text,
    last_nack_at       timestamptz,
    last_seen          timestamptz  not null default now(),
    constraint node_status_pk primary key (node_id)
);

create index node_status_group_idx on node_status (group_name);

/* [jooq ignore start] */

create function config_revision_refuse_update() returns trigger
language plpgsql
as $$
begin
    raise exception 'config_revision % is immutable; publish a new revision instead', old.id
        using errcode = 'restrict_violation';
end;
$$;

create trigger config_revision_immutable
    before update on config_revision
    for each row execute function config_revision_refuse_update();

/* [jooq ignore stop] */
