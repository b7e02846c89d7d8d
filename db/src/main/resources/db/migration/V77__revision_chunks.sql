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
