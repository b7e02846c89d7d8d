-- Made-up API keys cost the key store nothing: every extauthz replica keeps the ids of the keys that exist
-- (KnownApiKeyIds) and reads PostgreSQL only for a presented id it knows, or, within apikey.unlisted_reads_per_second,
-- for one it does not know yet. A new key reaches every replica's ids when its transaction commits, whoever inserted
-- it (admin API, portal, CLI, SQL): on V62's channel meshguard_apikey, which each replica already listens to, with the
-- payload 'created:<key id>' (ApiKeyNotices.CREATED reads it) so that, unlike V62's notices (the bare id), it drops
-- no cached key record.
/* [jooq ignore start] */
create function meshguard_apikey_created() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_apikey', 'created:' || new.key_id); return null; end $$;
create trigger api_keys_created after insert on api_keys
    for each row execute function meshguard_apikey_created();
/* [jooq ignore stop] */
