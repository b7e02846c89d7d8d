-- Made-up API keys cost the key store nothing: every extauthz replica keeps the ids of the keys that exist
-- (KnownApiKeyIds) and reads PostgreSQL only for a presented id it knows, or, within apikey.unlisted_reads_per_second,
-- for one it does not know yet. A new key reaches every replica's ids through meshguard_apikey_created, its id the
-- payload, when its transaction commits, whoever inserted it (admin API, portal, CLI, SQL). A separate channel from
-- V62's meshguard_apikey: a notice there drops the replicas' cached key records, which a creation must not do.
/* [jooq ignore start] */
create function meshguard_apikey_created() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_apikey_created', new.key_id); return null; end $$;
create trigger api_keys_created after insert on api_keys
    for each row execute function meshguard_apikey_created();
/* [jooq ignore stop] */
