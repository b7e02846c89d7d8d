-- Which Kubernetes namespaces a tenant's upstreams may name Services in, per gateway group a cluster serves: the
-- operators' data, set with the group's publishing tenants (PUT /v1/operator/clusters/{id}, "service_namespaces":
-- {"group": {"tenant": ["namespace", ...]}}). A tenant's upstream naming `<svc>.<ns>` or `<svc>.<ns>.svc[...]` is
-- refused unless every cluster serving the route's group assigned <ns> to the upstream's tenant there; operators'
-- own upstreams are theirs to point anywhere their validation allows.
alter table cluster_group add column service_namespaces jsonb not null default '{}'::jsonb;
alter table cluster_group add constraint cluster_group_service_namespaces_object
    check (jsonb_typeof(service_namespaces) = 'object');
