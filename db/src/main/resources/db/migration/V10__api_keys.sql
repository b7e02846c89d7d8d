-- API keys for machine clients (extauthz-server). Only a SHA-256 of the 256-bit random secret is stored: the
-- secret is shown once by `meshguard apikey create|rotate` and cannot be recovered from this table.
CREATE TABLE api_keys (
    key_id        text        PRIMARY KEY CHECK (key_id ~ '^[0-9a-f]{16}$'),
    secret_sha256 bytea       NOT NULL CHECK (octet_length(secret_sha256) = 32),
    name          text        NOT NULL,
    owner         text        NOT NULL,
    tenant        text        NOT NULL,
    roles         text[]      NOT NULL DEFAULT '{}',
    scopes        text[]      NOT NULL DEFAULT '{}',
    tier          text        NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    rotated_from  text        REFERENCES api_keys (key_id),
    last_used_at  timestamptz,
    use_count     bigint      NOT NULL DEFAULT 0 CHECK (use_count >= 0)
);

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant);
CREATE INDEX api_keys_owner_idx ON api_keys (owner);
