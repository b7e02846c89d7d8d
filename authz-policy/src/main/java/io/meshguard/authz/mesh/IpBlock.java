package io.meshguard.authz.mesh;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.util.Optional;

/**
 * An address range in CIDR form ({@code 10.0.0.0/8}, {@code fd00::/8}) or one address. Literals only: nothing here
 * ever resolves a name. IPv4 and IPv6 never match each other (an IPv4-mapped IPv6 address is compared as IPv4).
 */
public record IpBlock(byte[] network, int prefixLength, String text) {
    public static Optional<IpBlock> parse(String cidr) {
        int slash = cidr.indexOf('/');
        Optional<byte[]> addr = address(slash < 0 ? cidr : cidr.substring(0, slash));
        if (addr.isEmpty()) {
            return Optional.empty();
        }
        int bits = addr.get().length * 8;
        int prefix = bits;
        if (slash >= 0) {
            String p = cidr.substring(slash + 1);
            if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) {
                return Optional.empty();
            }
            prefix = Integer.parseInt(p);
            if (prefix > bits) {
                return Optional.empty();
            }
        }
        return Optional.of(new IpBlock(addr.get(), prefix, cidr));
    }

    /** The address bytes of a literal (4 or 16), or empty when the text is not an IP literal. */
    public static Optional<byte[]> address(String literal) {
        String s =
                literal.startsWith("[") && literal.endsWith("]") ? literal.substring(1, literal.length() - 1) : literal;
        if (s.isEmpty() || s.indexOf('%') >= 0 || !InetAddresses.isInetAddress(s)) {
            return Optional.empty();
        }
        InetAddress a = InetAddresses.forString(s);
        byte[] b = a.getAddress();
        return Optional.of(b);
    }

    public boolean contains(byte[] address) {
        if (address.length != network.length) {
            return false;
        }
        int full = prefixLength / 8;
        for (int i = 0; i < full; i++) {
            if (address[i] != network[i]) {
                return false;
            }
        }
        int rest = prefixLength % 8;
        if (rest == 0) {
            return true;
        }
        int mask = (0xff << (8 - rest)) & 0xff;
        return (address[full] & mask) == (network[full] & mask);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof IpBlock b && b.text.equals(text);
    }

    @Override
    public int hashCode() {
        return text.hashCode();
    }

    @Override
    public String toString() {
        return text;
    }
}
