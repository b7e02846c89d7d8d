-- Quota counters and their change history read and changed through the admin plane (/quotas on extauthz) by a
-- tenant-scoped caller: only the counters of that caller's tenants, enforced in PostgreSQL as for the tenant-owned
-- tables of V35, beside the admin API's own check. A counter's tenant follows from its caller key: 'tenant:T' is T's,
-- 'api_key:ID' is the tenant of that API key (read under api_keys' own policy, so only the caller's tenants' keys are
-- found); a key that records no tenant ('subject:...', 'sha256:...') is visible to system-scoped callers only.
-- The servers' role is not the scoped one, so counting (quota_usage upserts every second) is unchanged.
/* [jooq ignore start] */
create function meshguard_quota_caller_visible(caller varchar) returns boolean
    language sql stable
    as $$ select current_user <> 'meshguard_tenant_scoped'
              or (caller like 'tenant:%' and substr(caller, 8) = any (meshguard_scope_tenants()))
              or (caller like 'api_key:%' and exists (select 1 from api_keys k where k.key_id = substr(caller, 9))) $$;

grant execute on function meshguard_quota_caller_visible(varchar) to meshguard_tenant_scoped;
grant select, insert, update on quota_usage, quota_adjustment to meshguard_tenant_scoped;
grant usage on sequence quota_adjustment_id_seq to meshguard_tenant_scoped;

alter table quota_usage enable row level security;
create policy quota_usage_tenant_rows on quota_usage
    using (meshguard_quota_caller_visible(caller)) with check (meshguard_quota_caller_visible(caller));
alter table quota_adjustment enable row level security;
create policy quota_adjustment_tenant_rows on quota_adjustment
    using (meshguard_quota_caller_visible(caller)) with check (meshguard_quota_caller_visible(caller));
/* [jooq ignore stop] */
