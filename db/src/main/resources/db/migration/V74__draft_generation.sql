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
