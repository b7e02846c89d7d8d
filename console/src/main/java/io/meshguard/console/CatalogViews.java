package io.meshguard.console;

import java.util.List;

/** What the Approvals and Developer portal templates show: values only, every text what a person reads. */
public final class CatalogViews {
    private CatalogViews() {}

    /** An object by its name, with its id on hover (an application, a customer tenant). */
    public record Named(String name, String id) {}

    /** A choice in a select: value sent, label shown. */
    public record Choice(String value, String label) {}

    /**
     * A subscription as the provider sees it; the flags say which buttons the caller's roles allow (the server
     * checks again).
     */
    public record ProviderRow(
            String id,
            Named customer,
            Named application,
            Views.Person requestedBy,
            String product,
            String host,
            String plan,
            String state,
            boolean canDecide,
            boolean canSuspend,
            boolean canResume,
            boolean canChangePlan,
            List<Choice> otherPlans,
            String auditHref) {}

    /** Approvals: pending subscriptions first, then the live ones (suspend, resume, plan changes). */
    public record Approvals(Views.Chrome chrome, List<ProviderRow> pending, List<ProviderRow> others) {}

    /** A published plan open to subscription, with its limits in words. */
    public record PlanRow(String id, String name, String approval, String limits) {}

    /** A published product with its live publishes, what each sells, and its plans. */
    public record ProductRow(
            String id,
            String name,
            String description,
            List<Choice> publishes,
            List<PlanRow> plans,
            List<ApiRow> apis) {}

    /** One operation as a customer calls it: the method and the full path on the publish's host. */
    public record OperationRow(String method, String path, String version, boolean deprecated) {}

    /**
     * What one live publish sells: its server, the credential it takes, the operations its gateway serves now, the
     * console's link to its OpenAPI document, and a call to copy with a placeholder for the credential.
     */
    public record ApiRow(
            String publish,
            String server,
            String credential,
            String openApi,
            List<OperationRow> operations,
            String example) {}

    public record ApplicationRow(String id, String name, String state) {}

    /**
     * One of the customer's subscriptions with its usage: calls in the last day and 30 days, and each calendar
     * quota's count this period against the plan's limit.
     */
    public record SubscriptionRow(
            String id,
            String application,
            String host,
            String plan,
            String state,
            long callsDay,
            long refusedDay,
            long callsMonth,
            List<QuotaRow> quotas) {}

    /** A quota counter: {@code used} of {@code limit} (empty: the plan sets none) in the period ending {@code ends}. */
    public record QuotaRow(String counter, long used, String limit, String period, String ends) {}

    /** A credential; rotate and revoke are shown only when the caller may and the key is still usable. */
    public record CredentialRow(
            String id,
            String kind,
            String application,
            String state,
            String overlapEnds,
            boolean canRotate,
            boolean canRevoke) {}

    /** The developer portal: the catalogue, the tenant's applications, subscriptions with usage, and credentials. */
    public record Portal(
            Views.Chrome chrome,
            List<ProductRow> products,
            List<ApplicationRow> applications,
            List<Choice> applicationChoices,
            List<SubscriptionRow> subscriptions,
            List<CredentialRow> credentials,
            boolean canCreateApplication,
            boolean canSubscribe,
            boolean canCreateKey) {}

    /** Plan changes: a guarded plan's limit-change requests of the caller's tenants, newest first. */
    public record PlanChangeRequests(Views.Chrome chrome, List<PlanChangeRow> rows) {}

    /** One plan-change request in the list; limits as their JSON, before and requested. */
    public record PlanChangeRow(
            long id,
            String plan,
            String tenant,
            String state,
            Views.Person requestedBy,
            String requestedAt,
            String reason,
            String limitsBefore,
            String limitsRequested,
            String flips) {}

    /**
     * One plan-change request: who asked and why, the report's counts and sentences (each flip group with its sample
     * request ids and drill-down link), the limits in force and requested side by side, the drilled group's audit rows,
     * and whether the caller may decide (pending, {@code plan:approve} on its tenant; the service checks again).
     */
    public record PlanChangePage(
            Views.Chrome chrome,
            long id,
            String plan,
            String tenant,
            String state,
            Views.Person requestedBy,
            String requestedAt,
            String reason,
            java.util.Optional<Views.Person> decidedBy,
            String decisionReason,
            long decisions,
            long flipped,
            long notReplayable,
            List<String> reportLines,
            List<String> groups,
            List<List<String>> groupSamples,
            boolean hasReport,
            boolean reportCurrent,
            List<String> limitsBefore,
            List<String> limitsRequested,
            int drilled,
            List<Views.AuditRow> samples,
            String samplesNote,
            boolean canDecide) {
        public String groupHref(int index) {
            return PlanChangesScreen.groupHref(id, index);
        }
    }
}
