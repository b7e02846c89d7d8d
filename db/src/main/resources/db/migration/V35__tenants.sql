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
