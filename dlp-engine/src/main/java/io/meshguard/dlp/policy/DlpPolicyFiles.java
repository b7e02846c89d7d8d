package io.meshguard.dlp.policy;

import io.meshguard.runtime.policy.PolicyError;
import io.meshguard.runtime.policy.PolicyInvalidException;
import io.meshguard.runtime.policy.PolicyParser;
import io.meshguard.runtime.policy.PolicySource;
import java.util.List;

/**
 * Plugs {@code dlp.yaml} into the runtime's {@code PolicyWatcher}: one file, parsed by {@link DlpPolicyParser} with
 * line-numbered errors. The xDS controller loads the file the DLP server runs through this, to check the DLP
 * profiles gateway routes name.
 */
public final class DlpPolicyFiles implements PolicyParser<DlpPolicy> {
    @Override
    public DlpPolicy parse(List<PolicySource> sources) throws PolicyInvalidException {
        if (sources.size() != 1) {
            throw new PolicyInvalidException(new PolicyError(
                    sources.get(0).fileName(),
                    1,
                    "the DLP policy is one file; point at dlp.yaml, not a directory of " + sources.size()));
        }
        PolicySource source = sources.get(0);
        try {
            return DlpPolicyParser.parse(source.fileName(), source.text());
        } catch (io.meshguard.dlp.policy.PolicyInvalidException e) {
            throw new PolicyInvalidException(e.errors().stream()
                    .map(err -> new PolicyError(err.file(), err.line(), err.message()))
                    .toList());
        }
    }
}
