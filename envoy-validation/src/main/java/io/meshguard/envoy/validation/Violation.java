package io.meshguard.envoy.validation;

/**
 * One reason Envoy would refuse a resource when it loads it (and NACK the whole xDS response that carries it).
 *
 * @param code stable name of the check, e.g. {@code pgv.duration.gt}, {@code envoy.duration.negative},
 *     {@code envoy.header_format}; {@code pgv.*} codes are protoc-gen-validate rule kinds, {@code envoy.*} codes are
 *     Envoy's load-time checks outside PGV
 * @param path where in the resource, e.g. {@code virtual_hosts[0].routes[2].route.retry_policy.retry_back_off.base_interval}
 *     ({@code typed_config} payloads continue the path of the {@code Any} holding them)
 * @param rule the rule broken: the field's {@code validate.rules} as written in Envoy's proto, or the Envoy source
 *     that makes the check
 * @param message Envoy's wording of the refusal
 */
public record Violation(String code, String path, String rule, String message) {

    /** {@code path: message [code; rule]}: one line for logs, NACK details and problem messages. */
    @Override
    public String toString() {
        return path + ": " + message + " [" + code + "; " + rule + "]";
    }
}
