package io.meshguard.emulator;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import org.junit.jupiter.api.Test;

class RoutingTest {
    private static final RouteConfiguration HOSTS = RouteConfiguration.newBuilder()
            .addVirtualHosts(VirtualHost.newBuilder().setName("exact").addDomains("api.test").addDomains("api.test:*"))
            .addVirtualHosts(VirtualHost.newBuilder().setName("suffix").addDomains("*.test"))
            .addVirtualHosts(VirtualHost.newBuilder().setName("any").addDomains("*"))
            .build();

    private static String vh(String authority) {
        return RouteTable.virtualHost(HOSTS, authority).map(VirtualHost::getName).orElse("none");
    }

    @Test
    void virtualHost_exactThenPortWildcardThenSuffixThenAny_caseInsensitive() {
        assertThat(vh("api.test")).isEqualTo("exact");
        assertThat(vh("API.Test")).isEqualTo("exact");
        assertThat(vh("api.test:8080")).isEqualTo("exact");
        assertThat(vh("other.test")).isEqualTo("suffix");
        assertThat(vh(".test")).as("a wildcard never matches an empty part").isEqualTo("any");
        assertThat(vh("elsewhere.example")).isEqualTo("any");
    }

    @Test
    void normalisation_resolvesDotSegmentsInEverySpelling_andMergesSlashes() {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setNormalizePath(BoolValue.of(true))
                .setMergeSlashes(true).build();
        assertThat(PathNormalizer.apply(hcm, "/a/./b/../c?x=/../y").path()).isEqualTo("/a/c?x=/../y");
        assertThat(PathNormalizer.apply(hcm, "/a/%2e%2E/c").path()).isEqualTo("/c");
        assertThat(PathNormalizer.apply(hcm, "//a///b").path()).isEqualTo("/a/b");
        assertThat(PathNormalizer.apply(hcm, "/a/%7Euser").path()).isEqualTo("/a/~user");
        assertThat(PathNormalizer.apply(hcm, "/a/%zz").kind()).isEqualTo(PathNormalizer.Result.Kind.REJECT);
    }

    @Test
    void escapedSlashes_areUnescapedAndRedirected_whenTheHcmSaysSo() {
        HttpConnectionManager hcm = HttpConnectionManager.newBuilder().setNormalizePath(BoolValue.of(true))
                .setPathWithEscapedSlashesAction(HttpConnectionManager.PathWithEscapedSlashesAction.UNESCAPE_AND_REDIRECT)
                .build();
        PathNormalizer.Result r = PathNormalizer.apply(hcm, "/a%2Fb%2f..%2Fc");
        assertThat(r.kind()).isEqualTo(PathNormalizer.Result.Kind.REDIRECT);
        assertThat(r.path()).isEqualTo("/a/c");
    }
}
