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
