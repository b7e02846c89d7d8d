-- Subscription state as deltas (issue 48): a catalogue change notifies the tenant whose contribution to the
-- subscription state it changed, so the controller rereads that tenant's rows only, not the whole catalogue. The
-- triggers of V43 fired once per statement with the table's name; these fire once per row with the tenant
-- (PostgreSQL folds identical payloads of one transaction into one notification, so a bulk change of one tenant
-- still notifies once). A publish or plan belongs to its product's tenant (the provider), an application, credential
-- or subscription to its customer's; "*" (a TRUNCATE, a row whose owner is already gone) rereads everything.

/* [jooq ignore start] */
drop trigger product_publish_changed on product_publish;
drop trigger plan_changed on plan;
drop trigger application_changed on application;
drop trigger subscription_changed on subscription;
drop trigger credential_changed on credential;
drop trigger credential_subscription_changed on credential_subscription;

create function meshguard_catalog_tenant_changed() returns trigger
    language plpgsql
    as $$
declare
    r record;
    owner varchar;
begin
    if tg_op = 'DELETE' then
        r := old;
    else
        r := new;
    end if;
    -- one branch per table: plpgsql prepares a statement when it first runs it, so each names only its own columns
    if tg_table_name in ('product_publish', 'plan') then
        select p.tenant into owner from product p where p.id = r.product_id;
    elsif tg_table_name = 'subscription' then
        owner := r.customer_tenant;
        if tg_op = 'UPDATE' and old.customer_tenant <> new.customer_tenant then
            perform pg_notify('meshguard_catalog', old.customer_tenant);
        end if;
    elsif tg_table_name = 'credential_subscription' then
        select c.tenant into owner from credential c where c.kind = r.kind and c.id = r.credential_id;
    else
        owner := r.tenant;
        if tg_op = 'UPDATE' and old.tenant <> new.tenant then
            perform pg_notify('meshguard_catalog', old.tenant);
        end if;
    end if;
    perform pg_notify('meshguard_catalog', coalesce(owner, '*'));
    return null;
end $$;

create function meshguard_catalog_truncated() returns trigger
    language plpgsql
    as $$ begin perform pg_notify('meshguard_catalog', '*'); return null; end $$;

create trigger product_publish_changed after insert or update or delete on product_publish
    for each row execute function meshguard_catalog_tenant_changed();
create trigger plan_changed after insert or update or delete on plan
    for each row execute function meshguard_catalog_tenant_changed();
create trigger application_changed after insert or update or delete on application
    for each row execute function meshguard_catalog_tenant_changed();
create trigger subscription_changed after insert or update or delete on subscription
    for each row execute function meshguard_catalog_tenant_changed();
create trigger credential_changed after insert or update or delete on credential
    for each row execute function meshguard_catalog_tenant_changed();
create trigger credential_subscription_changed after insert or update or delete on credential_subscription
    for each row execute function meshguard_catalog_tenant_changed();

create trigger product_publish_truncated after truncate on product_publish
    for each statement execute function meshguard_catalog_truncated();
create trigger plan_truncated after truncate on plan
    for each statement execute function meshguard_catalog_truncated();
create trigger application_truncated after truncate on application
    for each statement execute function meshguard_catalog_truncated();
create trigger subscription_truncated after truncate on subscription
    for each statement execute function meshguard_catalog_truncated();
create trigger credential_truncated after truncate on credential
    for each statement execute function meshguard_catalog_truncated();
create trigger credential_subscription_truncated after truncate on credential_subscription
    for each statement execute function meshguard_catalog_truncated();
/* [jooq ignore stop] */
