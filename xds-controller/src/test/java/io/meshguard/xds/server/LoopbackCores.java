package io.meshguard.xds.server;

import io.meshguard.xds.XdsCore;
import io.meshguard.xds.snapshot.FilterTargets;
import io.meshguard.xds.store.InMemoryRevisionStore;
import io.meshguard.xds.store.RevisionStore;
import io.meshguard.xds.validate.ConfigValidator;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.util.Optional;

/**
 * Started cores as the server tests run them: ADS on a free loopback port open to local peers, the default filter
 * targets, no default group, no one told of fleet changes, the system clock and the shipped validator.
 */
public final class LoopbackCores {
    private LoopbackCores() {}

    /** Over an in-memory revision store, without rollout spans or VHDS. */
    static XdsCore inMemory(MeterRegistry meters) throws Exception {
        return started(new InMemoryRevisionStore(Clock.systemUTC()), meters, RolloutSpans.disabled(), Optional.empty());
    }

    /** Over an in-memory revision store, with these rollout spans and virtual hosts over VHDS when given. */
    static XdsCore inMemory(RolloutSpans rollouts, Optional<XdsCore.Vhds> vhds) throws Exception {
        return started(new InMemoryRevisionStore(Clock.systemUTC()), new SimpleMeterRegistry(), rollouts, vhds);
    }

    /** Over {@code store}, without rollout spans or VHDS. */
    public static XdsCore over(RevisionStore store) throws Exception {
        return over(store, new SimpleMeterRegistry());
    }

    /** Over {@code store}, metrics in {@code meters}, without rollout spans or VHDS. */
    public static XdsCore over(RevisionStore store, MeterRegistry meters) throws Exception {
        return started(store, meters, RolloutSpans.disabled(), Optional.empty());
    }

    /**
     * Over {@code store} on ADS port {@code port} (0: a free one), with virtual hosts over VHDS when given, without
     * rollout spans.
     */
    public static XdsCore onPort(int port, RevisionStore store, Optional<XdsCore.Vhds> vhds) throws Exception {
        return core(port, store, new SimpleMeterRegistry(), new ConfigValidator(), RolloutSpans.disabled(), vhds)
                .start();
    }

    /**
     * A core over {@code store} that every publish must pass {@code validator} in, not started: for a test of what
     * its publisher accepts, with no ADS server behind it.
     */
    public static XdsCore unstarted(RevisionStore store, ConfigValidator validator) {
        return core(0, store, new SimpleMeterRegistry(), validator, RolloutSpans.disabled(), Optional.empty());
    }

    private static XdsCore started(
            RevisionStore store, MeterRegistry meters, RolloutSpans rollouts, Optional<XdsCore.Vhds> vhds)
            throws Exception {
        return core(0, store, meters, new ConfigValidator(), rollouts, vhds).start();
    }

    private static XdsCore core(
            int port,
            RevisionStore store,
            MeterRegistry meters,
            ConfigValidator validator,
            RolloutSpans rollouts,
            Optional<XdsCore.Vhds> vhds) {
        return new XdsCore(
                new InetSocketAddress("127.0.0.1", port),
                FilterTargets.DEFAULTS,
                store,
                Optional.empty(),
                s -> {},
                meters,
                Clock.systemUTC(),
                validator,
                rollouts,
                AdsPeerPolicy.localDevelopment(),
                vhds);
    }
}
