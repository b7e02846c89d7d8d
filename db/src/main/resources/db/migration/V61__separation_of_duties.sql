-- Issue 42, who is a second person. A display name (preferred_username) can change or be missing, so people are
-- compared by their verified subject: "oidc <issuer> <sub>" (the token file's names for local and break-glass use).

-- A draft change stays authored until a decision serves it: a later revision (a rollback) no longer launders it.
alter table draft_author add column person varchar(1000);
alter table draft_author add column settled_at timestamptz;
-- changes made before this migration and served since count as settled, as the old rule ("since the group's last
-- revision") said
update draft_author d set settled_at = now()
 where exists (select 1 from config_revision r join gateway_group g on g.id = r.group_id
                where g.name = d.group_name and r.created_at > d.changed_at);
create index draft_author_open_idx on draft_author (group_name) where settled_at is null;

alter table publish_request add column requested_by_person varchar(1000);
alter table publish_request add column author_people varchar(1000) array not null default array[]::varchar(1000)[];
-- the newest draft_author row the request covers: an approval settles the changes up to it
alter table publish_request add column authors_through bigint not null default 0;

-- A manual subscription is approved by someone other than who asked for it.
alter table subscription add column requested_by_person varchar(1000);

-- A product publish to a protected group waits in a publish request and keeps its state until the approval; a
-- rejected or voided request leaves it where it was.
alter table product_publish add column pending_request bigint;
alter table product_publish add column pending_state varchar(16);
