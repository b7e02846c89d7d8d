-- A canary reads its evidence back through the admin plane's GET /audit/events?trace_id=, which looks rows up by their W3C
-- trace id; without an index each lookup read every row of the time window. Only rows that carry a trace id are
-- indexed (the lookup is an equality, so it never wants the others). Created on the parent, so every partition, and
-- each monthly partition the maintenance job attaches later, gets it.
/* [jooq ignore start] */
create index audit_event_trace_id_time_idx on audit_event (trace_id, occurred_at) where trace_id is not null;
/* [jooq ignore stop] */
