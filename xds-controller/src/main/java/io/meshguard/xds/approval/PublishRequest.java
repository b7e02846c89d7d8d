package io.meshguard.xds.approval;

import com.fasterxml.jackson.databind.JsonNode;
import io.meshguard.xds.change.ConfigChangeAudit;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A publish to a protected gateway group waiting for, or having had, a second person's decision.
 *
 * @param contentSha256 SHA-256 of the requested slice: what an approval publishes, and what a later draft edit voids
 * @param diff          the requested slice against what the group served when it was asked for
 * @param authors       the requester and everyone whose draft change in the group no decision has served yet, by name
 * @param revision      the revision the approval published
 * @param authorPeople  the same people by verified subject ({@link io.meshguard.access.Person#id()}): what four eyes
 *                      compares; empty for requests stored before these were kept (then the names are compared)
 * @param authorsThrough the newest draft change the request covers: its approval settles the changes up to it
 * @param report the group's recorded decisions replayed against exactly the requested content ({@link GatewayReplay});
 *     empty until computed
 */
public record PublishRequest(
        long id,
        String group,
        State state,
        String requestedBy,
        Instant requestedAt,
        String reason,
        String contentSha256,
        JsonNode diff,
        List<String> authors,
        Optional<String> decidedBy,
        Optional<Instant> decidedAt,
        Optional<String> decisionReason,
        Optional<Long> revision,
        List<String> authorPeople,
        long authorsThrough,
        Optional<ReplayReport> report) {

    /** Where a request is. */
    public enum State {
        PENDING,
        /** Approved and published, exactly as requested. */
        PUBLISHED,
        REJECTED,
        /** The draft changed after the request, or a newer request replaced it: approving it is refused. */
        VOIDED
    }

    public PublishRequest {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(state, "state");
        authors = List.copyOf(authors);
        authorPeople = List.copyOf(authorPeople);
        report = report == null ? Optional.empty() : report;
    }

    /** Whether the request carries a report computed on its content after it was requested. */
    @com.fasterxml.jackson.annotation.JsonProperty("report_current")
    public boolean reportCurrent() {
        return report.filter(r -> r.coversRequestOf(requestedAt)).isPresent();
    }

    /** Whether {@code person} asked for or authored any change in this request. */
    public boolean authoredBy(io.meshguard.access.Person person) {
        return authorPeople.isEmpty() ? authors.contains(person.name()) : authorPeople.contains(person.id());
    }

    /**
     * The admin trail's row of this request's report, once computed: its window and counts (the groups are kept with
     * the request). The one spelling for every path that opens or recomputes a request (a product publish too).
     */
    public Optional<ConfigChangeAudit.ConfigChange> reportRow(String actor, String requestId) {
        return report.map(r -> new ConfigChangeAudit.ConfigChange(
                actor,
                "publish-report",
                "publish-request/" + group + "/" + id,
                "replayed " + r.decisions() + " decisions of " + r.from() + " .. " + r.to() + ": " + r.flipped()
                        + " flipped, " + r.notReplayable() + " not replayable",
                requestId));
    }
}
