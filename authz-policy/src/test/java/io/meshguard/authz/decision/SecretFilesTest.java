package io.meshguard.authz.decision;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SecretFilesTest {
    @TempDir
    Path dir;

    @Test
    void mountedSecret_isRead_trimmed_andReReadAfterRotation() throws Exception {
        Path secret = dir.resolve("token");
        Files.writeString(secret, "svc-token-1\n");
        Files.setLastModifiedTime(secret, FileTime.from(Instant.parse("2026-11-21T10:00:00Z")));
        AtomicLong nanos = new AtomicLong();
        SecretFiles files = new SecretFiles(nanos::get);
        assertThat(files.read(secret)).contains("svc-token-1");

        Files.writeString(secret, "svc-token-2\n");
        Files.setLastModifiedTime(secret, FileTime.from(Instant.parse("2026-11-21T11:00:00Z")));
        // within a second the cached value is used; after it, the new content
        assertThat(files.read(secret)).contains("svc-token-1");
        nanos.addAndGet(2_000_000_000L);
        assertThat(files.read(secret)).contains("svc-token-2");
    }

    @Test
    void missingEmptyOrMultiLineSecret_givesNothing_soTheRequestIsDenied() throws Exception {
        SecretFiles files = new SecretFiles(System::nanoTime);
        assertThat(files.read(dir.resolve("absent"))).isEmpty();
        Path empty = Files.writeString(dir.resolve("empty"), "  \n");
        assertThat(files.read(empty)).isEmpty();
        Path twoLines = Files.writeString(dir.resolve("two"), "a\r\nx-injected: 1");
        assertThat(files.read(twoLines)).isEmpty();
    }
}
