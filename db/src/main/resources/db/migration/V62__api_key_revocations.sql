-- Issue 42, revocation that waits: every extauthz replica caches API key records (api_key_cache_ttl, 30 s by default).
-- A revocation, an expiry moved by a rotation, or a deleted key wakes every replica listening on meshguard_apikey,
-- which drops its cached records at once: whoever revoked it (admin API, CLI, SQL) and wherever the key is cached.
/* [jooq ignore start] */
create function meshguard_apikey_changed() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_apikey', old.key_id); return null; end $$;
create trigger api_keys_revoked after update on api_keys
    for each row
    when (old.revoked_at is distinct from new.revoked_at or old.expires_at is distinct from new.expires_at)
    execute function meshguard_apikey_changed();
create trigger api_keys_deleted after delete on api_keys
    for each row execute function meshguard_apikey_changed();
/* [jooq ignore stop] */
