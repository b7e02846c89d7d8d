package io.meshguard.cli.policy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code meshguard policy check} warns when authz.yaml renames an identity header and dlp.yaml does not follow: the
 * DLP server would read a held tool call's caller from a header extauthz no longer sets.
 */
class IdentityHeadersAgreeTest {
    @TempDir
    Path dir;

    void copyShipped(String authzEdit, String dlpEdit) throws Exception {
        Files.writeString(
                dir.resolve("authz.yaml"),
                Files.readString(ShippedPoliciesCheckTest.POLICIES.resolve("authz.yaml"))
                        .replace("subject: x-user-id", authzEdit));
        Files.writeString(
                dir.resolve("dlp.yaml"),
                Files.readString(ShippedPoliciesCheckTest.POLICIES.resolve("dlp.yaml"))
                        .replace("version: 1\n", "version: 1\n" + dlpEdit));
    }

    @Test
    void shippedFiles_agree() throws Exception {
        copyShipped("subject: x-user-id", "");
        assertThat(new DlpPolicyKind().warnings(dir)).isEmpty();
    }

    @Test
    void subjectRenamedInAuthzOnly_warned() throws Exception {
        copyShipped("subject: x-mg-subject", "");
        assertThat(new DlpPolicyKind().warnings(dir))
                .singleElement()
                .asString()
                .contains("identity_headers.subject is x-user-id")
                .contains("x-mg-subject");
    }

    @Test
    void subjectRenamedInBoth_agree() throws Exception {
        copyShipped("subject: x-mg-subject", "identity_headers: {subject: x-mg-subject}\n");
        assertThat(new DlpPolicyKind().warnings(dir)).isEmpty();
    }
}
