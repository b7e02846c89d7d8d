-- Issue 41: a cluster runs more than one zone replica (the zone manifests ship a pair), and the fleet shows every one
-- of them with its own nodes. A replica is named by the zone in its hello (the pod name by default, zone.replica); each
-- registration token starts one replica's credential lineage, bound to that name.

-- The replica a credential belongs to: its lineage is (cluster, replica). Rows from before V67 say '' and are claimed
-- by the first hello that presents them (a zone upgraded in place keeps its lineage).
alter table zone_credential add column replica varchar(200) not null default '';
-- Set while the credential came from a token exchange that is not confirmed yet: the token is spent by the first hello
-- that presents this credential (the zone holds it), not by the exchange (whose answer a zone may never read).
alter table zone_credential add column pending_token_sha256 char(64);
create index zone_credential_pending_idx on zone_credential (pending_token_sha256)
    where pending_token_sha256 is not null;
-- Which replica spent a token (with used_at).
alter table zone_registration add column used_by_replica varchar(200);

-- One live stream per replica (was per cluster, V63): each admitted hello of a replica takes its stream; a stream whose
-- epoch is no longer its replica's closes on its next tick, on whichever central replica it runs.
create table zone_replica (
    cluster_id    varchar(63)  not null,
    replica       varchar(200) not null,
    stream_epoch  bigint       not null default 0,
    constraint zone_replica_pk primary key (cluster_id, replica),
    constraint zone_replica_cluster_fk foreign key (cluster_id) references cluster (id) on delete cascade
);
alter table cluster drop column zone_stream_epoch;

-- The fleet keeps one row per zone replica, not one per cluster.
alter table zone_stream add column replica varchar(200) not null default '';
-- (jOOQ's DDL parser, H2, cannot swap a primary key; nothing reads zone_stream through jOOQ)
/* [jooq ignore start] */
alter table zone_stream drop constraint zone_stream_pk;
alter table zone_stream add constraint zone_stream_pk primary key (cluster_id, replica);
/* [jooq ignore stop] */
