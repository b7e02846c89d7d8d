-- Which data plane serves a gateway group (issue 49, docs/envoy-gateway.md): 'meshguard' (its own Envoy gateway over
-- ADS) or 'envoy-gateway' (Gateway API and Envoy Gateway resources, checked against the bundled CRDs on every publish,
-- MG-GROUP-006). Stored data, changed through PUT /groups/{name}/template (permission group:template) and published with
-- the group's revision; it replaces the deployment setting xds.envoy_gateway.groups, which no release carried.
alter table gateway_group add column template_kind varchar(32) not null default 'meshguard';
alter table gateway_group add constraint gateway_group_template_kind_check
    check (template_kind in ('meshguard', 'envoy-gateway'));
