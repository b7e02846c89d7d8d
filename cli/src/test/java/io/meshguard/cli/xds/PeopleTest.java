package io.meshguard.cli.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.meshguard.xds.model.ConfigJson;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

class PeopleTest {
    static final String SALLY = "sally (5f0e8c2a-3b7d-4c1e-9a6f-0d2b4e8c1a7f)";
    static final String ADMIN = "system-admin (0b5c9f1e-7a2d-4e3b-8c6f-1d9e2a7b3c4d)";
    static final String OTHER_ADMIN = "system-admin (9d8e7f6a-5b4c-4d3e-8f2a-1b0c9d8e7f6a)";

    @Test
    void name_isTheDisplayName_asTheConsoleShowsIt() {
        People people = People.of(Stream.of(SALLY, ADMIN));
        assertThat(people.name(SALLY)).isEqualTo("sally");
        assertThat(people.name(ADMIN)).isEqualTo("system-admin");
    }

    @Test
    void name_keepsTheSubject_whereTwoPeopleOfTheAnswerShareTheName() {
        People people = People.of(Stream.of(SALLY, ADMIN, OTHER_ADMIN, ADMIN));
        assertThat(people.name(ADMIN)).isEqualTo(ADMIN);
        assertThat(people.name(OTHER_ADMIN)).isEqualTo(OTHER_ADMIN);
        assertThat(people.name(SALLY)).isEqualTo("sally");
    }

    @Test
    void name_ofATokenFileOrBreakGlassActor_isLeftAsIs() {
        People people = People.of(Stream.of("ops", "break-glass:ops"));
        assertThat(people.name("ops")).isEqualTo("ops");
        assertThat(people.name("break-glass:ops")).isEqualTo("break-glass:ops");
    }

    @Test
    void policyRequestShow_namesWhoAskedAndWhoDecided_withoutTheirSubjects() {
        ObjectNode q = ConfigJson.mapper().createObjectNode();
        q.put("id", 9)
                .put("policy", "authz")
                .put("state", "approved")
                .put("requested_by", SALLY)
                .put("requested_at", Instant.EPOCH.toString())
                .put("reason", "freeze writes")
                .put("decided_by", ADMIN)
                .put("decided_at", Instant.EPOCH.toString())
                .put("decision_reason", "reviewed")
                .put("digest", "ab")
                .put("diff", "");

        String text = PolicyRequestsCommand.render(q);

        assertThat(text)
                .contains("requested by sally at ")
                .contains("decided by system-admin at ")
                .doesNotContain("5f0e8c2a")
                .doesNotContain("0b5c9f1e");
    }

    @Test
    void peopleOfAList_readEveryRowsActors() {
        JsonNode a = ConfigJson.mapper().createObjectNode().put("requested_by", ADMIN);
        JsonNode b = ConfigJson.mapper().createObjectNode().put("requested_by", OTHER_ADMIN);
        JsonNode c = ConfigJson.mapper()
                .createObjectNode()
                .set("approved_by", ConfigJson.mapper().valueToTree(List.of(SALLY)));
        People people = People.in(List.of(a, b, c), "requested_by", "approved_by");
        assertThat(people.name(ADMIN)).isEqualTo(ADMIN);
        assertThat(people.name(SALLY)).isEqualTo("sally");
    }
}
