package io.meshguard.dlpserver;

import io.meshguard.dlp.content.BodyTransformer;
import io.meshguard.dlp.content.ByteSink;
import io.meshguard.dlp.content.FindingListener;
import io.meshguard.dlp.content.Transformers;
import io.meshguard.dlp.policy.MediaTypes;
import io.meshguard.dlp.scan.Finding;
import io.meshguard.dlp.scan.ScanRules;
import io.meshguard.dlp.scan.ValueHasher;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The server's real transformers, except that a scan can be made to stall where a stuck one would: when the
 * transformer is made (at the headers), on a write (a body chunk) or at the end of the body (trailers). The stalled
 * thread waits on a latch the test releases, like a scan blocked on a lock or starved of CPU.
 */
final class StallingTransformers implements Transformers.Factory {
    enum Where {
        NOWHERE,
        CREATE,
        WRITE,
        FINISH
    }

    private volatile Where where = Where.NOWHERE;
    private volatile CountDownLatch stalled = new CountDownLatch(1);
    private volatile CountDownLatch release = new CountDownLatch(1);

    /** Stalls the next scan at {@code w}; returns the latch that counts down once a thread is stalled there. */
    CountDownLatch stallAt(Where w) {
        stalled = new CountDownLatch(1);
        release = new CountDownLatch(1);
        where = w;
        return stalled;
    }

    boolean stillStalled() {
        return release.getCount() > 0 && stalled.getCount() == 0;
    }

    /** Lets the stalled thread go on (and stalls nothing more). */
    void release() {
        where = Where.NOWHERE;
        release.countDown();
    }

    private void stallIf(Where w) {
        if (where != w) {
            return;
        }
        CountDownLatch r = release;
        stalled.countDown();
        try {
            r.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public BodyTransformer create(
            MediaTypes.Kind kind, ScanRules rules, ValueHasher hasher, ByteSink out, FindingListener listener) {
        stallIf(Where.CREATE);
        BodyTransformer real = Transformers.forKind(kind, rules, hasher, out, listener);
        return new BodyTransformer() {
            @Override
            public void write(byte[] b, int off, int len) {
                stallIf(Where.WRITE);
                real.write(b, off, len);
            }

            @Override
            public void finish() {
                stallIf(Where.FINISH);
                real.finish();
            }

            @Override
            public Optional<Finding> blockedBy() {
                return real.blockedBy();
            }

            @Override
            public long heldBack() {
                return real.heldBack();
            }
        };
    }
}
