package io.meshguard.dlpserver;

import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.service.ext_proc.v3.HttpHeaders;
import java.util.Locale;

/**
 * Recognises a request that asks to switch protocols (WebSocket). Istio enables {@code upgrade_configs: websocket}
 * on every connection manager it builds ({@code pilot/pkg/networking/core/listener_builder.go}), and Envoy then runs
 * the upgrade's payload, the frames, through the same HTTP filter chain, ext_proc included
 * ({@code docs/root/intro/arch_overview/http/upgrades.rst}). Frames are not bodies: client frames are XOR-masked
 * (RFC 6455 section 5.3) and a rewrite that changes a length corrupts the frame.
 *
 * <p>Every spelling counts: any {@code upgrade} header (all of them, not only the first) naming {@code websocket}
 * in any case, alone or in a list, with or without a version ({@code websocket/13}); an HTTP/2 extended CONNECT
 * ({@code :protocol: websocket}, RFC 8441, which Envoy may hand over in either form); and any other protocol named
 * in {@code upgrade} together with a {@code connection} header listing {@code upgrade}: after a switch, whatever
 * flows is not an HTTP body either.
 */
final class UpgradeRequest {
    private UpgradeRequest() {}

    /** True when the request asks for a protocol switch. */
    static boolean isUpgrade(HttpHeaders h) {
        boolean upgradeHeader = false;
        boolean connectionUpgrade = false;
        for (HeaderValue v : h.getHeaders().getHeadersList()) {
            String key = v.getKey().toLowerCase(Locale.ROOT);
            if (!key.equals("upgrade") && !key.equals("connection") && !key.equals(":protocol")) {
                continue;
            }
            String value =
                    v.getRawValue().isEmpty() ? v.getValue() : v.getRawValue().toStringUtf8();
            switch (key) {
                case "upgrade" -> {
                    if (!value.isBlank()) {
                        upgradeHeader = true;
                    }
                    if (listsToken(value, "websocket")) {
                        return true;
                    }
                }
                case "connection" -> connectionUpgrade |= listsToken(value, "upgrade");
                default -> {
                    if (listsToken(value, "websocket")) {
                        return true;
                    }
                }
            }
        }
        return upgradeHeader && connectionUpgrade;
    }

    /** True when the comma-separated list names {@code token} (ASCII case ignored, a {@code /version} ignored). */
    static boolean listsToken(String list, String token) {
        int at = 0;
        while (at <= list.length()) {
            int comma = list.indexOf(',', at);
            int end = comma < 0 ? list.length() : comma;
            String item = list.substring(at, end).strip();
            int slash = item.indexOf('/');
            if (slash >= 0) {
                item = item.substring(0, slash).strip();
            }
            if (item.equalsIgnoreCase(token)) {
                return true;
            }
            if (comma < 0) {
                break;
            }
            at = comma + 1;
        }
        return false;
    }
}
