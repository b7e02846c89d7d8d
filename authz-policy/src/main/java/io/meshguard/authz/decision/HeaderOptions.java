package io.meshguard.authz.decision;

import com.google.protobuf.BoolValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.meshguard.authz.request.HeaderMutation;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Envoy's {@code HeaderValueOption} for each header mutation meshguard sets, built once per distinct mutation: the
 * identity headers of a cached token repeat on every Check, and a protobuf message is immutable, so one instance
 * serves them all. Bounded: when {@link #MAX_ENTRIES} distinct mutations are held the cache starts over, so a stream of
 * new subjects costs a build each, never memory.
 */
final class HeaderOptions {
    static final int MAX_ENTRIES = 4096;

    private final Map<HeaderMutation, HeaderValueOption> built = new ConcurrentHashMap<>();

    HeaderValueOption of(HeaderMutation m) {
        HeaderValueOption option = built.get(m);
        if (option == null) {
            option = build(m);
            if (built.size() >= MAX_ENTRIES) {
                built.clear();
            }
            built.put(m, option);
        }
        return option;
    }

    int size() {
        return built.size();
    }

    static HeaderValueOption build(HeaderMutation m) {
        HeaderValueOption.Builder option = HeaderValueOption.newBuilder()
                .setHeader(HeaderValue.newBuilder().setKey(m.name()).setValue(m.value()));
        if (m.mode() == HeaderMutation.Mode.OVERWRITE) {
            option.setAppend(BoolValue.of(false))
                    .setAppendAction(HeaderValueOption.HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD);
        } else {
            // no 'append' here: Envoy would let it win over append_action and overwrite the client's value
            option.setAppendAction(HeaderValueOption.HeaderAppendAction.ADD_IF_ABSENT);
        }
        return option.build();
    }
}
