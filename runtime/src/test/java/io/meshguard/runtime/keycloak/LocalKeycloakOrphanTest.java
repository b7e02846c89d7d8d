package io.meshguard.runtime.keycloak;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Keycloak left by a killed owner is stopped by the next start; nothing else is. */
@Tag("integration")
class LocalKeycloakOrphanTest {
    @TempDir
    Path work;

    private final List<Process> started = new ArrayList<>();

    @AfterEach
    void stopAll() {
        started.forEach(Process::destroyForcibly);
    }

    @Test
    void stopOrphan_stopsAKeycloakWhoseOwnerIsGone_andRemovesThePidFile() throws Exception {
        Process left = spawn("sleep 60; echo keycloak");
        Files.writeString(work.resolve(LocalKeycloak.PID_FILE), left.pid() + " " + Long.MAX_VALUE);

        LocalKeycloak.stopOrphan(work);

        assertThat(left.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(work.resolve(LocalKeycloak.PID_FILE)).doesNotExist();
    }

    @Test
    void stopOrphan_leavesAServerWhoseOwnerStillRuns() throws Exception {
        Process server = spawn("sleep 60; echo keycloak");
        Process owner = spawn("sleep 60");
        Files.writeString(work.resolve(LocalKeycloak.PID_FILE), server.pid() + " " + owner.pid());

        LocalKeycloak.stopOrphan(work);

        assertThat(server.isAlive()).isTrue();
    }

    @Test
    void stopOrphan_leavesARecycledPidThatIsNotKeycloak() throws Exception {
        Process other = spawn("sleep 60");
        Files.writeString(work.resolve(LocalKeycloak.PID_FILE), Long.toString(other.pid()));

        LocalKeycloak.stopOrphan(work);

        assertThat(other.isAlive()).isTrue();
        assertThat(work.resolve(LocalKeycloak.PID_FILE)).doesNotExist();
    }

    private Process spawn(String script) throws Exception {
        Process p = new ProcessBuilder("sh", "-c", script).start();
        started.add(p);
        return p;
    }
}
