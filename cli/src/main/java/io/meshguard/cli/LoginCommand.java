package io.meshguard.cli;

import io.meshguard.access.OidcClient;
import io.meshguard.access.SignedInToken;
import io.meshguard.access.TokenStore;
import io.meshguard.cli.common.RunningStack;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshguard login}: signs in to the admin plane with the OAuth 2.0 device authorization grant (RFC 8628) and
 * keeps the token in the user's config directory (0600) for the admin commands, which refresh it when it expires.
 */
@Command(
        name = "login",
        mixinStandardHelpOptions = true,
        description = "Sign in to the admin plane (device authorization grant); the token is kept in "
                + "$XDG_CONFIG_HOME/meshguard/token.json (0600) and sent by the admin commands.")
public final class LoginCommand implements Callable<Integer> {
    @Option(
            names = "--issuer",
            description = "OIDC issuer, e.g. https://keycloak.bank.example/realms/meshguard (default: the issuer of the"
                    + " running `meshguard up --idp keycloak` or `--idp-issuer`, from DATA_DIR/up.json).")
    String issuer;

    @Option(
            names = "--client-id",
            description = "Public client with the device grant enabled (default: up.json's, else meshguard-cli).")
    String clientId;

    @Option(
            names = "--data-dir",
            defaultValue = ".meshguard",
            description = "Where a running up's up.json names the issuer (default: ${DEFAULT-VALUE}).")
    java.nio.file.Path dataDir;

    @Override
    public Integer call() throws Exception {
        // up.json only when no issuer is given: a named issuer signs in the same way wherever the command runs
        java.util.Optional<RunningStack> running =
                issuer == null ? RunningStack.find(dataDir) : java.util.Optional.empty();
        io.meshguard.cli.idp.UpIdp upIdp = running.map(s -> s.state().idp()).orElse(io.meshguard.cli.idp.UpIdp.none());
        if (issuer == null && upIdp.issuer().isEmpty()) {
            throw new IllegalArgumentException("no issuer: pass --issuer URL, or start `meshguard up --idp keycloak`"
                    + " or `--idp-issuer URL` ("
                    + (running.isPresent()
                            ? "the up on " + running.get().dataDir()
                                    + " signs in with its admin token file, no identity provider"
                            : RunningStack.notRunning(dataDir))
                    + ")");
        }
        String issuer = this.issuer != null ? this.issuer : upIdp.issuer();
        String clientId = this.clientId != null
                ? this.clientId
                : upIdp.cliClient().isEmpty() || this.issuer != null ? "meshguard-cli" : upIdp.cliClient();
        OidcClient client = new OidcClient(issuer, clientId, Clock.systemUTC());
        OidcClient.DeviceCode code = client.startDeviceLogin();
        System.out.printf(
                "Open %s%nand enter the code %s (or open %s).%nWaiting for approval...%n",
                code.verificationUri(), code.userCode(), code.verificationUriComplete());
        SignedInToken token = client.awaitDeviceLogin(code);
        TokenStore store = TokenStore.forUser(System.getenv());
        store.save(token);
        System.out.printf(
                "Signed in; token kept in %s (valid until %s, refreshed when needed).%n",
                store.file(), token.expiresAt());
        return 0;
    }
}
