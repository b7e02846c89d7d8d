-- An application's name is what the console's and the portal's dropdowns show, so two applications of one tenant
-- must not share it (compared without regard to case, as people read names). Rows that already share one keep the
-- oldest as it is and number the others by creation order, "Shop (2)", "Shop (3)", skipping a number another
-- application already carries, so the unique index below can be built on any existing database.
/* [jooq ignore start] */
do $$
declare
    r         record;
    n         integer;
    candidate varchar(200);
begin
    for r in
        select id, tenant, name
          from (select id, tenant, name,
                       row_number() over (partition by tenant, lower(name) order by created_at, id) as position
                  from application) ranked
         where position > 1
         order by tenant, lower(name), position
    loop
        n := 2;
        loop
            candidate := left(r.name, 200 - length(' (' || n || ')')) || ' (' || n || ')';
            exit when not exists (
                select 1 from application where tenant = r.tenant and lower(name) = lower(candidate));
            n := n + 1;
        end loop;
        update application set name = candidate where id = r.id;
    end loop;
end
$$;

create unique index application_name_uk on application (tenant, lower(name));
/* [jooq ignore stop] */
