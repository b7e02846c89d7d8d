package io.meshguard.deploy.box;

import com.sun.tools.attach.VirtualMachine;

/**
 * {@code PID JAR}: loads the agent {@code JAR} into the JVM {@code PID} with the JDK's attach API, as {@code jcmd PID
 * JVMTI.agent_load JAR} does. Run inside the target pod's mount namespace ({@code nsenter --mount}, what {@code kubectl
 * exec} gives): HotSpot's attach listener puts its socket in the target's {@code /tmp}, which in a pod is the pod's
 * own {@code emptyDir}, not the node's.
 */
public final class AgentAttach {
    private AgentAttach() {}

    public static void main(String[] args) throws Exception {
        VirtualMachine vm = VirtualMachine.attach(args[0]);
        try {
            vm.loadAgent(args[1]);
            System.out.println("agent " + args[1] + " loaded into " + args[0]);
        } finally {
            vm.detach();
        }
    }
}
