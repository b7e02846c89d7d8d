package io.meshguard.runtime.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BearerTokensTest {
    @TempDir
    Path tmp;

    @Test
    void namedAndBareTokens_authenticateAsTheirActor() throws Exception {
        Path f = tmp.resolve("tokens");
        Files.writeString(f, "# comment\nalice:aaaaaaaaaaaaaaaaaaaa\nbbbbbbbbbbbbbbbbbbbb\nshort:tooShort\n");
        BearerTokens t = new BearerTokens(Optional.of(f));
        assertThat(t.authenticate("Bearer aaaaaaaaaaaaaaaaaaaa")).contains("alice");
        assertThat(t.authenticate("Bearer bbbbbbbbbbbbbbbbbbbb")).contains("admin");
        assertThat(t.authenticate("Bearer tooShort")).isEmpty();
        assertThat(t.authenticate("Basic aaaaaaaaaaaaaaaaaaaa")).isEmpty();
        assertThat(t.authenticate(null)).isEmpty();
    }

    @Test
    void rotatedSecret_replacesTheOldToken() throws Exception {
        Path f = tmp.resolve("tokens");
        Files.writeString(f, "ops:old-token-old-token-old\n");
        BearerTokens t = new BearerTokens(Optional.of(f));
        assertThat(t.authenticate("Bearer old-token-old-token-old")).contains("ops");
        Files.writeString(f, "ops:new-token-new-token-new\n");
        Files.setLastModifiedTime(
                f, FileTime.fromMillis(Files.getLastModifiedTime(f).toMillis() + 5000));
        assertThat(t.authenticate("Bearer old-token-old-token-old")).isEmpty();
        assertThat(t.authenticate("Bearer new-token-new-token-new")).contains("ops");
    }

    @Test
    void unreadableSecret_refusesEverything() throws Exception {
        Path f = tmp.resolve("tokens");
        Files.writeString(f, "ops:old-token-old-token-old\n");
        BearerTokens t = new BearerTokens(Optional.of(f));
        Files.delete(f);
        assertThat(t.authenticate("Bearer old-token-old-token-old")).isEmpty();
        assertThat(new BearerTokens(Optional.empty()).configured()).isFalse();
    }

    @Test
    void twoFiles_eachLineAuthenticatesAsItsOwnActor_andEitherGoneRefusesBoth() throws Exception {
        Path admin = tmp.resolve("admin-token");
        Path approver = tmp.resolve("approver-token");
        Files.writeString(admin, "aaaaaaaaaaaaaaaaaaaa\n");
        Files.writeString(approver, "approver:cccccccccccccccccccc\n");
        BearerTokens t = new BearerTokens(List.of(admin, approver));
        assertThat(t.configured()).isTrue();
        assertThat(t.authenticate("Bearer aaaaaaaaaaaaaaaaaaaa")).contains("admin");
        assertThat(t.authenticate("Bearer approver:cccccccccccccccccccc")).contains("approver");
        // the name travels with its token: one file's token cannot claim the other file's actor
        assertThat(t.authenticate("Bearer approver:aaaaaaaaaaaaaaaaaaaa")).isEmpty();
        Files.delete(approver);
        assertThat(t.authenticate("Bearer aaaaaaaaaaaaaaaaaaaa")).isEmpty();
    }
}
