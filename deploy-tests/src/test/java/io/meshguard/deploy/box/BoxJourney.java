package io.meshguard.deploy.box;

import org.junit.jupiter.api.BeforeAll;

/**
 * A journey of the bank's people on the test JVM's one cluster in a box ({@link SharedBox}): the box and the bank's
 * identity provider on it, both ready before the journey's first test (a journey's own {@code @BeforeAll} runs after).
 */
abstract class BoxJourney {
    static ClusterInABox box;
    static BankIdentityProvider idp;

    @BeforeAll
    static void onTheSharedBox() throws Exception {
        box = SharedBox.get();
        idp = box.identityProvider();
    }
}
