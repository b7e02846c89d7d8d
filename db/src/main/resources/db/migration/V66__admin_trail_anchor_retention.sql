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
