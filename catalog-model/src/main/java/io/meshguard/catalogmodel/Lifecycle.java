package io.meshguard.catalogmodel;

import java.util.EnumMap;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The states an entity of the catalogue may be in and the moves between them. Every state change of a product, plan,
 * publish, application, subscription or credential goes through {@link #move}, so a move the peers' users were bitten
 * by (a closed plan reopened, a rejected subscription activated) is refused in one place.
 *
 * @param <S> the entity's state enum
 */
public final class Lifecycle<S extends Enum<S>> {

    private final String entity;
    private final Map<S, Set<S>> next;

    private Lifecycle(String entity, Map<S, Set<S>> next) {
        this.entity = entity;
        this.next = next;
    }

    /** Starts a lifecycle for {@code entity} (a user-facing noun, e.g. "subscription") over the states of {@code type}. */
    public static <S extends Enum<S>> Builder<S> of(String entity, Class<S> type) {
        return new Builder<>(entity, type);
    }

    /** Whether {@code from → to} is a move this lifecycle allows. Staying in the same state is not a move. */
    public boolean allows(S from, S to) {
        return next.get(from).contains(to);
    }

    /** The states reachable from {@code from} in one move. */
    public Set<S> movesFrom(S from) {
        return next.get(from);
    }

    /**
     * Returns {@code to} when the move is allowed.
     *
     * @throws TransitionRefused naming the entity, both states and what {@code from} allows instead
     */
    public S move(S from, S to) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        if (!allows(from, to)) {
            throw new TransitionRefused(
                    entity,
                    from.name().toLowerCase(),
                    to.name().toLowerCase(),
                    next.get(from).stream()
                            .map(s -> s.name().toLowerCase())
                            .sorted()
                            .toList());
        }
        return to;
    }

    /** A move table under construction. */
    public static final class Builder<S extends Enum<S>> {
        private final String entity;
        private final Map<S, Set<S>> next;

        private Builder(String entity, Class<S> type) {
            this.entity = entity;
            this.next = new EnumMap<>(type);
            for (S s : type.getEnumConstants()) {
                next.put(s, EnumSet.noneOf(type));
            }
        }

        /** Allows {@code from → to} for each of {@code to}. */
        @SafeVarargs
        public final Builder<S> from(S from, S... to) {
            next.get(from).addAll(Set.of(to));
            return this;
        }

        public Lifecycle<S> build() {
            Map<S, Set<S>> frozen = new EnumMap<>(next);
            frozen.replaceAll((state, moves) -> Set.copyOf(moves));
            return new Lifecycle<>(entity, frozen);
        }
    }
}
