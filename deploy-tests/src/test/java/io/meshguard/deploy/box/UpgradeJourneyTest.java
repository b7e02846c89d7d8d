package io.meshguard.deploy.box;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.deploy.RenderedManifests;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

/**
 * The release a bank runs, upgraded and rolled back the way docs/install.md sections 5 and 6 say: the box installed
 * the previous release of {@code RELEASES} (its jar built from its commit, its manifests), made the bank's state on it,
 * upgraded to the tree (migrate Job, then extauthz and DLP, then xds, then the gateway) before any other journey ran,
 * and every journey since ran on the tree. Last of all (this class is ordered after every other journey), the servers
 * are rolled back to the previous release on the newer schema, and nothing the bank had is lost either way.
 */
@Tag("cluster")
@Order(Integer.MAX_VALUE)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UpgradeJourneyTest {
    private static ReleaseUpgrade upgrade;
    private static String treeVersion;

    @BeforeAll
    static void installed() throws Exception {
        SharedBox.get();
        upgrade = SharedBox.upgrade()
                .orElseThrow(() -> new AssertionError("the box did not upgrade: RELEASES records no release"
                        + " (docs/release.md step 4) or the previous release's install failed"));
        Matcher m = Pattern.compile("<artifactId>meshguard-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(RenderedManifests.repoRoot().resolve("pom.xml")));
        assertThat(m.find()).as("the root pom's version").isTrue();
        treeVersion = m.group(1);
    }

    @Test
    @Order(1)
    void upgrade_fromThePreviousRelease_keepsCallsAuditTrailAndKeys_andRunsTheNewVersion() {
        ReleaseUpgrade.Evidence before = upgrade.before();
        ReleaseUpgrade.Evidence after = upgrade.upgraded();
        assertThat(before.versions().values())
                .as("the install ran the previous release's jar: %s", before)
                .isNotEmpty()
                .containsOnly(upgrade.from().version());
        assertThat(after.versions().values())
                .as("every server rolled to the tree's build: %s", after)
                .containsOnly(treeVersion);
        assertThat(before.customerCall())
                .as("a customer's call on %s", upgrade.from().version())
                .isEqualTo(200);
        assertThat(before.decisionFound()).as("its decision in the audit log").isTrue();
        assertThat(after.customerCall()).as("the same call after the upgrade").isEqualTo(200);
        assertThat(after.decisionFound()).as("its decision in the audit log").isTrue();
        assertThat(after.auditRows()).as("audit rows").isGreaterThan(before.auditRows());
        assertThat(after.activeKeys()).as("the key made before").isEqualTo(upgrade.keyId());
    }

    @Test
    @Order(2)
    void upgrade_zoneInstalledOnTheRelease_keepsItsRevisionsAcrossTheUpgrade_andTakesTheNextPublish() {
        assertThat(upgrade.zone())
                .as(
                        "a zone's cluster installed beside central on %s",
                        upgrade.from().version())
                .isPresent();
        assertThat(upgrade.zone().get().failures()).as("the zone's pods").isEmpty();
        assertThat(upgrade.zoneFailure()).as("the zone's evidence").isEmpty();
        ReleaseUpgrade.ZoneEvidence before = upgrade.zoneBefore().orElseThrow();
        ReleaseUpgrade.ZoneEvidence after = upgrade.zoneUpgraded().orElseThrow();
        ReleaseUpgrade.ZoneEvidence published = upgrade.zoneAfterPublish().orElseThrow();
        assertThat(before.zoneVersion())
                .as("the zone ran %s: %s", upgrade.from().version(), before)
                .startsWith(upgrade.from().version());
        assertThat(before.gatewayRoutes()).as("the zone's gateway before").contains("/accounts");
        // central first, then the zone (docs/install.md section 5): the zone follows, on the tree's build, and still
        // serves its gateway the revision it applied on the release, nothing republished
        assertThat(after.zoneVersion())
                .as("the zone rolled to the tree: %s", after)
                .startsWith(treeVersion);
        assertThat(after.applied())
                .as("the revision the zone applied before the upgrade: %s", after)
                .isEqualTo(before.applied());
        assertThat(after.gatewayRevisions()).as("its gateway's revision").containsOnly(before.applied());
        assertThat(after.gatewayRoutes()).as("the zone's gateway after").contains("/accounts");
        // a publish on the upgraded central reaches the upgraded zone and its gateway
        assertThat(published.applied())
                .as("the publish after the upgrade: %s", published)
                .isGreaterThan(before.applied());
        assertThat(published.gatewayRevisions()).containsOnly(published.applied());
        assertThat(published.gatewayRoutes()).contains("/after-upgrade").contains("/accounts");
    }

    @Test
    @Order(3)
    // three servers rolled back (extauthz and DLP side by side, then xds), pod by pod, each Ready before the next,
    // then the zone's publish: more than the parent's 5 minutes for a test on a loaded machine
    @Timeout(value = 12, unit = TimeUnit.MINUTES)
    void upgrade_thenRollBackTheServers_keepsWhatWasWrittenOnBothReleases() throws Exception {
        ReleaseUpgrade.Evidence after = upgrade.upgraded();
        ClusterInABox box = SharedBox.get();
        ReleaseUpgrade.Evidence back = upgrade.rollBack();
        assertThat(back.versions().values())
                .as("extauthz, DLP and xds back on the previous release: %s", back)
                .containsOnly(upgrade.from().version());
        assertThat(back.customerCall())
                .as("a customer's call after the rollback")
                .isEqualTo(200);
        assertThat(back.decisionFound()).as("its decision in the audit log").isTrue();
        assertThat(back.auditRows()).as("audit rows").isGreaterThan(after.auditRows());
        assertThat(back.activeKeys()).as("the key made before the upgrade").isEqualTo(upgrade.keyId());
        // the chain the previous release wrote, and what the tree wrote on it, verified by the rolled-back controller
        assertThat(ReleaseUpgrade.Evidence.trailHolds(box, upgrade.before().trailHead()))
                .as("the admin trail through %s", upgrade.before().trailHead())
                .isTrue();
        assertThat(ReleaseUpgrade.Evidence.trailHolds(box, after.trailHead()))
                .as("the admin trail through %s", after.trailHead())
                .isTrue();
        // the zone, left on the tree, follows the rolled-back central: a publish there reaches its gateway
        ReleaseUpgrade.ZoneEvidence zone = upgrade.zoneAfterRollBack();
        assertThat(zone.zoneVersion())
                .as("the zone stays on the tree: %s", zone)
                .startsWith(treeVersion);
        assertThat(zone.gatewayRevisions()).containsOnly(zone.applied());
        assertThat(zone.gatewayRoutes()).contains("/after-rollback").contains("/after-upgrade");
    }
}
