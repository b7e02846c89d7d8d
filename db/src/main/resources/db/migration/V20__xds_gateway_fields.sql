-- xds-controller: the fields of the gateway model that V2's skeleton does not have yet.

-- Hostnames generated as {api}.{env}.{region}.{domain} when a group lists none.
alter table gateway_group add column domain varchar(253);
alter table gateway_group add column hostname_template varchar(253) not null default '{api}.{env}.{region}.{domain}';
-- Whether proxyless gRPC clients must run the ext_authz filter: required (fail closed), optional, off.
alter table gateway_group add column proxyless_authz varchar(16) not null default 'required';
alter table gateway_group add constraint gateway_group_proxyless_authz_check
    check (proxyless_authz in ('required', 'optional', 'off'));

-- {consecutive_5xx, interval_ms, base_ejection_ms, max_ejection_percent}
alter table upstream add column outlier_detection jsonb;

-- Versioned paths are base_path/<version>/...; unversioned ones go to the default version.
alter table api add column base_path varchar(512) not null default '';
alter table api add column hostnames varchar(253) array not null default array[]::varchar(253)[];

-- Long-lived responses (SSE, gRPC streams): no request timeout, idle timeout only.
alter table route add column streaming boolean not null default false;
-- [{name, exact | prefix | regex}] (none of the three: the header must be present)
alter table route add column header_matches jsonb not null default jsonb_build_array();
alter table route add column retry_per_try_timeout_ms integer;
alter table route add column retry_backoff_base_ms integer;
alter table route add column retry_backoff_max_ms integer;
-- [{name, value}]; always overwrite
alter table route add column request_headers_to_add jsonb not null default jsonb_build_array();
alter table route add column request_headers_to_remove varchar(256) array not null default array[]::varchar(256)[];
alter table route add column response_headers_to_add jsonb not null default jsonb_build_array();
