package io.meshguard.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RouteContractTest {
    @Test
    void authzKeys_areDistinct_andCarryThePrefix() {
        assertThat(RouteContract.AuthzContext.ALL).doesNotHaveDuplicates().allSatisfy(k -> assertThat(k)
                .startsWith(RouteContract.AuthzContext.PREFIX));
    }

    @Test
    void dlpKeys_areValidGrpcMetadataNames() {
        // gRPC metadata keys are lower-case ASCII and must not end in "-bin" for string values.
        assertThat(RouteContract.DlpMetadata.ALL)
                .doesNotHaveDuplicates()
                .allSatisfy(k -> assertThat(k).matches("[a-z0-9._-]+").doesNotEndWith("-bin"));
    }

    @Test
    void accessLogTags_areDistinct_andHeadersAreLowerCase() {
        assertThat(RouteContract.AccessLogTags.KEYS).doesNotHaveDuplicates().allSatisfy(k -> assertThat(
                        RouteContract.AccessLogTags.tag(k))
                .startsWith("meshguard.")
                .matches("[a-z0-9._]+"));
        // Envoy looks logged headers up by their lower-case name (Http::LowerCaseString)
        assertThat(RouteContract.AccessLogTags.REQUEST_HEADERS)
                .doesNotHaveDuplicates()
                .allSatisfy(h -> assertThat(h).matches("[a-z0-9-]+"));
        assertThat(RouteContract.AccessLogTags.RESPONSE_HEADERS)
                .allSatisfy(h -> assertThat(h).matches("[a-z0-9-]+"));
    }
}
