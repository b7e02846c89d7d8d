package io.meshguard.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class OwnedHeaderNamesTest {

    @Test
    void ownedBy_recognisesEverySpelling_ofAnOwnedName() {
        for (String spelling : List.of(
                "authorization",
                "Authorization",
                " AUTHORIZATION ",
                "x-user-id",
                "X_User_Id",
                "x-user_id",
                "\tx-tenant-id",
                "x-meshguard-dlp-profile",
                "X-MESHGUARD-anything",
                "x_meshguard_route",
                "cookie",
                "Proxy-Authorization",
                "x-forwarded-client-cert",
                "X-Api-Key")) {
            assertThat(OwnedHeaderNames.ownedBy(spelling, List.of()))
                    .as(spelling)
                    .isPresent();
        }
    }

    @Test
    void ownedBy_addsThePolicysOwnNames_inAnySpelling() {
        assertThat(OwnedHeaderNames.ownedBy("X_DWP_Source", List.of("x-dwp-source")))
                .isPresent();
        assertThat(OwnedHeaderNames.ownedBy("x-dwp-source", List.of())).isEmpty();
    }

    @Test
    void ownedBy_leavesOrdinaryHeadersAlone() {
        for (String name : List.of("x-request-source", "cache-control", "x-userid-hint", "x-meshguardian")) {
            assertThat(OwnedHeaderNames.ownedBy(name, List.of())).as(name).isEmpty();
        }
    }
}
