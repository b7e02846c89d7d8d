-- API keys for machine clients (extauthz-server). Only a SHA-256 of the 256-bit random secret is stored: the
-- secret is shown once by `meshguard apikey create|rotate` and cannot be recovered from this table.
CREATE TABLE api_keys (
    key_id        varchar(16)  NOT NULL,
    secret_sha256 bytea        NOT NULL,
    name          varchar(200) NOT NULL,
    owner         varchar(200) NOT NULL,
    tenant        varchar(200) NOT NULL,
    roles         text[]       NOT NULL DEFAULT '{}',
    scopes        text[]       NOT NULL DEFAULT '{}',
    tier          varchar(64)  NOT NULL,
    created_at    timestamptz  NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz,
    rotated_from  varchar(16),
    last_used_at  timestamptz,
    use_count     bigint       NOT NULL DEFAULT 0,
    CONSTRAINT api_keys_pkey PRIMARY KEY (key_id),
    CONSTRAINT api_keys_key_id_check CHECK (char_length(key_id) = 16),
    CONSTRAINT api_keys_secret_check CHECK (octet_length(secret_sha256) = 32),
    CONSTRAINT api_keys_use_count_check CHECK (use_count >= 0),
    CONSTRAINT api_keys_rotated_from_fkey FOREIGN KEY (rotated_from) REFERENCES api_keys (key_id)
);

CREATE INDEX api_keys_tenant_idx ON api_keys (tenant);
CREATE INDEX api_keys_owner_idx ON api_keys (owner);
