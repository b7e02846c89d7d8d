package io.meshguard.cli;

import io.meshguard.access.OidcClient;
import io.meshguard.access.SignedInToken;
import io.meshguard.access.TokenStore;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshguard login}: signs in to the admin plane with the OAuth 2.0 device authorization grant (RFC 8628) and
 * keeps the token in the user's config directory (0600) for the admin commands, which refresh it when it expires.
 */
@Command(name = "login", mixinStandardHelpOptions = true,
        description = "Sign in to the admin plane (device authorization grant); the token is kept in "
                + "$XDG_CONFIG_HOME/meshguard/token.json (0600) and sent by the admin commands.")
public final class LoginCommand implements Callable<Integer> {
    @Option(names = "--issuer", required = true,
            description = "OIDC issuer, e.g. http://localhost:8180/realms/meshguard (up.json names it).")
    String issuer;

    @Option(names = "--client-id", defaultValue = "meshguard-cli",
            description = "Public client with the device grant enabled (default: ${DEFAULT-VALUE}).")
    String clientId;

    @Override
    public Integer call() throws Exception {
        OidcClient client = new OidcClient(issuer, clientId, Clock.systemUTC());
        OidcClient.DeviceCode code = client.startDeviceLogin();
        System.out.printf("Open %s%nand enter the code %s (or open %s).%nWaiting for approval...%n",
                code.verificationUri(), code.userCode(), code.verificationUriComplete());
        SignedInToken token = client.awaitDeviceLogin(code);
        TokenStore store = TokenStore.forUser(System.getenv());
        store.save(token);
        System.out.printf("Signed in; token kept in %s (valid until %s, refreshed when needed).%n", store.file(),
                token.expiresAt());
        return 0;
    }
}
