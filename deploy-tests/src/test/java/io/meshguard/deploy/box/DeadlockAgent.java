package io.meshguard.deploy.box;

import java.util.concurrent.CountDownLatch;

/**
 * A Java agent the box loads into a running pod's JVM through the JDK's attach API ({@link AgentAttach}): its
 * {@code agentmain} starts two platform threads that take two monitors in opposite order and wait for each other,
 * a real JVM deadlock ({@code ThreadMXBean.findDeadlockedThreads} finds it, {@code jstack} prints it). Nothing in
 * the product has a way to wedge itself; this comes from outside, as a bug would. Only JDK classes: the agent's jar
 * holds this class alone.
 */
public final class DeadlockAgent {
    private DeadlockAgent() {}

    public static void agentmain(String args) {
        Object first = new Object();
        Object second = new Object();
        CountDownLatch bothHoldOne = new CountDownLatch(2);
        Thread a = new Thread(() -> lockInTurn(first, second, bothHoldOne), "box-deadlock-a");
        Thread b = new Thread(() -> lockInTurn(second, first, bothHoldOne), "box-deadlock-b");
        // daemons: the JVM still ends on SIGTERM (the kubelet's kill), as a deadlock of pool threads would let it
        a.setDaemon(true);
        b.setDaemon(true);
        a.start();
        b.start();
    }

    private static void lockInTurn(Object mine, Object theirs, CountDownLatch bothHoldOne) {
        synchronized (mine) {
            bothHoldOne.countDown();
            try {
                bothHoldOne.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            synchronized (theirs) {
                System.out.println("unreachable: both monitors held");
            }
        }
    }
}
