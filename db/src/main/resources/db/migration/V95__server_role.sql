-- The servers' role: data, never schema. meshguard_server (nologin) may read and write rows of every table of the
-- schema and of every table later migrations create, switch to meshguard_tenant_scoped, and call the functions that
-- create and drop monthly partitions. It may not create, alter or drop anything: the functions that do (partitions
-- ahead, retention) run with their owner's rights (security definer) and a fixed search_path, so a server whose login
-- role is a member of meshguard_server keeps partition maintenance and retention working without owning a table.
-- The migrations keep running as the schema owner, in the migrate Job only (docs/install.md, section 3).
--
-- Roles are cluster-wide: created once, by a migration role allowed to (otherwise a DBA creates it first and grants it
-- to the owner with admin option, docs/install.md), like meshguard_tenant_scoped in V35.
/* [jooq ignore start] */
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'meshguard_server') then
        begin
            create role meshguard_server nologin;
        exception when duplicate_object then
            null; -- another database of this cluster migrated at the same moment
        end;
    end if;
end
$$;

do $$
declare
    s text := quote_ident(current_schema());
begin
    execute format('grant usage on schema %s to meshguard_server', s);
    execute format('grant select, insert, update, delete on all tables in schema %s to meshguard_server', s);
    execute format('grant usage, select, update on all sequences in schema %s to meshguard_server', s);
    -- Tables and sequences the owner creates later (new migrations, new monthly partitions) get the same grants.
    execute format('alter default privileges in schema %s grant select, insert, update, delete on tables to meshguard_server', s);
    execute format('alter default privileges in schema %s grant usage, select, update on sequences to meshguard_server', s);
    -- The schema history is the owner's: servers read it (is the schema current?) and never write it.
    if to_regclass(format('%s.flyway_schema_history', s)) is not null then
        execute format('revoke insert, update, delete on %s.flyway_schema_history from meshguard_server', s);
    end if;
end
$$;

-- The admin plane switches to the tenant-scoped role per transaction (V35); the servers' role must be able to.
grant meshguard_tenant_scoped to meshguard_server;

-- Retention of audit_event by month, as the owner: refuses a month a legal hold covers and anything that is not one
-- of audit_event's monthly partitions. Returns whether it dropped the partition (false: held, or no such partition).
create function audit_drop_month(month date)
returns boolean
language plpgsql
as $$
declare
    part_name text;
    part      regclass;
begin
    if month is null then
        raise exception 'audit_drop_month: a month is required';
    end if;
    part_name := format('audit_event_%s', to_char(date_trunc('month', month), 'YYYY_MM'));
    if exists (select 1 from audit_legal_hold h
                where date_trunc('month', month)::date between h.from_month and h.to_month) then
        return false;
    end if;
    part := to_regclass(part_name);
    if part is null then
        return false;
    end if;
    if not exists (select 1 from pg_inherits where inhrelid = part and inhparent = 'audit_event'::regclass) then
        raise exception 'audit_drop_month: % is not a partition of audit_event', part_name;
    end if;
    -- Detach first: the drop then touches no lock on the parent that inserts need.
    execute format('alter table audit_event detach partition %I', part_name);
    execute format('drop table %I', part_name);
    return true;
end;
$$;

do $$
declare
    s text := quote_ident(current_schema());
    f text;
begin
    foreach f in array array['audit_ensure_partitions(date, int)', 'admin_trail_ensure_partitions(date, int)',
                             'admin_trail_drop_month(date, int, varchar)', 'audit_drop_month(date)'] loop
        execute format('alter function %s.%s security definer', s, f);
        -- A security definer function resolves names only in the schema and pg_temp last, so a caller cannot shadow
        -- audit_event or admin_trail with objects of its own.
        execute format('alter function %s.%s set search_path = %s, pg_temp', s, f, s);
        execute format('revoke execute on function %s.%s from public', s, f);
        execute format('grant execute on function %s.%s to meshguard_server', s, f);
    end loop;
end
$$;
/* [jooq ignore stop] */
