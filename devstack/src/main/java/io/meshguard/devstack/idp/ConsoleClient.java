package io.meshguard.devstack.idp;

/** The console's confidential OIDC client at the local realm ({@code up --idp keycloak}): id and secret. */
public record ConsoleClient(String clientId, String secret) {

    @Override
    public String toString() {
        return "ConsoleClient[" + clientId + ", secret hidden]";
    }
}
