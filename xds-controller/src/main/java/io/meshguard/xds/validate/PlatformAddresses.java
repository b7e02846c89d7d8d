package io.meshguard.xds.validate;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Whether an upstream endpoint points at the gateway pod itself or at the platform under it: what a route must never
 * reach on behalf of an outside caller (SSRF onto the Envoy admin API, the sidecar, the node's cloud metadata service
 * and its credentials, the Kubernetes API). Decided on the text alone, without DNS.
 *
 * <p>Classes, each with every spelling a resolver accepts:
 * <ul>
 *   <li>loopback: 127.0.0.0/8, ::1, {@code localhost} and its names ({@code *.localhost} per RFC 6761,
 *       {@code localhost.localdomain}, {@code ip6-localhost}, ...), any case, with or without the trailing dot;</li>
 *   <li>unspecified / "this network": 0.0.0.0/8 and {@code ::} (Linux connects 0.0.0.0 to the local host);</li>
 *   <li>link-local: 169.254.0.0/16 (the cloud metadata address 169.254.169.254 among them) and fe80::/10;</li>
 *   <li>cloud metadata and platform endpoints: {@code metadata.google.internal}, {@code metadata},
 *       {@code metadata.goog}, {@code instance-data[.ec2.internal]}, AWS IMDS over IPv6 {@code fd00:ec2::254},
 *       Alibaba 100.100.100.200, Azure's wire server 168.63.129.16, and the Kubernetes API
 *       ({@code kubernetes}, {@code kubernetes.default[.svc[.*]]});</li>
 *   <li>IPv6 spellings of IPv4 addresses: IPv4-mapped {@code ::ffff:a.b.c.d} (also in hex), IPv4-compatible
 *       {@code ::a.b.c.d}, NAT64 {@code 64:ff9b::/96}, 6to4 {@code 2002::/16}: judged as the IPv4 address inside;</li>
 *   <li>integer IPv4 spellings that {@code inet_aton} (glibc, c-ares: what resolves a DNS cluster's name in Envoy)
 *       reads as an address: {@code 2130706433}, {@code 0x7f000001}, {@code 0177.0.0.1}, {@code 127.1}: refused
 *       whatever address they mean, since no reviewer reads them as one;</li>
 *   <li>ports of the Istio sidecar present in every meshed pod (15000 admin, 15001/15006 capture, 15004, 15008
 *       HBONE, 15009, 15020/15021 health and merged metrics, 15053 DNS, 15090 Prometheus) and Envoy's admin port
 *       9901, on any address.</li>
 * </ul>
 * The gateway pod's own IP is not known here; NetworkPolicy and the sidecar ports above cover it.
 */
public final class PlatformAddresses {
    static final Set<Integer> SIDECAR_AND_ADMIN_PORTS =
            Set.of(15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053, 15090, 9901);
    private static final Set<String> LOOPBACK_NAMES = Set.of(
            "localhost",
            "localhost.localdomain",
            "localhost4",
            "localhost4.localdomain4",
            "localhost6",
            "localhost6.localdomain6",
            "ip6-localhost",
            "ip6-loopback");
    private static final Set<String> PLATFORM_NAMES = Set.of(
            "metadata",
            "metadata.google.internal",
            "metadata.goog",
            "instance-data",
            "instance-data.ec2.internal",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc");

    private PlatformAddresses() {}

    /** Why {@code address}:{@code port} is off limits, if it is. */
    public static Optional<String> forbidden(String address, int port) {
        Optional<String> byAddress = forbiddenAddress(address);
        if (byAddress.isPresent()) {
            return byAddress;
        }
        if (SIDECAR_AND_ADMIN_PORTS.contains(port)) {
            return Optional.of("port " + port + " is the Istio sidecar's or Envoy's admin/health/capture port in "
                    + "every meshed pod");
        }
        return Optional.empty();
    }

    static Optional<String> forbiddenAddress(String address) {
        String a = address.trim().toLowerCase(Locale.ROOT);
        if (a.startsWith("[") && a.endsWith("]")) {
            a = a.substring(1, a.length() - 1);
        }
        String name = a.endsWith(".") ? a.substring(0, a.length() - 1) : a;
        if (LOOPBACK_NAMES.contains(name) || name.endsWith(".localhost")) {
            return Optional.of("'" + address + "' is a loopback name: the gateway pod itself");
        }
        if (PLATFORM_NAMES.contains(name) || name.startsWith("kubernetes.default.svc.")) {
            return Optional.of("'" + address + "' is a cloud metadata or Kubernetes API name: the platform");
        }
        Optional<byte[]> aton = inetAton(name);
        if (aton.isPresent() && !InetAddresses.toAddrString(toInet(aton.get())).equals(name)) {
            return Optional.of("'" + address + "' is an integer, octal or hex spelling of the IPv4 address "
                    + InetAddresses.toAddrString(toInet(aton.get())) + "; write IPv4 addresses as four decimal parts");
        }
        String literal = name.contains("%") ? name.substring(0, name.indexOf('%')) : name;
        if (InetAddresses.isInetAddress(literal)) {
            return classify(address, InetAddresses.forString(literal).getAddress());
        }
        return Optional.empty();
    }

    private static Optional<String> classify(String text, byte[] b) {
        if (b.length == 16) {
            boolean mapped = zero(b, 0, 10) && (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
            boolean compatible = zero(b, 0, 12) && !(zero(b, 12, 15) && (b[15] == 0 || b[15] == 1));
            boolean nat64 = (b[0] & 0xff) == 0x00
                    && (b[1] & 0xff) == 0x64
                    && (b[2] & 0xff) == 0xff
                    && (b[3] & 0xff) == 0x9b
                    && zero(b, 4, 12);
            if (mapped || compatible || nat64) {
                return classify(text, new byte[] {b[12], b[13], b[14], b[15]})
                        .map(why -> why + " (an IPv6 spelling of an IPv4 address)");
            }
            if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x02) {
                return classify(text, new byte[] {b[2], b[3], b[4], b[5]}).map(why -> why + " (6to4)");
            }
            if (zero(b, 0, 15) && b[15] == 1) {
                return Optional.of("'" + text + "' is the IPv6 loopback address: the gateway pod itself");
            }
            if (zero(b, 0, 16)) {
                return Optional.of("'" + text + "' is the unspecified address: the gateway pod itself");
            }
            if ((b[0] & 0xff) == 0xfe && (b[1] & 0xc0) == 0x80) {
                return Optional.of("'" + text + "' is IPv6 link-local (fe80::/10): node and platform services");
            }
            if (InetAddresses.forString("fd00:ec2::254").equals(toInet(b))) {
                return Optional.of("'" + text + "' is the AWS instance metadata service (IPv6)");
            }
            return Optional.empty();
        }
        int first = b[0] & 0xff;
        int second = b[1] & 0xff;
        if (first == 127) {
            return Optional.of("'" + text + "' is loopback (127.0.0.0/8): the gateway pod itself");
        }
        if (first == 0) {
            return Optional.of("'" + text + "' is in 0.0.0.0/8, which Linux connects to the local host");
        }
        if (first == 169 && second == 254) {
            return Optional.of("'" + text + "' is link-local (169.254.0.0/16), where cloud metadata services "
                    + "(169.254.169.254) hand out the node's credentials");
        }
        String dotted = InetAddresses.toAddrString(toInet(b));
        if (dotted.equals("100.100.100.200") || dotted.equals("168.63.129.16")) {
            return Optional.of("'" + text + "' is a cloud platform endpoint (Alibaba metadata / Azure wire server)");
        }
        return Optional.empty();
    }

    /**
     * {@code inet_aton}'s reading of {@code text}: one to four parts separated by dots, each decimal, octal (leading
     * 0) or hex (0x), the last filling the remaining bytes. Empty when it is not such a spelling or is canonical
     * dotted decimal (which the IP literal path handles).
     */
    static Optional<byte[]> inetAton(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length > 4) {
            return Optional.empty();
        }
        long[] values = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String p = parts[i];
            try {
                if (p.startsWith("0x")) {
                    values[i] = p.length() == 2 ? 0 : Long.parseLong(p.substring(2), 16);
                } else if (p.length() > 1 && p.startsWith("0")) {
                    values[i] = Long.parseLong(p.substring(1), 8);
                } else if (!p.isEmpty() && p.chars().allMatch(Character::isDigit)) {
                    values[i] = Long.parseLong(p);
                } else {
                    return Optional.empty();
                }
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        long addr = 0;
        for (int i = 0; i < values.length - 1; i++) {
            if (values[i] > 255) {
                return Optional.empty();
            }
            addr |= values[i] << (8 * (3 - i));
        }
        long last = values[values.length - 1];
        int lastBytes = 4 - (values.length - 1);
        if (last >= (1L << (8 * lastBytes))) {
            return Optional.empty();
        }
        addr |= last;
        return Optional.of(new byte[] {(byte) (addr >>> 24), (byte) (addr >>> 16), (byte) (addr >>> 8), (byte) addr});
    }

    private static boolean zero(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return true;
    }

    private static InetAddress toInet(byte[] b) {
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
