-- The first script of the history 1.0 folded into V1__baseline.sql, as a pre-1.0 build recorded it: a database
-- migrated by such a build has this description at version 1.
create table audit_event (event_id uuid not null);
