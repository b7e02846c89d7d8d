package io.meshguard.cli.dev;

import static org.assertj.core.api.Assertions.assertThat;

import io.meshguard.authz.policy.AuthzPolicy;
import io.meshguard.authz.policy.AuthzPolicyParser;
import io.meshguard.cli.Main;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/local runs no {@code up}: make-secrets.sh calls {@code meshguard dev init} and compose mounts what it wrote.
 * This runs the command as the script does and checks that the files land where compose.yaml mounts them from,
 * that the dev policy trusts exactly the JWKS URL the dev-jwks service answers, and that no container gets the
 * private key.
 */
class ComposeDevIssuerTest {
    private static final Path LOCAL = Path.of("..", "deploy", "local");

    @TempDir
    Path secrets;

    @SuppressWarnings("unchecked")
    private static Map<String, Object> service(Map<String, Object> compose, String name) {
        return (Map<String, Object>) ((Map<String, Object>) compose.get("services")).get(name);
    }

    @SuppressWarnings("unchecked")
    private static List<String> strings(Object list) {
        return list == null ? List.of() : new ArrayList<>((List<String>) list);
    }

    @Test
    void devInitAsTheScriptRunsIt_writesWhatComposeMounts() throws Exception {
        String script = Files.readString(LOCAL.resolve("make-secrets.sh"));
        Matcher init = Pattern.compile(
                        "meshguard\"? dev init --data-dir \"\\$dir\" --policies \"\\$root/policies\" --jwks-uri (\\S+)")
                .matcher(script);
        assertThat(init.find()).as("make-secrets.sh runs dev init").isTrue();
        URI jwksUri = URI.create(init.group(1));

        int exit = Main.execute(
                "dev",
                "init",
                "--data-dir",
                secrets.toString(),
                "--policies",
                io.meshguard.testing.FixturePolicies.directory().toString(),
                "--jwks-uri",
                jwksUri.toString());
        assertThat(exit).isZero();

        @SuppressWarnings("unchecked")
        Map<String, Object> compose = (Map<String, Object>)
                new Yaml(new LoaderOptions()).load(Files.readString(LOCAL.resolve("compose.yaml")));

        // extauthz: the policy file it is told to load exists where the volume comes from.
        Map<String, Object> extauthz = service(compose, "extauthz");
        String[] policyMount = strings(extauthz.get("volumes")).getFirst().split(":");
        String policyFile = String.valueOf(((Map<?, ?>) extauthz.get("environment")).get("MESHGUARD_POLICY_FILE"));
        assertThat(policyFile).startsWith(policyMount[1] + "/");
        Path onHost = secrets.resolve(Path.of("./secrets").relativize(Path.of(policyMount[0])))
                .resolve(policyFile.substring(policyMount[1].length() + 1));
        assertThat(onHost).isEqualTo(DevIssuerFiles.under(secrets).policy());

        AuthzPolicy policy = new AuthzPolicyParser().parse(onHost);
        assertThat(policy.issuerNamed(DevIssuer.NAME).orElseThrow().jwksUri()).contains(jwksUri);
        assertThat(policy.routeNamed(DevIssuer.DEMO_ROUTE)).isPresent();

        // dev-jwks: serves the public key file at the URL the policy names.
        Map<String, Object> jwks = service(compose, "dev-jwks");
        List<String> command = strings(jwks.get("command"));
        String root = command.get(command.indexOf("--directory") + 1);
        String[] jwksMount = strings(jwks.get("volumes")).getFirst().split(":");
        String containerFile = root + jwksUri.getPath();
        assertThat(containerFile).startsWith(jwksMount[1] + "/");
        Path served = secrets.resolve(Path.of("./secrets").relativize(Path.of(jwksMount[0])))
                .resolve(containerFile.substring(jwksMount[1].length() + 1));
        assertThat(served).isEqualTo(DevIssuerFiles.under(secrets).publicJwks());
        assertThat(Files.readString(served))
                .contains(DevSigningKey.load(DevIssuerFiles.under(secrets)).keyId())
                .doesNotContain("\"d\"");

        // No container sees the folder that holds the private key.
        Path keyDir = DevIssuerFiles.under(secrets).signingKey().getParent();
        for (String name : List.of("extauthz", "dev-jwks")) {
            for (String volume : strings(service(compose, name).get("volumes"))) {
                String source = volume.split(":")[0];
                if (source.startsWith("./secrets")) {
                    Path mounted = secrets.resolve(Path.of("./secrets").relativize(Path.of(source)))
                            .normalize();
                    assertThat(keyDir.startsWith(mounted))
                            .as("%s mounts %s", name, source)
                            .isFalse();
                }
            }
        }
    }
}
