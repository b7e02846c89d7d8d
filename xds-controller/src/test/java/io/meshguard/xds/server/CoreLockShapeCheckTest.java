package io.meshguard.xds.server;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayDeque;
import java.util.Queue;
import org.jetbrains.kotlinx.lincheck.LinCheckerKt;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.junit.jupiter.api.Test;

/**
 * The lock shape that froze a zone's config delivery, as lincheck's model checker sees it: it tries every interleaving
 * of a node's VHDS ACK and another node's ADS ACK, so it finds the deadlock a soak meets in some runs only. The locked
 * shape (a VHDS stream's monitor held while the ACK settles removals under the snapshots' monitor, and a settle that
 * pushes to that stream under the snapshots' monitor) must be reported; the shape the core has now (an ACK handed to
 * the core's one owner, the owner handing the push to the discovery's thread, each monitor a leaf) must not.
 */
class CoreLockShapeCheckTest {

    private static ModelCheckingOptions options() {
        return new ModelCheckingOptions()
                .iterations(30)
                .invocationsPerIteration(500)
                .threads(2)
                .actorsPerThread(2)
                .actorsBefore(0)
                .actorsAfter(0);
    }

    /** The removal's two steps as they were: a settle re-serves under the snapshots' monitor and pushes to VHDS. */
    public static class LockedCore {
        private final Object snapshots = new Object();
        private final Object vhdsStream = new Object();
        private boolean retiring = true;
        private int pushes;

        /** A node's ADS ACK: the fleet's sink settled removals at once, on the gRPC thread. */
        @Operation
        public void adsAck() {
            settle();
        }

        /** A node's VHDS ACK: answered under its stream's monitor, which told the fleet, which settled. */
        @Operation
        public int vhdsAck() {
            synchronized (vhdsStream) {
                pushes++;
                settle();
                return pushes;
            }
        }

        private void settle() {
            synchronized (snapshots) {
                if (retiring) {
                    retiring = false;
                    push();
                }
            }
        }

        /** The served table pushed to the VHDS stream from inside the serve. */
        private void push() {
            synchronized (vhdsStream) {
                pushes++;
            }
        }
    }

    /**
     * The shape now: an ACK only hands its status to the core's owner ({@code xds-core}, operations of the "core"
     * group never run at once); the owner settles under the snapshots' monitor and hands the table to the discovery's
     * thread ({@code vhds-retry}), which pushes under the stream's monitor only.
     */
    public static class HandedOffCore {
        private final Object snapshots = new Object();
        private final Object vhdsStream = new Object();
        private final Queue<Runnable> core = new ArrayDeque<>();
        private final Queue<Runnable> discovery = new ArrayDeque<>();
        private boolean retiring = true;
        private int pushes;

        @Operation
        public void adsAck() {
            handOver(core, this::settle);
        }

        @Operation
        public int vhdsAck() {
            synchronized (vhdsStream) {
                pushes++;
                handOver(core, this::settle);
                return pushes;
            }
        }

        @Operation(nonParallelGroup = "xds-core")
        public void coreRuns() {
            run(core);
        }

        @Operation(nonParallelGroup = "vhds-retry")
        public void discoveryRuns() {
            run(discovery);
        }

        private void settle() {
            synchronized (snapshots) {
                if (retiring) {
                    retiring = false;
                    handOver(discovery, this::push);
                }
            }
        }

        private void push() {
            synchronized (vhdsStream) {
                pushes++;
            }
        }

        private static void handOver(Queue<Runnable> owner, Runnable task) {
            synchronized (owner) {
                owner.add(task);
            }
        }

        private static void run(Queue<Runnable> owner) {
            Runnable next;
            synchronized (owner) {
                next = owner.poll();
            }
            if (next != null) {
                next.run();
            }
        }
    }

    @Test
    void lockedShape_vhdsAckRacingAdsAck_isReportedAsADeadlock() {
        assertThatThrownBy(() -> LinCheckerKt.check(options(), LockedCore.class))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("All unfinished threads are in deadlock");
    }

    @Test
    void handedOffShape_noInterleavingDeadlocks() {
        LinCheckerKt.check(options(), HandedOffCore.class);
    }
}
