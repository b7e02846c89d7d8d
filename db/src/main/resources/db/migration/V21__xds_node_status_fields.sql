-- xds-controller: what /fleet shows besides V2's ACK/NACK columns.

-- Open ADS streams of the node (grpc-java opens one per xds:/// target).
alter table node_status add column streams integer not null default 0;
alter table node_status add column user_agent varchar(256);
-- The revision whose versions the node has ACKed for every type it subscribes to.
alter table node_status add column revision_id bigint;
-- The controller replica the node is connected to.
alter table node_status add column controller varchar(256);
