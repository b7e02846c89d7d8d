package io.meshguard.authz.mesh;

import java.util.List;
import java.util.Optional;

/**
 * One {@code from:} entry, Istio's {@code Source}: every field that is given must hold (AND); a field holds when the
 * caller's value matches one of its entries, a {@code not_} field when it matches none.
 *
 * <p>When the value is unknown — no mTLS peer, a principal that is not a valid SPIFFE ID (or not of Istio's
 * {@code ns/.../sa/...} shape for namespace and service-account fields), an address that is not an IP literal — the
 * unknown never helps the caller: on a route ({@code requiredBy} an allow) every such field fails, {@code not_} forms
 * included; in a deny rule a positive field fails (nothing to match) while a {@code not_}-only field holds, so
 * "deny unless namespace X" also denies callers with no identity. This is Istio's reading for DENY
 * ({@code notPrincipals: ["*"]} denies plaintext callers) and stricter than Istio's for ALLOW.
 */
public record SourceRule(
        List<NamePattern> principals,
        List<NamePattern> notPrincipals,
        List<NamePattern> trustDomains,
        List<NamePattern> notTrustDomains,
        List<NamePattern> namespaces,
        List<NamePattern> notNamespaces,
        List<String> serviceAccounts,
        List<String> notServiceAccounts,
        List<IpBlock> ipBlocks,
        List<IpBlock> notIpBlocks,
        List<IpBlock> remoteIpBlocks,
        List<IpBlock> notRemoteIpBlocks,
        int line) {

    /** @param denyRule true when this source belongs to a deny rule (see the class comment for unknown values) */
    public boolean matches(Caller caller, boolean denyRule) {
        Optional<SpiffeId> id = caller.spiffe();
        Optional<String> ns = id.flatMap(SpiffeId::namespace);
        Optional<String> sa = ns.map(n -> n + "/" + id.get().serviceAccount().orElseThrow());
        Optional<byte[]> address = given(ipBlocks, notIpBlocks) ? IpBlock.address(caller.address()) : Optional.empty();
        Optional<byte[]> remote = given(remoteIpBlocks, notRemoteIpBlocks)
                ? caller.remoteAddress().flatMap(IpBlock::address)
                : Optional.empty();
        return holds(principals, notPrincipals, id.map(SpiffeId::id), NamePattern::matches, denyRule)
                && holds(trustDomains, notTrustDomains, id.map(SpiffeId::trustDomain), NamePattern::matches, denyRule)
                && holds(namespaces, notNamespaces, ns, NamePattern::matches, denyRule)
                && holds(serviceAccounts, notServiceAccounts, sa, String::equals, denyRule)
                && holds(ipBlocks, notIpBlocks, address, IpBlock::contains, denyRule)
                && holds(remoteIpBlocks, notRemoteIpBlocks, remote, IpBlock::contains, denyRule);
    }

    private static <P, V> boolean holds(
            List<P> in,
            List<P> notIn,
            Optional<V> value,
            java.util.function.BiPredicate<P, V> matches,
            boolean denyRule) {
        if (in.isEmpty() && notIn.isEmpty()) {
            return true;
        }
        if (value.isEmpty()) {
            return denyRule && in.isEmpty();
        }
        V v = value.get();
        boolean found = in.isEmpty();
        for (int i = 0; !found && i < in.size(); i++) {
            found = matches.test(in.get(i), v);
        }
        if (!found) {
            return false;
        }
        for (int i = 0; i < notIn.size(); i++) {
            if (matches.test(notIn.get(i), v)) {
                return false;
            }
        }
        return true;
    }

    private static boolean given(List<?> in, List<?> notIn) {
        return !in.isEmpty() || !notIn.isEmpty();
    }
}
