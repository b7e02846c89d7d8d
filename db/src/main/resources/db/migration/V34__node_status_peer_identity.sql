-- A node in /fleet is its verified peer identity (the SPIFFE ID of its ADS stream, or the local-development marker)
-- plus the node id it sent: node ids are self-asserted, so a stranger sending a real gateway's node id gets a row of
-- its own and can no longer overwrite the real gateway's status. Rows from before have the empty identity.
alter table node_status add column peer_identity varchar(512) not null default '';
alter table node_status drop constraint node_status_pk;
alter table node_status add constraint node_status_pk primary key (peer_identity, node_id);

-- An upstream endpoint at a loopback, link-local, metadata or unspecified address, or on a sidecar/admin port, is
-- refused unless the upstream lists an exception naming that exact address and port with a reason (reviewed and
-- audited with the publish): [{"address": "127.0.0.1", "port": 18081, "reason": "..."}].
alter table upstream add column address_exceptions jsonb not null default '[]'::jsonb;
