-- A subscription's usage is counted from the decisions extauthz made on it (details.subscription, written since
-- this release): one index lookup per subscription and time window, instead of a scan of every decision on the
-- product publish. Created on the parent, so every partition gets it.
/* [jooq ignore start] */
create index audit_event_subscription_time_idx on audit_event ((details ->> 'subscription'), occurred_at)
    where kind = 'authz_decision';
/* [jooq ignore stop] */
