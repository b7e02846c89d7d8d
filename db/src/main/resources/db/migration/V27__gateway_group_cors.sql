-- xds-controller: cross-origin (CORS) policy per gateway group, and per API within a group. The gateway's CORS filter
-- answers browser preflights before ext_authz. Shape (snake_case JSON of io.meshguard.xds.model.Cors):
-- {allowed_origins: [...], allowed_methods, allowed_headers, exposed_headers, allow_credentials, max_age_seconds}.
-- null: no CORS for the group; api_cors: {"<api name>": <policy>} replaces the group's policy for that API.
alter table gateway_group add column cors jsonb;
alter table gateway_group add column api_cors jsonb not null default '{}'::jsonb;
alter table gateway_group add constraint gateway_group_cors_object_check
    check ((cors is null or jsonb_typeof(cors) = 'object') and jsonb_typeof(api_cors) = 'object');
