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
