package io.meshguard.testing;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The processes a test launched, killed with everything they started on {@link #close}: a field
 * {@code @AutoClose final StartedProcesses started = new StartedProcesses();} leaves no server running after a test
 * that failed halfway, whatever the process forked (PostgreSQL, Redis, an IdP).
 */
public final class StartedProcesses implements AutoCloseable {
    private final List<Process> started = new CopyOnWriteArrayList<>();

    /** Keeps {@code process} to kill with the others, and returns it. */
    public Process add(Process process) {
        started.add(process);
        return process;
    }

    /** Kills every process added and its descendants, forcibly: what a test leaves running is only in the way. */
    @Override
    public void close() {
        for (Process process : started) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
    }
}
