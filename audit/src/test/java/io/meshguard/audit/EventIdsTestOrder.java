package io.meshguard.audit;

import java.util.Comparator;
import java.util.UUID;

/** UUID order as PostgreSQL sorts {@code uuid} (unsigned bytes), unlike {@link UUID#compareTo} (signed longs). */
final class EventIdsTestOrder {
    static final Comparator<UUID> UNSIGNED = Comparator.comparing(
                    (UUID u) -> u.getMostSignificantBits(), Long::compareUnsigned)
            .thenComparing(UUID::getLeastSignificantBits, Long::compareUnsigned);

    private EventIdsTestOrder() {}
}
