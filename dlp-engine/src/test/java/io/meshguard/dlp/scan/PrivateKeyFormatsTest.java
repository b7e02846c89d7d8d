package io.meshguard.dlp.scan;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Secrets: private keys beyond PEM's PKCS#1 labels — OpenPGP armour, PuTTY {@code .ppk} (versions 2 and
 * 3), OpenSSH and encrypted PKCS#8 — are found, whole and split into two chunks at every byte. Key material here is
 * random filler in each format's frame, not a real key.
 */
class PrivateKeyFormatsTest {
    private static final String BODY = "lQOYBGXyq1kBCADPn2Vh7mZyQ0R8x3S5gJb9KfT2aUeW4nYcL1oH6pVdM3iE0rZs\n"
            + "Qk7tB8uFw5jN2vXhG9aC4yD1eR6mP0oL3sK7nT2qU5iV8wZ1xY4bA6cE9fH2gJ5k\n";

    private static final String PGP = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n" + BODY
            + "=Xq7T\n-----END PGP PRIVATE KEY BLOCK-----";
    private static final String PPK3 = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: deploy\n"
            + "Public-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIBx9mQ2wK7rT4vY1uE8oP3aS6dF0gH5jL2kZ\nxC9vB\n"
            + "Private-Lines: 2\n" + BODY
            + "Private-MAC: 5f2a9c0e71b3d84a6c2e9f0b1d7a3c5e8f4b2a6d9c1e7f3a0b5d8c2e6f9a1b4c";
    private static final String PPK2 = PPK3.replace("File-3", "File-2");
    private static final String OPENSSH =
            "-----BEGIN OPENSSH PRIVATE KEY-----\n" + BODY + "-----END OPENSSH PRIVATE KEY-----";
    private static final String PKCS8 =
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + BODY + "-----END ENCRYPTED PRIVATE KEY-----";

    @ParameterizedTest
    @ValueSource(strings = {"pgp", "ppk3", "ppk2", "openssh", "pkcs8"})
    void privateKey_isRedacted_atEverySplit(String kind) {
        String key =
                switch (kind) {
                    case "pgp" -> PGP;
                    case "ppk3" -> PPK3;
                    case "ppk2" -> PPK2;
                    case "openssh" -> OPENSSH;
                    default -> PKCS8;
                };
        String text = "here is my key:\n" + key + "\nthanks";
        byte[] in = text.getBytes(StandardCharsets.UTF_8);
        ScanRules rules = Scans.allBuiltins(ActionKind.REDACT);
        CollectingOutput whole = Scans.whole(rules, in);
        String out = new String(whole.bytes(), StandardCharsets.UTF_8);
        assertThat(out)
                .contains("[REDACTED:private_key]")
                .doesNotContain("lQOYBGXyq1k")
                .doesNotContain("Qk7tB8uFw5jN")
                .doesNotContain("5f2a9c0e71b3")
                .startsWith("here is my key:\n")
                .endsWith("\nthanks");
        for (int split = 1; split < in.length; split++) {
            CollectingOutput o = new CollectingOutput();
            StreamScanner s = new StreamScanner(rules, ValueHasher.forTenant(Scans.KEY, "t1"), o);
            s.feed(in, 0, split);
            s.feed(in, split, in.length - split);
            s.finish();
            assertThat(o.bytes()).as("split at %d", split).isEqualTo(whole.bytes());
        }
    }
}
