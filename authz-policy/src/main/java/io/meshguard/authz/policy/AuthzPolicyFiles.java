package io.meshguard.authz.policy;

import io.meshguard.runtime.policy.PolicyError;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyParser;
import io.meshguard.runtime.policy.PolicySource;
import java.io.StringReader;
import java.util.List;

/**
 * Plugs {@code authz.yaml} into the runtime's {@code PolicyWatcher}: one file, parsed with line-numbered errors. The
 * xDS controller loads the same file through this to check the authz profiles gateway routes name.
 */
public final class AuthzPolicyFiles implements PolicyParser<AuthzPolicy> {
    private final AuthzPolicyParser parser = new AuthzPolicyParser();

    @Override
    public AuthzPolicy parse(List<PolicySource> sources) throws PolicyInvalidException {
        if (sources.size() != 1) {
            throw new PolicyInvalidException(new PolicyError(
                    sources.get(0).fileName(),
                    1,
                    "the authz policy is one file; point policy.file at authz.yaml, not a directory of "
                            + sources.size()));
        }
        PolicySource source = sources.get(0);
        try {
            return parser.parse(source.fileName(), new StringReader(source.text()));
        } catch (io.meshguard.authz.policy.PolicyInvalidException e) {
            throw new PolicyInvalidException(e.errors().stream()
                    .map(err -> new PolicyError(err.file(), err.line(), err.message()))
                    .toList());
        }
    }
}
