package io.meshguard.catalog.service;

import io.meshguard.access.AdminCaller;
import io.meshguard.access.AdminGate;

/**
 * A caller the admin port's gate has authenticated (over HTTP, or at the console's sign-in), with the request it came
 * in: what every typed catalogue service takes. Each service method checks the operation's own permission with the
 * gate and confines the work to the tenants the caller holds it for, so the REST API and the console cannot diverge.
 */
public record AdmittedCall(AdminGate.Admitted admission, String requestId) {
    public AdminCaller caller() {
        return admission.caller();
    }

    /** The role whose grant admitted the call (the admin trail names it). */
    public String roleUsed() {
        return admission.decision().roleUsed();
    }
}
