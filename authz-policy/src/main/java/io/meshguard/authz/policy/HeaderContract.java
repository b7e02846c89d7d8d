package io.meshguard.authz.policy;

import java.util.List;
import java.util.Map;

/**
 * Headers every non-exempt request must honour.
 *
 * @param tenantHeader the header naming the tenant; it must equal the caller's tenant and appear once
 * @param required headers that must be present (400 when missing)
 * @param defaults headers added when the client sent none (never overwriting one it sent)
 */
public record HeaderContract(String tenantHeader, List<String> required, Map<String, String> defaults) {}
