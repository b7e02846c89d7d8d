-- Where a product may be published (issue 42): a provider's publish names a cluster and a gateway group, and may
-- target only a group an operator assigned to that cluster (cluster_group, V49) for the provider's tenant. The
-- tenants are the operator's data, set with the cluster (PUT /v1/operator/clusters/{id}, "gateway_groups"); a group
-- assigned with no tenant is served to the cluster's zone and takes no product publish.
alter table cluster_group add column publishing_tenants varchar(200) array not null default array[]::varchar(200)[];

/* [jooq ignore start] */
-- The catalogue's tenant-scoped transactions check a publish's placement: they read the assignments, never write them.
grant select on cluster_group to meshguard_tenant_scoped;
/* [jooq ignore stop] */
