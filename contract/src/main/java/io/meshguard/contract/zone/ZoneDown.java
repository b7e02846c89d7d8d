package io.meshguard.contract.zone;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A message from central to a zone: exactly one of its parts is present. Every command is idempotent: a revision the
 * zone already holds, or an older one, is ignored; a withdrawal of a group the zone does not serve changes nothing.
 */
public record ZoneDown(
        int version,
        Optional<GroupRevision> revision,
        Optional<Withdrawal> withdrawal,
        Optional<Credential> credential,
        Optional<EchoReceived> echoReceived,
        Optional<SubscriptionState> subscriptionState) {
    public ZoneDown {
        revision = revision == null ? Optional.empty() : revision;
        withdrawal = withdrawal == null ? Optional.empty() : withdrawal;
        credential = credential == null ? Optional.empty() : credential;
        echoReceived = echoReceived == null ? Optional.empty() : echoReceived;
        subscriptionState = subscriptionState == null ? Optional.empty() : subscriptionState;
    }

    public static ZoneDown of(GroupRevision r) {
        return new ZoneDown(
                ZoneWire.VERSION,
                Optional.of(r),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty());
    }

    public static ZoneDown of(Withdrawal w) {
        return new ZoneDown(
                ZoneWire.VERSION,
                Optional.empty(),
                Optional.of(w),
                Optional.empty(),
                Optional.empty(),
                Optional.empty());
    }

    public static ZoneDown of(Credential c) {
        return new ZoneDown(
                ZoneWire.VERSION,
                Optional.empty(),
                Optional.empty(),
                Optional.of(c),
                Optional.empty(),
                Optional.empty());
    }

    public static ZoneDown of(EchoReceived e) {
        return new ZoneDown(
                ZoneWire.VERSION,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.of(e),
                Optional.empty());
    }

    public static ZoneDown of(SubscriptionState s) {
        return new ZoneDown(
                ZoneWire.VERSION,
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.empty(),
                Optional.of(s));
    }

    /**
     * A published revision of one gateway group: the group's configuration slice as central stored it. The zone
     * builds and serves it with the same snapshot code central uses, against its own cluster's filter addresses.
     *
     * @param config the slice as JSON (the revision store's format)
     */
    public record GroupRevision(
            String group, long revision, String config, String actor, String reason, Instant createdAt) {
        public GroupRevision {
            Objects.requireNonNull(group, "group");
            Objects.requireNonNull(config, "config");
        }
    }

    /** The group no longer runs in this cluster: the only message that makes a zone stop serving anything. */
    public record Withdrawal(String group, String reason) {}

    /**
     * The zone's next credential, granted before the current one expires; the zone uses it when it next opens a
     * stream (no restart).
     */
    public record Credential(String secret, Instant expiresAt) {}

    /**
     * The catalogue's subscription state (products, plans, applications, credentials, subscriptions) as central's
     * extauthz replicas receive it: the zone keeps the newest in its state directory and serves it to its cluster's
     * replicas, through central outages as it serves revisions. Sent when a stream opens and on every change.
     *
     * @param snapshot the snapshot as JSON (the catalogue's {@code SnapshotJson})
     */
    public record SubscriptionState(long version, String snapshot) {
        public SubscriptionState {
            Objects.requireNonNull(snapshot, "snapshot");
        }
    }

    /** Central's answer to an echo: the zone redials when these stop coming, as central marks it stale. */
    public record EchoReceived(long sequence) {}
}
