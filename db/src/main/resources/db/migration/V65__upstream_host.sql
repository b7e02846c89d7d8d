-- The Host an Envoy gateway sends to an upstream (issue 41, R4-06): the backend Service's FQDN, emitted as the
-- route's host_rewrite_literal. An IP-literal (EDS) upstream inside the mesh needs it: the gateway's sidecar routes
-- outbound HTTP by Host, and the client's Host names no Service (plaintext PassthroughCluster, reset by a STRICT
-- backend). Null keeps the client's Host (DNS upstreams still get auto_host_rewrite).
alter table upstream add column host varchar(253);
