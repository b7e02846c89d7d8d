package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.meshguard.runtime.lifecycle.ReadinessCheck;
import io.meshguard.testing.IntegrationTest;
import io.meshguard.testing.PostgresExtension;
import io.meshguard.xds.XdsCore;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.store.ForeignRevisions;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.store.PgRevisionStore;
import io.meshguard.xds.store.RevisionListener;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;

/**
 * Published class "one malformed revision, plan or tenant object stopping other groups' publishes" (fault isolation),
 * central's side, against a real PostgreSQL: a replica that cannot read one group's newest revision, for any reason a
 * read can fail, refuses that revision for its group alone. Every other group is published, served by the other
 * replicas, by a replica that starts, and through the publish loop (NOTIFY); the refusal is counted and logged once,
 * shown in {@code /readyz}, and cleared when the group gets a revision this release reads.
 */
@IntegrationTest
class PublishFaultIsolationTest {
    @RegisterExtension
    static final PostgresExtension PG = new PostgresExtension();

    /** Every way a stored revision's read fails. */
    enum Fault {
        /** A field a newer release added to the group (Jackson: unknown property, IllegalArgumentException). */
        NEWER_RELEASE_GROUP_FIELD("field"),
        /** A value a newer release added (an enum constant this release lacks: IllegalArgumentException). */
        NEWER_RELEASE_GROUP_VALUE("value"),
        /** A route part written by a newer release (read after the row: IllegalArgumentException). */
        NEWER_RELEASE_ROUTE_PART("part"),
        /** A row changed behind its trigger, so its seal in the admin trail no longer matches (StoreException). */
        SEAL_MISMATCH("seal");

        final String slug;

        Fault(String slug) {
            this.slug = slug;
        }

        /** Stores the unreadable revision of {@code group}, made from its readable revision {@code like}. */
        long write(DataSource ds, String group, long like) throws Exception {
            UnaryOperator<String> same = s -> s;
            return switch (this) {
                case NEWER_RELEASE_GROUP_FIELD ->
                    ForeignRevisions.sealed(
                            ds,
                            group,
                            like,
                            json -> replaceOnce(
                                    json, "{\"groups\":[{", "{\"groups\":[{\"tenant_isolation\":\"strict\","),
                            Optional.empty());
                case NEWER_RELEASE_GROUP_VALUE ->
                    ForeignRevisions.sealed(
                            ds,
                            group,
                            like,
                            json -> replaceOnce(
                                    json, "\"proxyless_authz\":\"off\"", "\"proxyless_authz\":\"attested\""),
                            Optional.empty());
                case NEWER_RELEASE_ROUTE_PART ->
                    ForeignRevisions.sealed(
                            ds,
                            group,
                            like,
                            same,
                            Optional.of(json -> replaceOnce(json, "{", "{\"match_cel\":\"request.size < 10\",")));
                case SEAL_MISMATCH -> {
                    long id = ForeignRevisions.sealed(ds, group, like, same, Optional.empty());
                    ForeignRevisions.reasonChangedBehindTheTrigger(ds, id);
                    yield id;
                }
            };
        }

        private static String replaceOnce(String json, String from, String to) {
            assertThat(json).contains(from);
            int at = json.indexOf(from);
            return json.substring(0, at) + to + json.substring(at + from.length());
        }
    }

    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger publisherLog = (Logger) LoggerFactory.getLogger(Publisher.class);

    @BeforeAll
    static void draft() {
        // a revision row names its group, so the draft holds every group the cases publish
        List<GatewayConfig> all = Arrays.stream(Fault.values())
                .flatMap(f -> List.of(broken(f), good(f)).stream())
                .map(g -> IncrementalPublishTest.config(g, 10, 90))
                .toList();
        new PgGatewayStore(PG.dataSource()).replace(both(all));
    }

    @BeforeEach
    void captureLogs() {
        logs.start();
        publisherLog.addAppender(logs);
    }

    @AfterEach
    void releaseLogs() {
        publisherLog.detachAppender(logs);
    }

    /** Sorted first, so the loop over groups meets it before the good one. */
    private static String broken(Fault f) {
        return f.slug + "-a";
    }

    private static String good(Fault f) {
        return f.slug + "-b";
    }

    private static GatewayConfig both(List<GatewayConfig> configs) {
        return new GatewayConfig(
                configs.stream().flatMap(c -> c.groups().stream()).toList(),
                configs.stream().flatMap(c -> c.upstreams().stream()).toList(),
                configs.stream().flatMap(c -> c.apis().stream()).toList(),
                configs.stream().flatMap(c -> c.routes().stream()).toList());
    }

    private static GatewayConfig config(Fault f, int goodWeight) {
        return both(List.of(
                IncrementalPublishTest.config(broken(f), 10, 90),
                IncrementalPublishTest.config(good(f), 10, goodWeight)));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Fault.class)
    void oneUnreadableRevision_isRefusedForItsGroupAlone_everyOtherGroupIsPublishedAndServed(Fault fault)
            throws Exception {
        DataSource ds = PG.dataSource();
        String a = broken(fault);
        String b = good(fault);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        try (XdsCore one = LoopbackCores.over(new PgRevisionStore(ds));
                XdsCore two = LoopbackCores.over(new PgRevisionStore(ds), meters)) {
            Publisher.Result first = one.publisher().publish(config(fault, 90), "alice", "first");
            assertThat(first.published()).isTrue();
            long a1 = first.revisions().get(a).id();
            two.publisher().applyLatest();
            assertThat(two.publisher().servedRevision(a)).contains(a1);

            long a2 = fault.write(ds, a, a1);

            // the publishing replica: the other group is published, the unreadable one left as it is and named
            Publisher.Result second = one.publisher().publish(config(fault, 80), "alice", "the good group changes");
            assertThat(second.published()).isTrue();
            assertThat(second.revisions()).containsOnlyKeys(b);
            assertThat(second.problems())
                    .filteredOn(p -> p.code() == ProblemCode.PUBLISH_REVISION_UNREADABLE)
                    .singleElement()
                    .satisfies(p -> {
                        assertThat(p.severity()).isEqualTo(Problem.Severity.WARNING);
                        assertThat(p.message()).contains("revision " + a2 + " of group " + a);
                    });
            long b2 = second.revisions().get(b).id();

            // another replica: the good group served, the broken one keeps what it served, however often asked
            for (int i = 0; i < 3; i++) {
                two.publisher().applyLatest();
            }
            assertThat(two.publisher().servedRevision(b)).contains(b2);
            assertThat(two.publisher().servedRevision(a)).contains(a1);
            assertThat(two.publisher().notServed()).containsOnlyKeys(a);
            assertThat(two.publisher().notServed().get(a).revision()).isEqualTo(a2);
            assertThat(meters.get("meshguard_xds_publish_total")
                            .tag("result", "apply_failed")
                            .counter()
                            .count())
                    .isEqualTo(1.0);
            assertThat(meters.get("meshguard_xds_revisions_not_served").gauge().value())
                    .isEqualTo(1.0);
            assertThat(logs.list)
                    .filteredOn(e -> e.getLevel() == Level.ERROR
                            && e.getFormattedMessage().contains("revision " + a2 + " of group " + a))
                    .hasSize(1);
            ReadinessCheck.Result ready = two.publisher().readinessCheck().check();
            assertThat(ready.ready()).isTrue();
            assertThat(ready.detail()).contains("group " + a + " revision " + a2 + " cannot be read");

            // a replica that starts now starts, and serves the good group
            try (XdsCore three = LoopbackCores.over(new PgRevisionStore(ds))) {
                assertThat(three.publisher().servedRevision(b)).contains(b2);
                assertThat(three.publisher().servedRevision(a)).isEmpty();
                assertThat(three.publisher().notServed()).containsOnlyKeys(a);
            }

            // the publish loop goes on: the good group's next revision reaches the replica through NOTIFY
            try (RevisionListener listener = new RevisionListener(
                            ds,
                            new PgRevisionStore(ds),
                            () -> two.publisher().applyLatest(),
                            Duration.ofMillis(20),
                            Duration.ofMinutes(5))
                    .start()) {
                long b3 = one.publisher()
                        .publish(config(fault, 70), "alice", "the good group changes again")
                        .revisions()
                        .get(b)
                        .id();
                await().atMost(Duration.ofSeconds(10))
                        .until(() -> two.publisher().servedRevision(b).equals(Optional.of(b3)));
            }

            // a rollback to a revision this release reads replaces the unreadable one, and the refusal clears
            Publisher.Result rolledBack = one.publisher().rollback(a1, "ops", "replace the newer release's revision");
            assertThat(rolledBack.published()).isTrue();
            two.publisher().applyLatest();
            assertThat(two.publisher().servedRevision(a))
                    .contains(rolledBack.revisions().get(a).id());
            assertThat(two.publisher().notServed()).isEmpty();
            assertThat(two.publisher().readinessCheck().check().detail())
                    .isEqualTo("every group's newest revision served");
            assertThat(meters.get("meshguard_xds_revisions_not_served").gauge().value())
                    .isEqualTo(0.0);
        }
    }
}
