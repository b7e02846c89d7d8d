-- Audit events read through the admin plane (GET /audit/events, GET /audit/export) by a tenant-scoped caller: only
-- rows of that caller's tenants, enforced in PostgreSQL as for the tenant-owned tables of V35. The data plane's rows
-- (authz_decision, api_call, dlp_finding) carry the tenant extauthz resolved for the request; a row without a tenant
-- (config_change of the controller, events before tenants) is visible to system-scoped callers only.
-- Writers are not the scoped role, so meshguard_row_visible lets them through unchanged; the policy is on the
-- partitioned parent, the only relation the scoped role may read (no grant on a partition).
/* [jooq ignore start] */
grant select on audit_event to meshguard_tenant_scoped;
alter table audit_event enable row level security;
create policy audit_event_tenant_rows on audit_event
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
/* [jooq ignore stop] */
