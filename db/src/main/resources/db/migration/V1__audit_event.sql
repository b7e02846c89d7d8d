-- Audit log: one table for every audit record meshguard writes, partitioned by month on the event time.
--
-- The writer generates event_id (UUIDv7, time-ordered) and inserts with ON CONFLICT DO NOTHING on the
-- primary key, so replaying its on-disk spool never duplicates a row. A partitioned table's primary key
-- must contain the partition key, hence (occurred_at, event_id).
--
-- Sections between [jooq ignore start] and [jooq ignore stop] are PostgreSQL-only DDL that jOOQ's
-- DDLDatabase (code generation without a database) cannot parse; Flyway runs them as they are.

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
