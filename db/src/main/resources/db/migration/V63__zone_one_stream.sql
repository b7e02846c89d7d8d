-- Issue 42, a credential that multiplies: one live zone stream per cluster. Each admitted hello takes the cluster's
-- stream (the epoch goes up, on whichever central replica it lands); a stream whose epoch is no longer the cluster's
-- closes on its next tick, so a copied credential cannot follow central beside the zone it was copied from.
alter table cluster add column zone_stream_epoch bigint not null default 0;
