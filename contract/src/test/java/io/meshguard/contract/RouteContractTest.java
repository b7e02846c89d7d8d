package io.meshguard.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RouteContractTest {
    @Test
    void authzKeys_areDistinct_andCarryThePrefix() {
        assertThat(RouteContract.AuthzContext.ALL).doesNotHaveDuplicates()
                .allSatisfy(k -> assertThat(k).startsWith(RouteContract.AuthzContext.PREFIX));
    }

    @Test
    void dlpKeys_areValidGrpcMetadataNames() {
        // gRPC metadata keys are lower-case ASCII and must not end in "-bin" for string values.
        assertThat(RouteContract.DlpMetadata.ALL).doesNotHaveDuplicates()
                .allSatisfy(k -> assertThat(k).matches("[a-z0-9._-]+").doesNotEndWith("-bin"));
    }
}
