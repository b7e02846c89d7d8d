package io.meshguard.emulator;

import io.envoyproxy.envoy.config.core.v3.CidrRange;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Whether a client address is internal to the gateway (HCM {@code internal_address_config}; used by
 * ConnectionManagerUtility::mutateRequestHeaders, source/common/http/conn_manager_utility.cc, to decide what an edge
 * request is). Without the setting this is not modelled (Envoy's default changed across releases).
 */
final class EdgeAddresses {
    private EdgeAddresses() {}

    static boolean internal(HttpConnectionManager hcm, String ip) {
        if (!hcm.hasInternalAddressConfig()) {
            throw new UnmodelledException("use_remote_address without internal_address_config");
        }
        for (CidrRange range : hcm.getInternalAddressConfig().getCidrRangesList()) {
            if (contains(range, ip)) {
                return true;
            }
        }
        return false;
    }

    static boolean contains(CidrRange range, String ip) {
        try {
            byte[] net = InetAddress.getByName(range.getAddressPrefix()).getAddress();
            byte[] addr = InetAddress.getByName(ip).getAddress();
            if (net.length != addr.length) {
                return false;
            }
            int bits = range.hasPrefixLen() ? range.getPrefixLen().getValue() : net.length * 8;
            BigInteger mask = BigInteger.ONE
                    .shiftLeft(net.length * 8)
                    .subtract(BigInteger.ONE)
                    .shiftRight(bits)
                    .not();
            return new BigInteger(1, net).and(mask).equals(new BigInteger(1, addr).and(mask));
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
