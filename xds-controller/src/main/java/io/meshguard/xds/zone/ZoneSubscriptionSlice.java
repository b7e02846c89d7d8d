package io.meshguard.xds.zone;

import io.meshguard.catalog.SnapshotMessage;
import io.meshguard.catalogmodel.Application;
import io.meshguard.catalogmodel.Credential;
import io.meshguard.catalogmodel.Plan;
import io.meshguard.catalogmodel.ProductPublish;
import io.meshguard.catalogmodel.SharedCatalog;
import io.meshguard.catalogmodel.Subscription;
import io.meshguard.catalogmodel.SubscriptionSnapshot;
import io.meshguard.contract.zone.v1.ZoneProto;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The part of the catalogue's subscription state a zone's cluster decides from: the publishes on that cluster, their
 * products' plans, the subscriptions to them and the applications and credentials of those subscriptions. A zone's
 * extauthz replicas decide only product routes of their own cluster, so a zone never holds (nor keeps on its claim)
 * another cluster's customers, subscriptions or credential ids; every route the cluster serves decides as from the
 * whole state. The slice keeps central's version: the zone numbers what it serves itself, by content.
 */
final class ZoneSubscriptionSlice {
    private ZoneSubscriptionSlice() {}

    static SubscriptionSnapshot of(SubscriptionSnapshot whole, String cluster) {
        List<ProductPublish> publishes = whole.publishes().stream()
                .filter(p -> p.cluster().equals(cluster))
                .toList();
        Set<String> publishIds = publishes.stream().map(ProductPublish::id).collect(Collectors.toSet());
        Set<String> products = publishes.stream().map(ProductPublish::productId).collect(Collectors.toSet());
        List<Subscription> subscriptions = whole.subscriptions().stream()
                .filter(s -> publishIds.contains(s.publishId()))
                .toList();
        Set<String> subscribedPlans =
                subscriptions.stream().map(Subscription::planId).collect(Collectors.toSet());
        Set<String> applicationIds =
                subscriptions.stream().map(Subscription::applicationId).collect(Collectors.toSet());
        List<Plan> plans = whole.plans().stream()
                .filter(p -> products.contains(p.productId()) || subscribedPlans.contains(p.id()))
                .toList();
        List<Application> applications = whole.applications().stream()
                .filter(a -> applicationIds.contains(a.id()))
                .toList();
        List<Credential> credentials = whole.credentials().stream()
                .filter(c -> applicationIds.contains(c.applicationId()))
                .toList();
        SubscriptionSnapshot slice =
                new SubscriptionSnapshot(whole.version(), publishes, plans, applications, credentials, subscriptions);
        if (whole.shared().unreadablePublishes().isEmpty()) {
            return slice;
        }
        // a publish central cannot read is refused on the zone with the same reason; its cluster is one of the
        // values central could not read, so every such id goes, with no word of its tenant or row. A customer
        // tenant central cannot read is not sent (its credentials could be any cluster's): the zone answers its
        // calls no_subscription, refused all the same.
        Map<String, String> unreadable = new TreeMap<>();
        whole.shared().unreadablePublishes().keySet().forEach(id -> unreadable.put(id, "unreadable at central"));
        return slice.with(
                whole.version(),
                Optional.of(new SharedCatalog(slice.publishes(), slice.plans(), unreadable, Set.of())),
                Map.of());
    }

    /** The slice as the zone stream carries it. */
    static ZoneProto.SubscriptionState wire(SubscriptionSnapshot whole, String cluster) {
        return ZoneProto.SubscriptionState.newBuilder()
                .setVersion(whole.version())
                .setState(SnapshotMessage.write(of(whole, cluster)))
                .build();
    }
}
