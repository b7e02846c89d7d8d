-- meshguard 1.0's schema, whole: the baseline every 1.0 database starts from (db/README.md, "The baseline").
--
-- Before 1.0 the schema grew through 37 scripts (V1 … V79); no installation of that history exists outside
-- development, so 1.0 folds it into this one script, and a database migrated by a pre-1.0 build is refused
-- (Migrations.apply says so) rather than reconciled. The sections below are those scripts' statements in their
-- order, each headed by what it adds; a later section may change what an earlier one created (a function
-- replaced, a column added), exactly as the history did, so the schema is the one the history produced
-- (compared catalog for catalog with pg_dump when the history was folded).
--
-- Sections between [jooq ignore start] and [jooq ignore stop] are PostgreSQL-only DDL that jOOQ's
-- DDLDatabase (code generation without a database) cannot parse; Flyway runs them as they are.

-- ============================================================================================
-- audit event
-- ============================================================================================

-- Audit log: one table for every audit record meshguard writes, partitioned by month on the event time.
--
-- The writer generates event_id (UUIDv7, time-ordered) and inserts with ON CONFLICT DO NOTHING on the
-- primary key, so replaying its on-disk spool never duplicates a row. A partitioned table's primary key
-- must contain the partition key, hence (occurred_at, event_id).

create table audit_event (
    event_id       uuid          not null,
    occurred_at    timestamptz   not null,
    kind           varchar(32)   not null,
    request_id     varchar(128),
    trace_id       varchar(32),
    tenant         varchar(128),
    subject        varchar(256),
    client_id      varchar(256),
    source         varchar(64),
    caller_type    varchar(64),
    method         varchar(16),
    authority      varchar(256),
    path           varchar(2048),
    route          varchar(256),
    status         integer,
    decision       varchar(16),
    reason         varchar(128),
    latency_us     bigint,
    request_bytes  bigint,
    response_bytes bigint,
    is_stream      boolean       not null default false,
    details        jsonb         not null default jsonb_build_object(),
    constraint audit_event_pk primary key (occurred_at, event_id),
    constraint audit_event_kind_check
        check (kind in ('authz_decision', 'dlp_finding', 'api_call', 'config_change')),
    constraint audit_event_sizes_check
        check ((latency_us is null or latency_us >= 0)
           and (request_bytes is null or request_bytes >= 0)
           and (response_bytes is null or response_bytes >= 0))
)
/* [jooq ignore start] */ partition by range (occurred_at) /* [jooq ignore stop] */;

-- What operators filter on. Created on the parent, so every partition gets them.
create index audit_event_tenant_time_idx  on audit_event (tenant, occurred_at);
create index audit_event_request_id_idx   on audit_event (request_id);
create index audit_event_subject_time_idx on audit_event (subject, occurred_at);
create index audit_event_kind_time_idx    on audit_event (kind, occurred_at);

-- Months the retention job must not drop (an investigation or a regulator asked to keep them).
-- A hold covers every month from from_month to to_month, both inclusive; months are first days.
create table audit_legal_hold (
    id         bigint        generated always as identity,
    from_month date          not null,
    to_month   date          not null,
    reason     varchar(1024) not null,
    created_at timestamptz   not null default now(),
    created_by varchar(256)  not null,
    constraint audit_legal_hold_pk primary key (id),
    constraint audit_legal_hold_range_check check (from_month <= to_month),
    constraint audit_legal_hold_first_day_check
        check (extract(day from from_month) = 1 and extract(day from to_month) = 1)
);

/* [jooq ignore start] */

-- Catches events whose month has no partition yet (a node with a skewed clock, a spool replayed after
-- months), so an insert never fails for want of a partition. audit_ensure_partitions moves such rows
-- into the month's partition when it creates it.
create table audit_event_default partition of audit_event default;

-- Creates the monthly partitions audit_event_YYYY_MM for the month of from_month and the months_ahead
-- months after it. Months are UTC months. Idempotent and safe to call concurrently (advisory lock).
-- Returns how many partitions it created.
create function audit_ensure_partitions(from_month date, months_ahead int)
returns int
language plpgsql
as $$
declare
    parent_schema name;
    month_start   date;
    lower_bound   timestamptz;
    upper_bound   timestamptz;
    part_name     text;
    created       int := 0;
    pending_rows  boolean;
begin
    if from_month is null then
        raise exception 'audit_ensure_partitions: from_month must not be null';
    end if;
    if months_ahead is null or months_ahead < 0 or months_ahead > 120 then
        raise exception 'audit_ensure_partitions: months_ahead must be between 0 and 120, got %', months_ahead;
    end if;

    -- Two maintenance jobs (two replicas) may run at once: serialise them.
    perform pg_advisory_xact_lock(hashtext('meshguard.audit_ensure_partitions'));

    select n.nspname into parent_schema
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where c.oid = 'audit_event'::regclass;

    for i in 0 .. months_ahead loop
        month_start := (date_trunc('month', from_month) + make_interval(months => i))::date;
        part_name   := format('audit_event_%s', to_char(month_start, 'YYYY_MM'));
        lower_bound := month_start::timestamp at time zone 'UTC';
        upper_bound := (month_start + interval '1 month')::timestamp at time zone 'UTC';

        if to_regclass(format('%I.%I', parent_schema, part_name)) is not null then
            continue;
        end if;

        execute format('select exists (select 1 from %I.audit_event_default where occurred_at >= $1 and occurred_at < $2)',
                       parent_schema)
           into pending_rows using lower_bound, upper_bound;

        if pending_rows then
            -- A new range may not overlap rows already in the default partition: move them first.
            execute format('create table %I.%I (like %I.audit_event including defaults including constraints)',
                           parent_schema, part_name, parent_schema);
            execute format('with moved as (delete from %I.audit_event_default where occurred_at >= $1 and occurred_at < $2 returning *) '
                           || 'insert into %I.%I select * from moved',
                           parent_schema, parent_schema, part_name)
              using lower_bound, upper_bound;
            execute format('alter table %I.audit_event attach partition %I.%I for values from (%L) to (%L)',
                           parent_schema, parent_schema, part_name, lower_bound, upper_bound);
        else
            execute format('create table %I.%I partition of %I.audit_event for values from (%L) to (%L)',
                           parent_schema, part_name, parent_schema, lower_bound, upper_bound);
        end if;
        created := created + 1;
    end loop;
    return created;
end;
$$;

-- A fresh database takes events at once: this month and the next two.
select audit_ensure_partitions((now() at time zone 'UTC')::date, 2);

/* [jooq ignore stop] */

-- ============================================================================================
-- gateway config
-- ============================================================================================

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

-- ============================================================================================
-- api keys
-- ============================================================================================

-- API keys for machine clients (extauthz-server). Only a SHA-256 of the 256-bit random secret is stored: the
-- secret is shown once by `meshguard apikey create|rotate` and cannot be recovered from this table.
CREATE TABLE api_keys (
    key_id        varchar(16)  NOT NULL,
    secret_sha256 bytea        NOT NULL,
    name          varchar(200) NOT NULL,
    owner         varchar(200) NOT NULL,
    tenant        varchar(200) NOT NULL,
    roles         text[]       NOT NULL DEFAULT '{}',
    scopes        text[]       NOT NULL DEFAULT '{}',
    tier          varchar(64)  NOT NULL,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    rotated_from  varchar(16),
    last_used_at  timestamptz,
    use_count     bigint       NOT NULL DEFAULT 0,
    CONSTRAINT api_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT api_keys_key_id_check CHECK (char_length(key_id) = 16),
    CONSTRAINT api_keys_secret_check CHECK (octet_length(secret_sha256) = 32),
    CONSTRAINT api_keys_use_count_check CHECK (use_count >= 0),
    CONSTRAINT api_keys_rotated_from_fkey FOREIGN KEY (rotated_from) REFERENCES api_keys (key_id)
);

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant);
CREATE INDEX api_keys_owner_idx ON api_keys (owner);

-- ============================================================================================
-- xds gateway fields
-- ============================================================================================

-- xds-controller: the fields of the gateway model that V2's skeleton does not have yet.

-- Hostnames generated as {api}.{env}.{region}.{domain} when a group lists none.
alter table gateway_group add column domain varchar(253);
alter table gateway_group add column hostname_template varchar(253) not null default '{api}.{env}.{region}.{domain}';
-- Whether proxyless gRPC clients must run the ext_authz filter: required (fail closed), optional, off.
alter table gateway_group add column proxyless_authz varchar(16) not null default 'required';
alter table gateway_group add constraint gateway_group_proxyless_authz_check
    check (proxyless_authz in ('required', 'optional', 'off'));

-- {consecutive_5xx, interval_ms, base_ejection_ms, max_ejection_percent}
alter table upstream add column outlier_detection jsonb;

-- Versioned paths are base_path/<version>/...; unversioned ones go to the default version.
alter table api add column base_path varchar(512) not null default '';
alter table api add column hostnames varchar(253) array not null default array[]::varchar(253)[];

-- Long-lived responses (SSE, gRPC streams): no request timeout, idle timeout only.
alter table route add column streaming boolean not null default false;
-- [{name, exact | prefix | regex}] (none of the three: the header must be present)
alter table route add column header_matches jsonb not null default jsonb_build_array();
alter table route add column retry_per_try_timeout_ms integer;
alter table route add column retry_backoff_base_ms integer;
alter table route add column retry_backoff_max_ms integer;
-- [{name, value}]; always overwrite
alter table route add column request_headers_to_add jsonb not null default jsonb_build_array();
alter table route add column request_headers_to_remove varchar(256) array not null default array[]::varchar(256)[];
alter table route add column response_headers_to_add jsonb not null default jsonb_build_array();

-- ============================================================================================
-- xds node status fields
-- ============================================================================================

-- xds-controller: what /fleet shows besides V2's ACK/NACK columns.

-- Open ADS streams of the node (grpc-java opens one per xds:/// target).
alter table node_status add column streams integer not null default 0;
alter table node_status add column user_agent varchar(256);
-- The revision whose versions the node has ACKed for every type it subscribes to.
alter table node_status add column revision_id bigint;
-- The controller replica the node is connected to.
alter table node_status add column controller varchar(256);

-- ============================================================================================
-- upstream tls
-- ============================================================================================

-- TLS to an upstream (a service outside the mesh, a partner API): {sni, subject_alt_names, ca_file}; null is
-- plaintext. Replaces V2's `tls`/`tls_sni` placeholders, which nothing ever read or wrote.
alter table upstream drop column tls;
alter table upstream drop column tls_sni;
alter table upstream add column tls jsonb;

-- ============================================================================================
-- gateway group cors
-- ============================================================================================

-- xds-controller: cross-origin (CORS) policy per gateway group, and per API within a group. The gateway's CORS filter
-- answers browser preflights before ext_authz. Shape (snake_case JSON of io.meshguard.xds.model.Cors):
-- {allowed_origins: [...], allowed_methods, allowed_headers, exposed_headers, allow_credentials, max_age_seconds}.
-- null: no CORS for the group; api_cors: {"<api name>": <policy>} replaces the group's policy for that API.
alter table gateway_group add column cors jsonb;
alter table gateway_group add column api_cors jsonb not null default '{}'::jsonb;
alter table gateway_group add constraint gateway_group_cors_object_check
    check ((cors is null or jsonb_typeof(cors) = 'object') and jsonb_typeof(api_cors) = 'object');

-- ============================================================================================
-- quota usage
-- ============================================================================================

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

-- ============================================================================================
-- node status peer identity
-- ============================================================================================

-- A node in /fleet is its verified peer identity (the SPIFFE ID of its ADS stream, or the local-development marker)
-- plus the node id it sent: node ids are self-asserted, so a stranger sending a real gateway's node id gets a row of
-- its own and can no longer overwrite the real gateway's status. Rows from before have the empty identity.
alter table node_status add column peer_identity varchar(512) not null default '';
alter table node_status drop constraint node_status_pk;
alter table node_status add constraint node_status_pk primary key (peer_identity, node_id);

-- An upstream endpoint at a loopback, link-local, metadata or unspecified address, or on a sidecar/admin port, is
-- refused unless the upstream lists an exception naming that exact address and port with a reason (reviewed and
-- audited with the publish): [{"address": "127.0.0.1", "port": 18081, "reason": "..."}].
alter table upstream add column address_exceptions jsonb not null default '[]'::jsonb;

-- ============================================================================================
-- tenants
-- ============================================================================================

-- Tenants own what they define: APIs (with their versions), routes, upstreams (with their endpoints) and API keys.
-- Gateway groups belong to operators and are not tenant rows. Existing rows move into the tenant 'default'.
--
-- Isolation is enforced twice: the admin API filters by the caller's tenants in its queries, and PostgreSQL refuses
-- other tenants' rows by row-level security whenever a transaction runs as the role meshguard_tenant_scoped (the
-- admin plane sets it, with the caller's tenants in the setting meshguard.tenants, per transaction). A scoped
-- transaction without that setting sees no tenant row at all. Every other role (the servers' own, whether or not it
-- owns the tables) is not scoped: the publisher must read every tenant's routes to build a gateway group's snapshot,
-- and extauthz every API key.
create table tenant (
    id           varchar(200) not null,
    display_name varchar(200),
    created_at   timestamptz  not null default now(),
    constraint tenant_pk primary key (id),
    constraint tenant_id_check check (id ~ '^[a-z0-9][a-z0-9._-]*$')
);

insert into tenant (id, display_name) values ('default', 'Rows that existed before tenants');

alter table api add column tenant varchar(200) not null default 'default';
alter table api add constraint api_tenant_fk foreign key (tenant) references tenant (id);
alter table upstream add column tenant varchar(200) not null default 'default';
alter table upstream add constraint upstream_tenant_fk foreign key (tenant) references tenant (id);
alter table route add column tenant varchar(200) not null default 'default';
alter table route add constraint route_tenant_fk foreign key (tenant) references tenant (id);
create index api_tenant_idx on api (tenant);
create index upstream_tenant_idx on upstream (tenant);
create index route_tenant_idx on route (tenant);

-- Functions, roles, grants and policies are PostgreSQL-only: jOOQ's DDL parser skips them (db/README.md).
/* [jooq ignore start] */
-- The caller's tenants of the current transaction; NULL (no tenant) when the setting is absent or empty.
create function meshguard_scope_tenants() returns text[]
    language sql stable
    as $$ select string_to_array(nullif(current_setting('meshguard.tenants', true), ''), ',') $$;

-- A row is visible to every role but the scoped one, and to the scoped one only for the transaction's tenants.
create function meshguard_row_visible(row_tenant varchar) returns boolean
    language sql stable
    as $$ select current_user <> 'meshguard_tenant_scoped' or row_tenant = any (meshguard_scope_tenants()) $$;

-- Roles are cluster-wide: created once, by a migration role allowed to (otherwise a DBA creates it first, see
-- docs/operator-guide.md), and granted to the role that runs the migrations, which the servers use.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'meshguard_tenant_scoped') then
        begin
            create role meshguard_tenant_scoped nologin;
        exception when duplicate_object then
            null; -- another database of this cluster migrated at the same moment
        end;
    end if;
    execute format('grant meshguard_tenant_scoped to %I', current_user);
end
$$;

grant usage on schema public to meshguard_tenant_scoped;
grant select on tenant, gateway_group to meshguard_tenant_scoped;
grant select, insert, update, delete on api, api_version, route, route_destination, upstream, upstream_endpoint,
    api_keys to meshguard_tenant_scoped;
grant execute on function meshguard_scope_tenants(), meshguard_row_visible(varchar) to meshguard_tenant_scoped;

alter table api enable row level security;
create policy api_tenant_rows on api
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
alter table upstream enable row level security;
create policy upstream_tenant_rows on upstream
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
alter table route enable row level security;
create policy route_tenant_rows on route
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
alter table api_keys enable row level security;
create policy api_keys_tenant_rows on api_keys
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));

-- Child rows follow their parent: the sub-select runs under the parent's policy, so a version, endpoint or
-- destination of another tenant's object is as invisible as the object.
alter table api_version enable row level security;
create policy api_version_tenant_rows on api_version
    using (exists (select 1 from api a where a.id = api_id)) with check (exists (select 1 from api a where a.id = api_id));
alter table upstream_endpoint enable row level security;
create policy upstream_endpoint_tenant_rows on upstream_endpoint
    using (exists (select 1 from upstream u where u.id = upstream_id))
    with check (exists (select 1 from upstream u where u.id = upstream_id));
alter table route_destination enable row level security;
create policy route_destination_tenant_rows on route_destination
    using (exists (select 1 from route r where r.id = route_id))
    with check (exists (select 1 from route r where r.id = route_id));
/* [jooq ignore stop] */

-- ============================================================================================
-- admin trail
-- ============================================================================================

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

-- ============================================================================================
-- four eyes
-- ============================================================================================

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

-- ============================================================================================
-- audit event tenant rows
-- ============================================================================================

-- Audit events read through the admin plane (GET /audit/events, GET /audit/export) by a tenant-scoped caller: only
-- rows of that caller's tenants, enforced in PostgreSQL as for the tenant-owned tables of V35. The data plane's rows
-- (authz_decision, api_call, dlp_finding) carry the tenant extauthz resolved for the request; a row without a tenant
-- (config_change of the controller, events before tenants) is visible to system-scoped callers only.
-- Writers are not the scoped role, so meshguard_row_visible lets them through unchanged; the policy is on the
-- partitioned parent, the only relation the scoped role may read (no grant on a partition).
/* [jooq ignore start] */
grant select on audit_event to meshguard_tenant_scoped;
alter table audit_event enable row level security;
create policy audit_event_tenant_rows on audit_event
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
/* [jooq ignore stop] */

-- ============================================================================================
-- admin trail partitions
-- ============================================================================================

-- The admin trail partitioned by UTC month of occurred_at, so retention drops whole months (cheap, no bloat) instead
-- of deleting rows; `meshguard audit verify` walks the parent in seq order across partitions as before. A month is
-- dropped only through admin_trail_drop_month, which first records an anchor (the seq and hash of the highest row
-- of the month) in the same transaction: the chain then verifies from the first kept row, and a partition dropped
-- any other way leaves a gap the verifier names (REMOVED). A partitioned table's unique keys must contain the
-- partition key, so seq is unique per (occurred_at, seq) here; seq itself stays gap-free and unique because every
-- appender serialises on admin_trail_head.
/* [jooq ignore start] */
alter table admin_trail rename to admin_trail_v37;
alter table admin_trail_v37 rename constraint admin_trail_pk to admin_trail_v37_pk;
alter index admin_trail_occurred_at_idx rename to admin_trail_v37_occurred_at_idx;

create table admin_trail (like admin_trail_v37 including defaults including constraints)
    partition by range (occurred_at);
alter table admin_trail add constraint admin_trail_pk primary key (occurred_at, seq);
create index admin_trail_seq_idx on admin_trail (seq);

-- Catches rows whose month has no partition yet; admin_trail_ensure_partitions moves them out.
create table admin_trail_default partition of admin_trail default;

create function admin_trail_ensure_partitions(from_month date, months_ahead int)
returns int
language plpgsql
as $$
declare
    month_start date;
    lower_bound timestamptz;
    upper_bound timestamptz;
    part_name   text;
    created     int := 0;
begin
    if from_month is null or months_ahead is null or months_ahead < 0 or months_ahead > 120 then
        raise exception 'admin_trail_ensure_partitions: a month and 0..120 months ahead are required';
    end if;
    perform pg_advisory_xact_lock(hashtext('meshguard.admin_trail_ensure_partitions'));
    for i in 0 .. months_ahead loop
        month_start := (date_trunc('month', from_month) + make_interval(months => i))::date;
        part_name   := format('admin_trail_%s', to_char(month_start, 'YYYY_MM'));
        lower_bound := month_start::timestamp at time zone 'UTC';
        upper_bound := (month_start + interval '1 month')::timestamp at time zone 'UTC';
        if to_regclass(part_name) is not null then
            continue;
        end if;
        execute format('create table %I (like admin_trail including defaults including constraints)', part_name);
        execute format('with moved as (delete from admin_trail_default where occurred_at >= $1 and occurred_at < $2 '
                       || 'returning *) insert into %I select * from moved', part_name) using lower_bound, upper_bound;
        execute format('alter table admin_trail attach partition %I for values from (%L) to (%L)',
                       part_name, lower_bound, upper_bound);
        created := created + 1;
    end loop;
    return created;
end;
$$;

-- Retention: drops the month's partition after recording, in the same transaction, an anchor with the seq and hash
-- of its highest row. Refuses when a kept row has a lower seq than that (a row appended with a skewed clock landed in
-- a later month): dropping would cut the chain where no anchor can bridge it. Returns the rows dropped.
create function admin_trail_drop_month(month date, why varchar)
returns bigint
language plpgsql
as $$
declare
    part_name  text := format('admin_trail_%s', to_char(date_trunc('month', month), 'YYYY_MM'));
    last_seq   bigint;
    last_hash  varchar(64);
    row_count  bigint;
begin
    if to_regclass(part_name) is null then
        raise exception 'admin_trail_drop_month: no partition %', part_name;
    end if;
    perform 1 from admin_trail_head where id = 1 for update;
    execute format('select max(seq), count(*) from %I', part_name) into last_seq, row_count;
    if last_seq is not null then
        execute format('select row_hash from %I where seq = $1', part_name) into last_hash using last_seq;
        if exists (select 1 from admin_trail t where t.seq < last_seq
                   and t.tableoid <> to_regclass(part_name) and t.seq > coalesce(
                       (select max(up_to_seq) from admin_trail_anchor), 0)) then
            raise exception 'admin_trail_drop_month: rows before seq % are kept in other months; drop those months first', last_seq;
        end if;
        insert into admin_trail_anchor (up_to_seq, row_hash, reason) values (last_seq, last_hash, why)
            on conflict (up_to_seq) do nothing;
    end if;
    execute format('drop table %I', part_name);
    return row_count;
end;
$$;

-- Rows move from the V37 table into their months.
do $$
declare
    m date;
begin
    for m in select distinct date_trunc('month', occurred_at at time zone 'UTC')::date from admin_trail_v37 loop
        perform admin_trail_ensure_partitions(m, 0);
    end loop;
end
$$;
select admin_trail_ensure_partitions((now() at time zone 'UTC')::date, 2);
insert into admin_trail select * from admin_trail_v37;
drop table admin_trail_v37;
/* [jooq ignore stop] */

-- ============================================================================================
-- catalog
-- ============================================================================================

-- What providers sell and customers subscribe to (issue 25, docs/products.md). States and their moves are checked
-- in catalog/ (Lifecycle); the checks here only keep a row from holding a state that does not exist.
--
-- Tenancy: a product, its plans and publishes belong to the provider's tenant; an application and its credentials
-- to the customer's tenant; a subscription joins the two and is visible to both (row-level security below, the same
-- role and setting as V35). Clusters belong to operators.
create table cluster (
    id           varchar(63)  not null,
    region       varchar(63)  not null,
    provider     varchar(63),
    capabilities varchar(63) array not null default array[]::varchar(63)[],
    created_at   timestamptz  not null default now(),
    constraint cluster_pk primary key (id),
    constraint cluster_id_check check (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    constraint cluster_region_check check (region ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
);

-- The product id is its host label ({product}.{env}.{region}.api.{domain}), so it is unique across tenants: two
-- tenants must never be able to claim one host.
create table product (
    id          varchar(63)   not null,
    tenant      varchar(200)  not null,
    name        varchar(200)  not null,
    version     varchar(64)   not null default '1',
    description varchar(4000),
    tags        varchar(64) array not null default array[]::varchar(64)[],
    docs_url    varchar(2000),
    visibility  varchar(16)   not null default 'private',
    state       varchar(16)   not null default 'draft',
    created_at  timestamptz   not null default now(),
    updated_at  timestamptz   not null default now(),
    updated_by  varchar(400)  not null,
    constraint product_pk primary key (id),
    constraint product_tenant_fk foreign key (tenant) references tenant (id),
    constraint product_id_check check (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    constraint product_visibility_check check (visibility in ('public', 'private', 'internal')),
    constraint product_state_check check (state in ('draft', 'published', 'deprecated', 'retired'))
);
create index product_tenant_idx on product (tenant);

-- An operation is an API of the same tenant + method + path: what a plan may limit on its own.
create table product_operation (
    product_id varchar(63)   not null,
    id         varchar(100)  not null,
    api_id     bigint        not null,
    method     varchar(16)   not null,
    path       varchar(2048) not null,
    constraint product_operation_pk primary key (product_id, id),
    constraint product_operation_product_fk foreign key (product_id) references product (id) on delete cascade,
    constraint product_operation_api_fk foreign key (api_id) references api (id),
    constraint product_operation_uk unique (product_id, method, path)
);

create table plan (
    id               varchar(100)  not null,
    product_id       varchar(63)   not null,
    name             varchar(200)  not null,
    state            varchar(16)   not null default 'staging',
    -- PlanLimits as JSON ({rates: [{requests, per_seconds}], quota: {period, limit, zone, block}}), per product and
    -- per operation id; catalog/ parses and validates both before a row is written.
    limits           jsonb         not null default '{}',
    operation_limits jsonb         not null default '{}',
    approval         varchar(8)    not null default 'auto',
    auth_modes       varchar(8) array not null,
    created_at       timestamptz   not null default now(),
    updated_at       timestamptz   not null default now(),
    constraint plan_pk primary key (id),
    constraint plan_product_fk foreign key (product_id) references product (id) on delete cascade,
    constraint plan_name_uk unique (product_id, name),
    constraint plan_state_check check (state in ('staging', 'published', 'deprecated', 'closed')),
    constraint plan_approval_check check (approval in ('auto', 'manual'))
);

create table product_publish (
    id            varchar(100) not null,
    product_id    varchar(63)  not null,
    cluster_id    varchar(63)  not null,
    environment   varchar(8)   not null,
    auth_mode     varchar(8)   not null,
    state         varchar(16)  not null default 'draft',
    host          varchar(253) not null,
    gateway_group varchar(128) not null,
    -- The gateway revision that serves (or withdrew) it: publishes are revisions, so diff and rollback apply.
    revision      bigint,
    created_at    timestamptz  not null default now(),
    updated_at    timestamptz  not null default now(),
    constraint product_publish_pk primary key (id),
    constraint product_publish_product_fk foreign key (product_id) references product (id),
    constraint product_publish_cluster_fk foreign key (cluster_id) references cluster (id),
    constraint product_publish_host_uk unique (host),
    constraint product_publish_environment_check check (environment in ('dev', 'staging', 'prod')),
    constraint product_publish_auth_mode_check check (auth_mode in ('none', 'apikey', 'oauth2')),
    constraint product_publish_state_check check (state in ('draft', 'published', 'withdrawn'))
);

create table application (
    id            varchar(100)  not null,
    tenant        varchar(200)  not null,
    name          varchar(200)  not null,
    owner         varchar(400)  not null,
    contact       varchar(400),
    redirect_uris varchar(2000) array not null default array[]::varchar(2000)[],
    state         varchar(16)   not null default 'active',
    created_at    timestamptz   not null default now(),
    updated_at    timestamptz   not null default now(),
    constraint application_pk primary key (id),
    constraint application_tenant_fk foreign key (tenant) references tenant (id),
    constraint application_state_check check (state in ('active', 'suspended'))
);
create index application_tenant_idx on application (tenant);

create table subscription (
    id              varchar(100)  not null,
    application_id  varchar(100)  not null,
    publish_id      varchar(100)  not null,
    plan_id         varchar(100)  not null,
    state           varchar(16)   not null,
    -- Denormalised so row-level security can show the row to both sides without joining across their policies.
    provider_tenant varchar(200)  not null,
    customer_tenant varchar(200)  not null,
    requested_by    varchar(400)  not null,
    decided_by      varchar(400),
    reason          varchar(1000),
    created_at      timestamptz   not null default now(),
    updated_at      timestamptz   not null default now(),
    constraint subscription_pk primary key (id),
    constraint subscription_application_fk foreign key (application_id) references application (id),
    constraint subscription_publish_fk foreign key (publish_id) references product_publish (id),
    constraint subscription_plan_fk foreign key (plan_id) references plan (id),
    constraint subscription_state_check check (state in ('pending', 'active', 'suspended', 'closed', 'rejected'))
);
create index subscription_application_idx on subscription (application_id);
create index subscription_publish_idx on subscription (publish_id);

create table credential (
    id              varchar(200) not null,
    kind            varchar(8)   not null,
    application_id  varchar(100) not null,
    tenant          varchar(200) not null,
    state           varchar(16)  not null default 'active',
    -- For kind apikey the key's id in api_keys (never its secret); for oauth2 the client id in Keycloak.
    api_key_id      varchar(16),
    expires_at      timestamptz,
    overlap_ends_at timestamptz,
    successor_id    varchar(200),
    created_at      timestamptz  not null default now(),
    updated_at      timestamptz  not null default now(),
    constraint credential_pk primary key (kind, id),
    constraint credential_application_fk foreign key (application_id) references application (id),
    constraint credential_api_key_fk foreign key (api_key_id) references api_keys (key_id),
    constraint credential_kind_check check (kind in ('apikey', 'oauth2')),
    constraint credential_apikey_check check ((kind = 'apikey') = (api_key_id is not null)),
    constraint credential_state_check check (state in ('active', 'rotating', 'revoked', 'expired')),
    constraint credential_rotating_check check (state <> 'rotating' or overlap_ends_at is not null)
);
create index credential_application_idx on credential (application_id);

-- A credential limited to some of its application's subscriptions; none listed means all of them.
create table credential_subscription (
    kind            varchar(8)   not null,
    credential_id   varchar(200) not null,
    subscription_id varchar(100) not null,
    constraint credential_subscription_pk primary key (kind, credential_id, subscription_id),
    constraint credential_subscription_credential_fk foreign key (kind, credential_id)
        references credential (kind, id) on delete cascade,
    constraint credential_subscription_subscription_fk foreign key (subscription_id)
        references subscription (id) on delete cascade
);

/* [jooq ignore start] */
-- jOOQ's DDL parser does not know the array containment operator.
alter table plan add constraint plan_auth_modes_check check (cardinality(auth_modes) > 0
    and auth_modes <@ array['none', 'apikey', 'oauth2']::varchar(8)[]);

grant select on cluster to meshguard_tenant_scoped;
grant select, insert, update, delete on product, product_operation, plan, product_publish, application,
    subscription, credential, credential_subscription to meshguard_tenant_scoped;

-- Published public products, with their published plans and publishes, are the catalogue every customer browses;
-- everything else is its tenant's own. Who may move a subscription's state (approve, suspend) is the admin plane's
-- permission check: row-level security shows a subscription to both sides and cannot tell them apart.
alter table product enable row level security;
create policy product_tenant_rows on product for all
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
create policy product_catalogue on product for select
    using (state in ('published', 'deprecated') and visibility = 'public');
-- Children of a product: changed only by the product's tenant; read by others only when the product is in the
-- catalogue (the sub-select runs under product's policies) and the child itself is offered.
alter table product_operation enable row level security;
create policy product_operation_own on product_operation for all
    using (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)))
    with check (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)));
create policy product_operation_catalogue on product_operation for select
    using (exists (select 1 from product p where p.id = product_id));
alter table plan enable row level security;
create policy plan_own on plan for all
    using (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)))
    with check (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)));
create policy plan_catalogue on plan for select
    using (state in ('published', 'deprecated') and exists (select 1 from product p where p.id = product_id));
alter table product_publish enable row level security;
create policy product_publish_own on product_publish for all
    using (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)))
    with check (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)));
create policy product_publish_catalogue on product_publish for select
    using (state = 'published' and exists (select 1 from product p where p.id = product_id));
alter table application enable row level security;
create policy application_tenant_rows on application
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
alter table subscription enable row level security;
create policy subscription_rows on subscription
    using (meshguard_row_visible(provider_tenant) or meshguard_row_visible(customer_tenant))
    with check (meshguard_row_visible(provider_tenant) or meshguard_row_visible(customer_tenant));
alter table credential enable row level security;
create policy credential_tenant_rows on credential
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
alter table credential_subscription enable row level security;
create policy credential_subscription_rows on credential_subscription
    using (exists (select 1 from credential c where c.kind = credential_subscription.kind
                   and c.id = credential_id))
    with check (exists (select 1 from credential c where c.kind = credential_subscription.kind
                        and c.id = credential_id));

-- Every change of what the subscription snapshot reads wakes the controllers that push it to extauthz: NOTIFY is
-- delivered at commit, in commit order, so a suspension is never missed the way a timestamp poll could miss it.
create function meshguard_catalog_changed() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_catalog', tg_table_name); return null; end $$;
create trigger product_publish_changed after insert or update or delete or truncate on product_publish
    for each statement execute function meshguard_catalog_changed();
create trigger plan_changed after insert or update or delete or truncate on plan
    for each statement execute function meshguard_catalog_changed();
create trigger application_changed after insert or update or delete or truncate on application
    for each statement execute function meshguard_catalog_changed();
create trigger subscription_changed after insert or update or delete or truncate on subscription
    for each statement execute function meshguard_catalog_changed();
create trigger credential_changed after insert or update or delete or truncate on credential
    for each statement execute function meshguard_catalog_changed();
create trigger credential_subscription_changed after insert or update or delete or truncate on credential_subscription
    for each statement execute function meshguard_catalog_changed();
/* [jooq ignore stop] */

-- ============================================================================================
-- quota tenant rows
-- ============================================================================================

-- Quota counters and their change history read and changed through the admin plane (/quotas on extauthz) by a
-- tenant-scoped caller: only the counters of that caller's tenants, enforced in PostgreSQL as for the tenant-owned
-- tables of V35, beside the admin API's own check. A counter's tenant follows from its caller key: 'tenant:T' is T's,
-- 'api_key:ID' is the tenant of that API key (read under api_keys' own policy, so only the caller's tenants' keys are
-- found); a key that records no tenant ('subject:...', 'sha256:...') is visible to system-scoped callers only.
-- The servers' role is not the scoped one, so counting (quota_usage upserts every second) is unchanged.
/* [jooq ignore start] */
create function meshguard_quota_caller_visible(caller varchar) returns boolean
    language sql stable
    as $$ select current_user <> 'meshguard_tenant_scoped'
              or (caller like 'tenant:%' and substr(caller, 8) = any (meshguard_scope_tenants()))
              or (caller like 'api_key:%' and exists (select 1 from api_keys k where k.key_id = substr(caller, 9))) $$;

grant execute on function meshguard_quota_caller_visible(varchar) to meshguard_tenant_scoped;
grant select, insert, update on quota_usage, quota_adjustment to meshguard_tenant_scoped;
grant usage on sequence quota_adjustment_id_seq to meshguard_tenant_scoped;

alter table quota_usage enable row level security;
create policy quota_usage_tenant_rows on quota_usage
    using (meshguard_quota_caller_visible(caller)) with check (meshguard_quota_caller_visible(caller));
alter table quota_adjustment enable row level security;
create policy quota_adjustment_tenant_rows on quota_adjustment
    using (meshguard_quota_caller_visible(caller)) with check (meshguard_quota_caller_visible(caller));
/* [jooq ignore stop] */

-- ============================================================================================
-- zone registration
-- ============================================================================================

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

-- ============================================================================================
-- zone stream
-- ============================================================================================

-- What central heard last from each cluster's zone (issue 28), written by whichever central replica holds the zone's
-- stream, so that /v1/operator/fleet answers the same from every replica. No stale flag is stored: staleness is
-- computed when read, from last_echo (a replica that died leaves connected = true and an ageing last_echo).
create table zone_stream (
    cluster_id      varchar(63)  not null,
    central_replica varchar(200) not null,
    connected       boolean      not null,
    since           timestamptz  not null,
    last_echo       timestamptz,
    applied         jsonb        not null default '{}',  -- group -> revision the zone applied
    refused         jsonb        not null default '{}',  -- group -> why the zone could not build a revision
    nodes           jsonb        not null default '[]',  -- the zone's node reports (contract NodeReport)
    drifted_nodes   integer      not null default 0,
    lag_ms          bigint       not null default 0,
    zone_version    varchar(100) not null default '',
    constraint zone_stream_pk primary key (cluster_id),
    constraint zone_stream_cluster_fk foreign key (cluster_id) references cluster (id) on delete cascade
);

-- ============================================================================================
-- separation of duties
-- ============================================================================================

-- Issue 42, who is a second person. A display name (preferred_username) can change or be missing, so people are
-- compared by their verified subject: "oidc <issuer> <sub>" (the token file's names for local and break-glass use).

-- A draft change stays authored until a decision serves it: a later revision (a rollback) no longer launders it.
alter table draft_author add column person varchar(1000);
alter table draft_author add column settled_at timestamptz;
-- changes made before this migration and served since count as settled, as the old rule ("since the group's last
-- revision") said
update draft_author d set settled_at = now()
 where exists (select 1 from config_revision r join gateway_group g on g.id = r.group_id
                where g.name = d.group_name and r.created_at > d.changed_at);
create index draft_author_open_idx on draft_author (group_name) where settled_at is null;

alter table publish_request add column requested_by_person varchar(1000);
alter table publish_request add column author_people varchar(1000) array not null default array[]::varchar(1000)[];
-- the newest draft_author row the request covers: an approval settles the changes up to it
alter table publish_request add column authors_through bigint not null default 0;

-- A manual subscription is approved by someone other than who asked for it.
alter table subscription add column requested_by_person varchar(1000);

-- A product publish to a protected group waits in a publish request and keeps its state until the approval; a
-- rejected or voided request leaves it where it was.
alter table product_publish add column pending_request bigint;
alter table product_publish add column pending_state varchar(16);

-- ============================================================================================
-- api key revocations
-- ============================================================================================

-- Issue 42, revocation that waits: every extauthz replica caches API key records (api_key_cache_ttl, 30 s by default).
-- A revocation, an expiry moved by a rotation, or a deleted key wakes every replica listening on meshguard_apikey,
-- which drops its cached records at once: whoever revoked it (admin API, CLI, SQL) and wherever the key is cached.
/* [jooq ignore start] */
create function meshguard_apikey_changed() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_apikey', old.key_id); return null; end $$;
create trigger api_keys_revoked after update on api_keys
    for each row
    when (old.revoked_at is distinct from new.revoked_at or old.expires_at is distinct from new.expires_at)
    execute function meshguard_apikey_changed();
create trigger api_keys_deleted after delete on api_keys
    for each row execute function meshguard_apikey_changed();
/* [jooq ignore stop] */

-- ============================================================================================
-- zone one stream
-- ============================================================================================

-- Issue 42, a credential that multiplies: one live zone stream per cluster. Each admitted hello takes the cluster's
-- stream (the epoch goes up, on whichever central replica it lands); a stream whose epoch is no longer the cluster's
-- closes on its next tick, so a copied credential cannot follow central beside the zone it was copied from.
alter table cluster add column zone_stream_epoch bigint not null default 0;

-- ============================================================================================
-- publish placement
-- ============================================================================================

-- Where a product may be published (issue 42): a provider's publish names a cluster and a gateway group, and may
-- target only a group an operator assigned to that cluster (cluster_group, V49) for the provider's tenant. The
-- tenants are the operator's data, set with the cluster (PUT /v1/operator/clusters/{id}, "gateway_groups"); a group
-- assigned with no tenant is served to the cluster's zone and takes no product publish.
alter table cluster_group add column publishing_tenants varchar(200) array not null default array[]::varchar(200)[];

/* [jooq ignore start] */
-- The catalogue's tenant-scoped transactions check a publish's placement: they read the assignments, never write them.
grant select on cluster_group to meshguard_tenant_scoped;
/* [jooq ignore stop] */

-- ============================================================================================
-- upstream host
-- ============================================================================================

-- The Host an Envoy gateway sends to an upstream (issue 41, R4-06): the backend Service's FQDN, emitted as the
-- route's host_rewrite_literal. An IP-literal (EDS) upstream inside the mesh needs it: the gateway's sidecar routes
-- outbound HTTP by Host, and the client's Host names no Service (plaintext PassthroughCluster, reset by a STRICT
-- backend). Null keeps the client's Host (DNS upstreams still get auto_host_rewrite).
alter table upstream add column host varchar(253);

-- ============================================================================================
-- admin trail anchor retention
-- ============================================================================================

-- Anchors only for months past retention (issue 42, "a trail that can be rewritten from inside the database").
-- admin_trail_drop_month now takes the retention and refuses the current month and every month within it, judged by
-- the database's own clock: a database operator can no longer use the project's function to cut recent rows under an
-- anchor. What a raw DROP/DELETE and a hand-written anchor do instead is caught by `meshguard audit verify`: an anchor
-- is vouched for only by the trail row that records it (action trail_retention, details anchor_seq and anchor_hash,
-- appended in the same transaction by AdminTrail.dropMonthWithin), and the signed checkpoints the controller writes
-- outside the database show which rows existed when (io.meshguard.audit.trail.TrailCheckpoint).
/* [jooq ignore start] */
drop function admin_trail_drop_month(date, varchar);

create function admin_trail_drop_month(month date, retention_months int, why varchar)
returns bigint
language plpgsql
as $$
declare
    part_name    text := format('admin_trail_%s', to_char(date_trunc('month', month), 'YYYY_MM'));
    oldest_kept  date := (date_trunc('month', now() at time zone 'UTC')
                          - make_interval(months => coalesce(retention_months, 0)))::date;
    last_seq     bigint;
    last_hash    varchar(64);
    row_count    bigint;
begin
    if retention_months is null or retention_months < 13 then
        raise exception 'admin_trail_drop_month: the retention is at least 13 months, got %', retention_months;
    end if;
    if month is null or date_trunc('month', month)::date >= oldest_kept then
        raise exception 'admin_trail_drop_month: % is within the retention of % months (months from % on are kept)',
            to_char(month, 'YYYY-MM'), retention_months, to_char(oldest_kept, 'YYYY-MM');
    end if;
    if to_regclass(part_name) is null then
        raise exception 'admin_trail_drop_month: no partition %', part_name;
    end if;
    perform 1 from admin_trail_head where id = 1 for update;
    execute format('select max(seq), count(*) from %I', part_name) into last_seq, row_count;
    if last_seq is not null then
        execute format('select row_hash from %I where seq = $1', part_name) into last_hash using last_seq;
        if exists (select 1 from admin_trail t where t.seq < last_seq
                   and t.tableoid <> to_regclass(part_name) and t.seq > coalesce(
                       (select max(up_to_seq) from admin_trail_anchor), 0)) then
            raise exception 'admin_trail_drop_month: rows before seq % are kept in other months; drop those months first', last_seq;
        end if;
        insert into admin_trail_anchor (up_to_seq, row_hash, reason) values (last_seq, last_hash, why)
            on conflict (up_to_seq) do nothing;
    end if;
    execute format('drop table %I', part_name);
    return row_count;
end;
$$;
/* [jooq ignore stop] */

-- ============================================================================================
-- zone replicas
-- ============================================================================================

-- Issue 41: a cluster runs more than one zone replica (the zone manifests ship a pair), and the fleet shows every one
-- of them with its own nodes. A replica is named by the zone in its hello (the pod name by default, zone.replica); each
-- registration token starts one replica's credential lineage, bound to that name.

-- The replica a credential belongs to: its lineage is (cluster, replica). Rows from before V67 say '' and are claimed
-- by the first hello that presents them (a zone upgraded in place keeps its lineage).
alter table zone_credential add column replica varchar(200) not null default '';
-- Set while the credential came from a token exchange that is not confirmed yet: the token is spent by the first hello
-- that presents this credential (the zone holds it), not by the exchange (whose answer a zone may never read).
alter table zone_credential add column pending_token_sha256 char(64);
create index zone_credential_pending_idx on zone_credential (pending_token_sha256)
    where pending_token_sha256 is not null;
-- Which replica spent a token (with used_at).
alter table zone_registration add column used_by_replica varchar(200);

-- One live stream per replica (was per cluster, V63): each admitted hello of a replica takes its stream; a stream whose
-- epoch is no longer its replica's closes on its next tick, on whichever central replica it runs.
create table zone_replica (
    cluster_id    varchar(63)  not null,
    replica       varchar(200) not null,
    stream_epoch  bigint       not null default 0,
    constraint zone_replica_pk primary key (cluster_id, replica),
    constraint zone_replica_cluster_fk foreign key (cluster_id) references cluster (id) on delete cascade
);
alter table cluster drop column zone_stream_epoch;

-- The fleet keeps one row per zone replica, not one per cluster.
alter table zone_stream add column replica varchar(200) not null default '';
-- (jOOQ's DDL parser, H2, cannot swap a primary key; nothing reads zone_stream through jOOQ)
/* [jooq ignore start] */
alter table zone_stream drop constraint zone_stream_pk;
alter table zone_stream add constraint zone_stream_pk primary key (cluster_id, replica);
/* [jooq ignore stop] */

-- ============================================================================================
-- subscription usage index
-- ============================================================================================

-- A subscription's usage is counted from the decisions extauthz made on it (details.subscription, written since
-- this release): one index lookup per subscription and time window, instead of a scan of every decision on the
-- product publish. Created on the parent, so every partition gets it.
/* [jooq ignore start] */
create index audit_event_subscription_time_idx on audit_event ((details ->> 'subscription'), occurred_at)
    where kind = 'authz_decision';
/* [jooq ignore stop] */

-- ============================================================================================
-- policy requests
-- ============================================================================================

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

-- ============================================================================================
-- publish request report
-- ============================================================================================

-- Four eyes on gateway publishes carries a replay report (issue 47), as a policy request does (V69): the protected
-- group's recorded decisions decided as the requested revision would route them. A request cannot be approved
-- without a report computed after it was requested.
alter table publish_request
    add column report             jsonb,
    add column report_from        timestamptz,
    add column report_to          timestamptz,
    add column report_computed_at timestamptz;

-- ============================================================================================
-- plan change requests
-- ============================================================================================

-- Four eyes on a plan's limits (issue 47): changing the rate limits, calendar quota or per-operation limits of a plan
-- that has live subscriptions, or whose product is published, is a plan-change request carrying exactly the limits
-- asked for and the replay report of the plan's recorded decisions against them (which calls would now be refused
-- with 429, or no longer be). A second person who did not ask for it approves or rejects it; the limits change only at
-- the approval, in the same transaction that closes the request.
create table plan_change_request (
    id                       bigint        generated always as identity,
    plan_id                  varchar(100)  not null,
    -- the plan's product's tenant: row-level security shows a request to that tenant only
    tenant                   varchar(200)  not null,
    state                    varchar(16)   not null default 'pending',
    requested_by             varchar(400)  not null,
    requested_by_person      varchar(1000) not null,
    requested_at             timestamptz   not null default now(),
    reason                   varchar(1000) not null,
    -- the limits in force when requested, and exactly the limits asked for (catalog PlanLimitsJson)
    limits_before            jsonb         not null,
    operation_limits_before  jsonb         not null,
    limits                   jsonb         not null,
    operation_limits         jsonb         not null,
    -- the replay report on exactly these limits: counts, flip groups with sample request ids, reasons; when computed
    report                   jsonb,
    report_computed_at       timestamptz,
    decided_by               varchar(400),
    decided_at               timestamptz,
    decision_reason          varchar(1000),
    constraint plan_change_request_pk primary key (id),
    constraint plan_change_request_plan_fk foreign key (plan_id) references plan (id) on delete cascade,
    constraint plan_change_request_tenant_fk foreign key (tenant) references tenant (id),
    constraint plan_change_request_state_check check (state in ('pending', 'approved', 'rejected', 'voided')),
    constraint plan_change_request_decided_check check ((state = 'pending') = (decided_by is null))
);
-- one open request per plan: a newer request voids the older one
create unique index plan_change_request_one_pending on plan_change_request (plan_id) where state = 'pending';
create index plan_change_request_tenant_idx on plan_change_request (tenant, requested_at desc);

/* [jooq ignore start] */
grant select, insert, update on plan_change_request to meshguard_tenant_scoped;
alter table plan_change_request enable row level security;
create policy plan_change_request_tenant_rows on plan_change_request for all
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
/* [jooq ignore stop] */

-- ============================================================================================
-- catalog change tenant
-- ============================================================================================

-- Subscription state as deltas (issue 48): a catalogue change notifies the tenant whose contribution to the
-- subscription state it changed, so the controller rereads that tenant's rows only, not the whole catalogue. The
-- triggers of V43 fired once per statement with the table's name; these fire once per row with the tenant
-- (PostgreSQL folds identical payloads of one transaction into one notification, so a bulk change of one tenant
-- still notifies once). A publish or plan belongs to its product's tenant (the provider), an application, credential
-- or subscription to its customer's; "*" (a TRUNCATE, a row whose owner is already gone) rereads everything.

/* [jooq ignore start] */
drop trigger product_publish_changed on product_publish;
drop trigger plan_changed on plan;
drop trigger application_changed on application;
drop trigger subscription_changed on subscription;
drop trigger credential_changed on credential;
drop trigger credential_subscription_changed on credential_subscription;

create function meshguard_catalog_tenant_changed() returns trigger
    language plpgsql
    as $$
declare
    r record;
    owner varchar;
begin
    if tg_op = 'DELETE' then
        r := old;
    else
        r := new;
    end if;
    -- one branch per table: plpgsql prepares a statement when it first runs it, so each names only its own columns
    if tg_table_name in ('product_publish', 'plan') then
        select p.tenant into owner from product p where p.id = r.product_id;
    elsif tg_table_name = 'subscription' then
        owner := r.customer_tenant;
        if tg_op = 'UPDATE' and old.customer_tenant <> new.customer_tenant then
            perform pg_notify('meshguard_catalog', old.customer_tenant);
        end if;
    elsif tg_table_name = 'credential_subscription' then
        select c.tenant into owner from credential c where c.kind = r.kind and c.id = r.credential_id;
    else
        owner := r.tenant;
        if tg_op = 'UPDATE' and old.tenant <> new.tenant then
            perform pg_notify('meshguard_catalog', old.tenant);
        end if;
    end if;
    perform pg_notify('meshguard_catalog', coalesce(owner, '*'));
    return null;
end $$;

create function meshguard_catalog_truncated() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_catalog', '*'); return null; end $$;

create trigger product_publish_changed after insert or update or delete on product_publish
    for each row execute function meshguard_catalog_tenant_changed();
create trigger plan_changed after insert or update or delete on plan
    for each row execute function meshguard_catalog_tenant_changed();
create trigger application_changed after insert or update or delete on application
    for each row execute function meshguard_catalog_tenant_changed();
create trigger subscription_changed after insert or update or delete on subscription
    for each row execute function meshguard_catalog_tenant_changed();
create trigger credential_changed after insert or update or delete on credential
    for each row execute function meshguard_catalog_tenant_changed();
create trigger credential_subscription_changed after insert or update or delete on credential_subscription
    for each row execute function meshguard_catalog_tenant_changed();

create trigger product_publish_truncated after truncate on product_publish
    for each statement execute function meshguard_catalog_truncated();
create trigger plan_truncated after truncate on plan
    for each statement execute function meshguard_catalog_truncated();
create trigger application_truncated after truncate on application
    for each statement execute function meshguard_catalog_truncated();
create trigger subscription_truncated after truncate on subscription
    for each statement execute function meshguard_catalog_truncated();
create trigger credential_truncated after truncate on credential
    for each statement execute function meshguard_catalog_truncated();
create trigger credential_subscription_truncated after truncate on credential_subscription
    for each statement execute function meshguard_catalog_truncated();
/* [jooq ignore stop] */

-- ============================================================================================
-- gateway group template kind
-- ============================================================================================

-- Which data plane serves a gateway group (issue 49, docs/envoy-gateway.md): 'meshguard' (its own Envoy gateway over
-- ADS) or 'envoy-gateway' (Gateway API and Envoy Gateway resources, checked against the bundled CRDs on every publish,
-- MG-GROUP-006). Stored data, changed through PUT /groups/{name}/template (permission group:template) and published with
-- the group's revision; it replaces the deployment setting xds.envoy_gateway.groups, which no release carried.
alter table gateway_group add column template_kind varchar(32) not null default 'meshguard';
alter table gateway_group add constraint gateway_group_template_kind_check
    check (template_kind in ('meshguard', 'envoy-gateway'));

-- ============================================================================================
-- draft generation
-- ============================================================================================

-- Issue 48: what a publish costs should follow the change, not the configuration.

-- A revision's content is written on every publish and read back whole; inside PostgreSQL only the usage report
-- reads into it (with a cast). jsonb parses and rebuilds the document on insert, ~25 ms of a 2,000-route publish;
-- json checks that it parses and keeps the controller's text.
alter table config_revision alter column content type json;

-- The draft's generation: one row, moved by every statement that changes a draft table, in that statement's
-- transaction. A controller that read the draft at generation n reads it again only when the generation is not n
-- (PgGatewayStore), so an unchanged draft is not read whole on every publish. A trigger, not the controller, moves
-- it: a tenant's scoped transaction, another replica or an operator's SQL are all seen.
create table draft_generation (
    id smallint not null default 1,
    n  bigint   not null default 0,
    constraint draft_generation_pk primary key (id),
    constraint draft_generation_one_row check (id = 1)
);
insert into draft_generation (id, n) values (1, 0);

/* [jooq ignore start] */
create function draft_generation_bump() returns trigger
    language plpgsql
    as $$
begin
    update draft_generation set n = n + 1 where id = 1;
    return null;
end
$$;

do $$
declare
    draft_table text;
begin
    foreach draft_table in array array['gateway_group', 'api', 'api_version', 'upstream', 'upstream_endpoint', 'route',
                                       'route_destination'] loop
        execute format('create trigger %I after insert or update or delete or truncate on %I'
                       ' for each statement execute function draft_generation_bump()',
                       draft_table || '_draft_generation', draft_table);
    end loop;
end
$$;

-- a tenant's scoped transaction changes draft rows, so its statements move the generation too
grant select, update on draft_generation to meshguard_tenant_scoped;
/* [jooq ignore stop] */

-- ============================================================================================
-- revision parts
-- ============================================================================================

-- Issue 48: a revision's cost should follow the change. A one-route publish of a 2,000-route group wrote the group's
-- whole ~1 MB document (its JSON parse, pglz compression and WAL on every publish). A revision now keeps its groups
-- and APIs in content and names its upstreams and routes by digest, each part stored once and shared by every
-- revision that holds it: a publish writes the parts it changed and a 32-byte digest for each unchanged one. Revisions written
-- before keep everything in content (both arrays null); the usage report reads content's APIs, which stay there.

-- All of it is outside jOOQ's generated schema (its H2-backed parser indexes no bytea); only PgRevisionStore uses it.
/* [jooq ignore start] */

create table config_revision_part (
    digest  bytea not null,
    content json  not null,
    constraint config_revision_part_pk primary key (digest)
);

alter table config_revision add column upstream_parts bytea[];
alter table config_revision add column route_parts bytea[];

-- content-addressed: the digest is the SHA-256 of the stored text, checked by PostgreSQL, not trusted from a writer
alter table config_revision_part add constraint config_revision_part_digest
    check (digest = sha256(convert_to(content::text, 'UTF8')));

create function config_revision_part_refuse_change() returns trigger
language plpgsql
as $$
begin
    raise exception 'config_revision_part is immutable: revisions share it'
        using errcode = 'restrict_violation';
end;
$$;

create trigger config_revision_part_immutable
    before update or delete on config_revision_part
    for each row execute function config_revision_part_refuse_change();

-- a revision names only parts that are stored (written before it, in its own transaction or an earlier one)
create function config_revision_parts_exist() returns trigger
language plpgsql
as $$
declare
    missing bigint;
begin
    if new.upstream_parts is null and new.route_parts is null then
        return new;
    end if;
    if new.upstream_parts is null or new.route_parts is null then
        raise exception 'config_revision: upstream_parts and route_parts are both set or both null'
            using errcode = 'check_violation';
    end if;
    select count(*) into missing
      from unnest(new.upstream_parts || new.route_parts) as d(digest)
     where not exists (select 1 from config_revision_part p where p.digest = d.digest);
    if missing > 0 then
        raise exception 'config_revision names % part(s) that are not stored', missing
            using errcode = 'foreign_key_violation';
    end if;
    return new;
end;
$$;

create trigger config_revision_parts_exist
    before insert on config_revision
    for each row execute function config_revision_parts_exist();

/* [jooq ignore stop] */

-- ============================================================================================
-- revision seal lookup
-- ============================================================================================

-- A revision read for serving looks up the seal its storing transaction recorded in the admin trail
-- (action 'revision-stored', target 'revision/ID'): one index probe per partition, not a scan of the trail.
/* [jooq ignore start] */
create index admin_trail_revision_seal_idx on admin_trail (target) where action = 'revision-stored';
/* [jooq ignore stop] */

-- ============================================================================================
-- revision chunks
-- ============================================================================================

-- A revision names its parts through chunks (issue 48): a run of part digests stored once under the SHA-256 of
-- their concatenation, shared by every revision that holds the same run. Chunk boundaries depend on the digests
-- alone (after a part whose digest's first byte has its low five bits set, or after 128 parts), so a one-route change
-- writes the one or two chunks around it and a row of ~1/32 as many chunk digests, not every part's digest.
-- Revisions written before keep upstream_parts / route_parts (or their whole content) and are read as they are.
/* [jooq ignore start] */

create function config_revision_chunk_digest(parts bytea[]) returns bytea
language sql immutable strict
as $$
    select sha256(coalesce(string_agg(p, ''::bytea order by n), ''::bytea))
      from unnest(parts) with ordinality as u(p, n)
$$;

create table config_revision_chunk (
    digest bytea   not null,
    parts  bytea[] not null,
    constraint config_revision_chunk_pk primary key (digest),
    constraint config_revision_chunk_digest check (digest = config_revision_chunk_digest(parts))
);

create function config_revision_chunk_refuse_change() returns trigger
language plpgsql
as $$
begin
    raise exception 'config_revision_chunk is immutable: revisions share it'
        using errcode = 'restrict_violation';
end;
$$;

create trigger config_revision_chunk_immutable
    before update or delete on config_revision_chunk
    for each row execute function config_revision_chunk_refuse_change();

create function config_revision_chunk_parts_exist() returns trigger
language plpgsql
as $$
declare
    missing bigint;
begin
    select count(*) into missing
      from unnest(new.parts) as d(digest)
     where not exists (select 1 from config_revision_part p where p.digest = d.digest);
    if missing > 0 then
        raise exception 'config_revision_chunk names % part(s) that are not stored', missing
            using errcode = 'foreign_key_violation';
    end if;
    return new;
end;
$$;

create trigger config_revision_chunk_parts_exist
    before insert on config_revision_chunk
    for each row execute function config_revision_chunk_parts_exist();

alter table config_revision add column upstream_chunks bytea[];
alter table config_revision add column route_chunks bytea[];

-- one way to name parts per revision: digests, chunks, or neither (the whole content)
create or replace function config_revision_parts_exist() returns trigger
language plpgsql
as $$
declare
    missing bigint;
begin
    if (new.upstream_parts is null) <> (new.route_parts is null)
        or (new.upstream_chunks is null) <> (new.route_chunks is null)
        or (new.upstream_parts is not null and new.upstream_chunks is not null) then
        raise exception 'config_revision: name parts by upstream_parts and route_parts, or by upstream_chunks and'
                        ' route_chunks, or neither'
            using errcode = 'check_violation';
    end if;
    if new.upstream_parts is not null then
        select count(*) into missing
          from unnest(new.upstream_parts || new.route_parts) as d(digest)
         where not exists (select 1 from config_revision_part p where p.digest = d.digest);
    elsif new.upstream_chunks is not null then
        select count(*) into missing
          from unnest(new.upstream_chunks || new.route_chunks) as d(digest)
         where not exists (select 1 from config_revision_chunk k where k.digest = d.digest);
    else
        return new;
    end if;
    if missing > 0 then
        raise exception 'config_revision names % part(s) or chunk(s) that are not stored', missing
            using errcode = 'foreign_key_violation';
    end if;
    return new;
end;
$$;

/* [jooq ignore stop] */

-- ============================================================================================
-- revision api parts
-- ============================================================================================

-- Issue 48: a revision's APIs become parts too. The row kept its group's APIs in content (the usage report read them
-- there), so a one-route publish of a 2,000-route group wrote, logged and hashed its 200 APIs' JSON again: about 1 ms
-- of a revision's 1.4 ms growth from 200 to 2,000 routes (RevisionStoreBench). Now content holds the group alone and
-- api_chunks names the APIs as upstream_chunks and route_chunks name theirs; the revision's seal covers the API
-- digests too. Revisions written before keep their APIs in content (api_chunks null) and are read and sealed as they
-- were.
/* [jooq ignore start] */

alter table config_revision add column api_chunks bytea[];

create or replace function config_revision_parts_exist() returns trigger
language plpgsql
as $$
declare
    missing bigint;
begin
    if (new.upstream_parts is null) <> (new.route_parts is null)
        or (new.upstream_chunks is null) <> (new.route_chunks is null)
        or (new.upstream_parts is not null and new.upstream_chunks is not null)
        or (new.api_chunks is not null and new.upstream_chunks is null) then
        raise exception 'config_revision: name parts by upstream_parts and route_parts, or by upstream_chunks and'
                        ' route_chunks (and api_chunks), or neither'
            using errcode = 'check_violation';
    end if;
    if new.upstream_parts is not null then
        select count(*) into missing
          from unnest(new.upstream_parts || new.route_parts) as d(digest)
         where not exists (select 1 from config_revision_part p where p.digest = d.digest);
    elsif new.upstream_chunks is not null then
        select count(*) into missing
          from unnest(new.upstream_chunks || new.route_chunks || coalesce(new.api_chunks, array[]::bytea[])) as d(digest)
         where not exists (select 1 from config_revision_chunk k where k.digest = d.digest);
    else
        return new;
    end if;
    if missing > 0 then
        raise exception 'config_revision names % part(s) or chunk(s) that are not stored', missing
            using errcode = 'foreign_key_violation';
    end if;
    return new;
end;
$$;

/* [jooq ignore stop] */

-- ============================================================================================
-- api key created notify
-- ============================================================================================

-- Made-up API keys cost the key store nothing: every extauthz replica keeps the ids of the keys that exist
-- (KnownApiKeyIds) and reads PostgreSQL only for a presented id it knows, or, within apikey.unlisted_reads_per_second,
-- for one it does not know yet. A new key reaches every replica's ids when its transaction commits, whoever inserted
-- it (admin API, portal, CLI, SQL): on V62's channel meshguard_apikey, which each replica already listens to, with the
-- payload 'created:<key id>' (ApiKeyNotices.CREATED reads it) so that, unlike V62's notices (the bare id), it drops
-- no cached key record.
/* [jooq ignore start] */
create function meshguard_apikey_created() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_apikey', 'created:' || new.key_id); return null; end $$;
create trigger api_keys_created after insert on api_keys
    for each row execute function meshguard_apikey_created();
/* [jooq ignore stop] */
