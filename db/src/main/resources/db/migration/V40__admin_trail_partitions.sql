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
