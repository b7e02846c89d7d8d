-- Four eyes on a plan's limits (issue 47): changing the rate limits, calendar quota or per-operation limits of a plan
-- that has live subscriptions, or whose product is published, is a plan-change request carrying exactly the limits
-- asked for and the replay report of the plan's recorded decisions against them (which calls would now be refused
-- with 429, or no longer be). A second person who did not ask for it approves or rejects it; the limits change only at
-- the approval, in the same transaction that closes the request.
create table plan_change_request (
    id                       bigint        generated always as identity,
    plan_id                  varchar(100)  not null,
    -- the plan's product's tenant: row-level security shows a request to that tenant only
    tenant                   varchar(200)  not null,
    state                    varchar(16)   not null default 'pending',
    requested_by             varchar(400)  not null,
    requested_by_person      varchar(1000) not null,
    requested_at             timestamptz   not null default now(),
    reason                   varchar(1000) not null,
    -- the limits in force when requested, and exactly the limits asked for (catalog PlanLimitsJson)
    limits_before            jsonb         not null,
    operation_limits_before  jsonb         not null,
    limits                   jsonb         not null,
    operation_limits         jsonb         not null,
    -- the replay report on exactly these limits: counts, flip groups with sample request ids, reasons; when computed
    report                   jsonb,
    report_computed_at       timestamptz,
    decided_by               varchar(400),
    decided_at               timestamptz,
    decision_reason          varchar(1000),
    constraint plan_change_request_pk primary key (id),
    constraint plan_change_request_plan_fk foreign key (plan_id) references plan (id) on delete cascade,
    constraint plan_change_request_tenant_fk foreign key (tenant) references tenant (id),
    constraint plan_change_request_state_check check (state in ('pending', 'approved', 'rejected', 'voided')),
    constraint plan_change_request_decided_check check ((state = 'pending') = (decided_by is null))
);
-- one open request per plan: a newer request voids the older one
create unique index plan_change_request_one_pending on plan_change_request (plan_id) where state = 'pending';
create index plan_change_request_tenant_idx on plan_change_request (tenant, requested_at desc);

/* [jooq ignore start] */
grant select, insert, update on plan_change_request to meshguard_tenant_scoped;
alter table plan_change_request enable row level security;
create policy plan_change_request_tenant_rows on plan_change_request for all
    using (meshguard_row_visible(tenant)) with check (meshguard_row_visible(tenant));
/* [jooq ignore stop] */
