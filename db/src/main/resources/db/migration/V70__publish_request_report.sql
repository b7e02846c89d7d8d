-- Four eyes on gateway publishes carries a replay report (issue 47), as a policy request does (V69): the protected
-- group's recorded decisions decided as the requested revision would route them. A request cannot be approved
-- without a report computed after it was requested.
alter table publish_request
    add column report             jsonb,
    add column report_from        timestamptz,
    add column report_to          timestamptz,
    add column report_computed_at timestamptz;
