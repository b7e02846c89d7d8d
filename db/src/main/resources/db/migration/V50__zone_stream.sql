-- What central heard last from each cluster's zone (issue 28), written by whichever central replica holds the zone's
-- stream, so that /v1/operator/fleet answers the same from every replica. No stale flag is stored: staleness is
-- computed when read, from last_echo (a replica that died leaves connected = true and an ageing last_echo).
create table zone_stream (
    cluster_id      varchar(63)  not null,
    central_replica varchar(200) not null,
    connected       boolean      not null,
    since           timestamptz  not null,
    last_echo       timestamptz,
    applied         jsonb        not null default '{}',  -- group -> revision the zone applied
    refused         jsonb        not null default '{}',  -- group -> why the zone could not build a revision
    nodes           jsonb        not null default '[]',  -- the zone's node reports (contract NodeReport)
    drifted_nodes   integer      not null default 0,
    lag_ms          bigint       not null default 0,
    zone_version    varchar(100) not null default '',
    constraint zone_stream_pk primary key (cluster_id),
    constraint zone_stream_cluster_fk foreign key (cluster_id) references cluster (id) on delete cascade
);
