-- What providers sell and customers subscribe to (issue 25, docs/products.md). States and their moves are checked
-- in catalog/ (Lifecycle); the checks here only keep a row from holding a state that does not exist.
--
-- Tenancy: a product, its plans and publishes belong to the provider's tenant; an application and its credentials
-- to the customer's tenant; a subscription joins the two and is visible to both (row-level security below, the same
-- role and setting as V35). Clusters belong to operators.
create table cluster (
    id           varchar(63)  not null,
    region       varchar(63)  not null,
    provider     varchar(63),
    capabilities varchar(63) array not null default array[]::varchar(63)[],
    created_at   timestamptz  not null default now(),
    constraint cluster_pk primary key (id),
    constraint cluster_id_check check (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    constraint cluster_region_check check (region ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$')
);

-- The product id is its host label ({product}.{env}.{region}.api.{domain}), so it is unique across tenants: two
-- tenants must never be able to claim one host.
create table product (
    id          varchar(63)   not null,
    tenant      varchar(200)  not null,
    name        varchar(200)  not null,
    version     varchar(64)   not null default '1',
    description varchar(4000),
    tags        varchar(64) array not null default array[]::varchar(64)[],
    docs_url    varchar(2000),
    visibility  varchar(16)   not null default 'private',
    state       varchar(16)   not null default 'draft',
    created_at  timestamptz   not null default now(),
    updated_at  timestamptz   not null default now(),
    updated_by  varchar(400)  not null,
    constraint product_pk primary key (id),
    constraint product_tenant_fk foreign key (tenant) references tenant (id),
    constraint product_id_check check (id ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'),
    constraint product_visibility_check check (visibility in ('public', 'private', 'internal')),
    constraint product_state_check check (state in ('draft', 'published', 'deprecated', 'retired'))
);
create index product_tenant_idx on product (tenant);

-- An operation is an API of the same tenant + method + path: what a plan may limit on its own.
create table product_operation (
    product_id varchar(63)   not null,
    id         varchar(100)  not null,
    api_id     bigint        not null,
    method     varchar(16)   not null,
    path       varchar(2048) not null,
    constraint product_operation_pk primary key (product_id, id),
    constraint product_operation_product_fk foreign key (product_id) references product (id) on delete cascade,
    constraint product_operation_api_fk foreign key (api_id) references api (id),
    constraint product_operation_uk unique (product_id, method, path)
);

create table plan (
    id               varchar(100)  not null,
    product_id       varchar(63)   not null,
    name             varchar(200)  not null,
    state            varchar(16)   not null default 'staging',
    -- PlanLimits as JSON ({rates: [{requests, per_seconds}], quota: {period, limit, zone, block}}), per product and
    -- per operation id; catalog/ parses and validates both before a row is written.
    limits           jsonb         not null default '{}',
    operation_limits jsonb         not null default '{}',
    approval         varchar(8)    not null default 'auto',
    auth_modes       varchar(8) array not null,
    created_at       timestamptz   not null default now(),
    updated_at       timestamptz   not null default now(),
    constraint plan_pk primary key (id),
    constraint plan_product_fk foreign key (product_id) references product (id) on delete cascade,
    constraint plan_name_uk unique (product_id, name),
    constraint plan_state_check check (state in ('staging', 'published', 'deprecated', 'closed')),
    constraint plan_approval_check check (approval in ('auto', 'manual'))
);

create table product_publish (
    id            varchar(100) not null,
    product_id    varchar(63)  not null,
    cluster_id    varchar(63)  not null,
    environment   varchar(8)   not null,
    auth_mode     varchar(8)   not null,
    state         varchar(16)  not null default 'draft',
    host          varchar(253) not null,
    gateway_group varchar(128) not null,
    -- The gateway revision that serves (or withdrew) it: publishes are revisions, so diff and rollback apply.
    revision      bigint,
    created_at    timestamptz  not null default now(),
    updated_at    timestamptz  not null default now(),
    constraint product_publish_pk primary key (id),
    constraint product_publish_product_fk foreign key (product_id) references product (id),
    constraint product_publish_cluster_fk foreign key (cluster_id) references cluster (id),
    constraint product_publish_host_uk unique (host),
    constraint product_publish_environment_check check (environment in ('dev', 'staging', 'prod')),
    constraint product_publish_auth_mode_check check (auth_mode in ('none', 'apikey', 'oauth2')),
    constraint product_publish_state_check check (state in ('draft', 'published', 'withdrawn'))
);

create table application (
    id            varchar(100)  not null,
    tenant        varchar(200)  not null,
    name          varchar(200)  not null,
    owner         varchar(400)  not null,
    contact       varchar(400),
    redirect_uris varchar(2000) array not null default array[]::varchar(2000)[],
    state         varchar(16)   not null default 'active',
    created_at    timestamptz   not null default now(),
    updated_at    timestamptz   not null default now(),
    constraint application_pk primary key (id),
    constraint application_tenant_fk foreign key (tenant) references tenant (id),
    constraint application_state_check check (state in ('active', 'suspended'))
);
create index application_tenant_idx on application (tenant);

create table subscription (
    id              varchar(100)  not null,
    application_id  varchar(100)  not null,
    publish_id      varchar(100)  not null,
    plan_id         varchar(100)  not null,
    state           varchar(16)   not null,
    -- Denormalised so row-level security can show the row to both sides without joining across their policies.
    provider_tenant varchar(200)  not null,
    customer_tenant varchar(200)  not null,
    requested_by    varchar(400)  not null,
    decided_by      varchar(400),
    reason          varchar(1000),
    created_at      timestamptz   not null default now(),
    updated_at      timestamptz   not null default now(),
    constraint subscription_pk primary key (id),
    constraint subscription_application_fk foreign key (application_id) references application (id),
    constraint subscription_publish_fk foreign key (publish_id) references product_publish (id),
    constraint subscription_plan_fk foreign key (plan_id) references plan (id),
    constraint subscription_state_check check (state in ('pending', 'active', 'suspended', 'closed', 'rejected'))
);
create index subscription_application_idx on subscription (application_id);
create index subscription_publish_idx on subscription (publish_id);

create table credential (
    id              varchar(200) not null,
    kind            varchar(8)   not null,
    application_id  varchar(100) not null,
    tenant          varchar(200) not null,
    state           varchar(16)  not null default 'active',
    -- For kind apikey the key's id in api_keys (never its secret); for oauth2 the client id in Keycloak.
    api_key_id      varchar(16),
    expires_at      timestamptz,
    overlap_ends_at timestamptz,
    successor_id    varchar(200),
    created_at      timestamptz  not null default now(),
    updated_at      timestamptz  not null default now(),
    constraint credential_pk primary key (kind, id),
    constraint credential_application_fk foreign key (application_id) references application (id),
    constraint credential_api_key_fk foreign key (api_key_id) references api_keys (key_id),
    constraint credential_kind_check check (kind in ('apikey', 'oauth2')),
    constraint credential_apikey_check check ((kind = 'apikey') = (api_key_id is not null)),
    constraint credential_state_check check (state in ('active', 'rotating', 'revoked', 'expired')),
    constraint credential_rotating_check check (state <> 'rotating' or overlap_ends_at is not null)
);
create index credential_application_idx on credential (application_id);

-- A credential limited to some of its application's subscriptions; none listed means all of them.
create table credential_subscription (
    kind            varchar(8)   not null,
    credential_id   varchar(200) not null,
    subscription_id varchar(100) not null,
    constraint credential_subscription_pk primary key (kind, credential_id, subscription_id),
    constraint credential_subscription_credential_fk foreign key (kind, credential_id)
        references credential (kind, id) on delete cascade,
    constraint credential_subscription_subscription_fk foreign key (subscription_id)
        references subscription (id) on delete cascade
);

/* [jooq ignore start] */
-- jOOQ's DDL parser does not know the array containment operator.
alter table plan add constraint plan_auth_modes_check check (cardinality(auth_modes) > 0
    and auth_modes <@ array['none', 'apikey', 'oauth2']::varchar(8)[]);

grant select on cluster to meshguard_tenant_scoped;
grant select, insert, update, delete on product, product_operation, plan, product_publish, application,
    subscription, credential, credential_subscription to meshguard_tenant_scoped;

-- Published public products, with their published plans and publishes, are the catalogue every customer browses;
-- everything else is its tenant's own. Who may move a subscription's state (approve, suspend) is the admin plane's
-- permission check: row-level security shows a subscription to both sides and cannot tell them apart.
alter table product enable row level security;
create policy product_tenant_rows on product for all
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
create policy product_catalogue on product for select
    using (state in ('published', 'deprecated') and visibility = 'public');
-- Children of a product: changed only by the product's tenant; read by others only when the product is in the
-- catalogue (the sub-select runs under product's policies) and the child itself is offered.
alter table product_operation enable row level security;
create policy product_operation_own on product_operation for all
    using (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)))
    with check (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)));
create policy product_operation_catalogue on product_operation for select
    using (exists (select 1 from product p where p.id = product_id));
alter table plan enable row level security;
create policy plan_own on plan for all
    using (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)))
    with check (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)));
create policy plan_catalogue on plan for select
    using (state in ('published', 'deprecated') and exists (select 1 from product p where p.id = product_id));
alter table product_publish enable row level security;
create policy product_publish_own on product_publish for all
    using (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)))
    with check (exists (select 1 from product p where p.id = product_id and meshguard_row_visible(p.tenant)));
create policy product_publish_catalogue on product_publish for select
    using (state = 'published' and exists (select 1 from product p where p.id = product_id));
alter table application enable row level security;
create policy application_tenant_rows on application
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
alter table subscription enable row level security;
create policy subscription_rows on subscription
    using (meshguard_row_visible(provider_tenant) or meshguard_row_visible(customer_tenant))
    with check (meshguard_row_visible(provider_tenant) or meshguard_row_visible(customer_tenant));
alter table credential enable row level security;
create policy credential_tenant_rows on credential
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
alter table credential_subscription enable row level security;
create policy credential_subscription_rows on credential_subscription
    using (exists (select 1 from credential c where c.kind = credential_subscription.kind
                   and c.id = credential_id))
    with check (exists (select 1 from credential c where c.kind = credential_subscription.kind
                        and c.id = credential_id));

-- Every change of what the subscription snapshot reads wakes the controllers that push it to extauthz: NOTIFY is
-- delivered at commit, in commit order, so a suspension is never missed the way a timestamp poll could miss it.
create function meshguard_catalog_changed() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_catalog', tg_table_name); return null; end $$;
create trigger product_publish_changed after insert or update or delete or truncate on product_publish
    for each statement execute function meshguard_catalog_changed();
create trigger plan_changed after insert or update or delete or truncate on plan
    for each statement execute function meshguard_catalog_changed();
create trigger application_changed after insert or update or delete or truncate on application
    for each statement execute function meshguard_catalog_changed();
create trigger subscription_changed after insert or update or delete or truncate on subscription
    for each statement execute function meshguard_catalog_changed();
create trigger credential_changed after insert or update or delete or truncate on credential
    for each statement execute function meshguard_catalog_changed();
create trigger credential_subscription_changed after insert or update or delete or truncate on credential_subscription
    for each statement execute function meshguard_catalog_changed();
/* [jooq ignore stop] */
