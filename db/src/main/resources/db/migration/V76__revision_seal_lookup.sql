-- A revision read for serving looks up the seal its storing transaction recorded in the admin trail
-- (action 'revision-stored', target 'revision/ID'): one index probe per partition, not a scan of the trail.
/* [jooq ignore start] */
create index admin_trail_revision_seal_idx on admin_trail (target) where action = 'revision-stored';
/* [jooq ignore stop] */
