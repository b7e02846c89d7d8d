package io.meshguard.deploy.box;

import io.meshguard.access.CodeFlowClient;
import io.meshguard.testing.InstallGuideRealm;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The bank's Keycloak once it answers: realm {@value #REALM} set up by docs/install.md's own block
 * ({@link InstallGuideRealm}, run from the node with Keycloak's {@code kcadm.sh} through a port-forward), and two people
 * of the bank in it, both in {@code meshguard-system-admins} as the guide says for four eyes: one asks, one approves.
 *
 * @param localPort the port-forward to Keycloak's pod on this machine's loopback
 */
record BankIdentityProvider(BoxPod pod, int localPort, Person requester, Person approver) {
    static final String REALM = "meshguard";
    /** The console's origin as the bank's people reach it (ConfigMap meshguard-admin-plane, console.public_url). */
    static final String CONSOLE_ORIGIN = "http://meshguard.bank.example:9103";
    /** Keycloak's start on an idle machine takes about 20 s; stretched by the probe scale on a busy one. */
    static final Duration START = Duration.ofSeconds((long) (360 * Kubelet.SCALE));

    /** One person of the bank's directory, with the password they sign in with. */
    record Person(String username, String password) {
        @Override
        public String toString() {
            return username;
        }
    }

    /** The issuer every pod reaches and tokens carry, by the Service's cluster DNS name. */
    String issuer() {
        return ExternalParts.issuer(REALM);
    }

    /** The issuer's {@code host:port}, which a person's browser maps to {@link #localPort}. */
    static String authority() {
        return URI.create(ExternalParts.issuer(REALM)).getAuthority();
    }

    /**
     * The names the bank's people type, each to the box's port-forward: the console's origin to {@code console} (the
     * controller's admin port), the issuer's host to Keycloak's pod.
     */
    Map<String, InetSocketAddress> names(InetSocketAddress console) {
        return Map.of(URI.create(CONSOLE_ORIGIN).getAuthority(), console, authority(),
                new InetSocketAddress("127.0.0.1", localPort));
    }

    /** Waits for Keycloak in {@code pod}, then the guide's realm block and the two people. */
    static BankIdentityProvider setUp(BoxPod pod, PodProcess process, NodePorts node, Path dir, String adminPassword,
            OperatorSecrets secrets) throws IOException, InterruptedException {
        int local = node.forward(pod.ip(), ExternalParts.KEYCLOAK_PORT);
        String base = "http://127.0.0.1:" + local;
        awaitAnswer(base, process, pod);
        Path home = ExternalParts.keycloakHome();
        Path kcadm = dir.resolve("kcadm");
        InstallGuideRealm realm = new InstallGuideRealm(base, REALM, CONSOLE_ORIGIN,
                secrets.value("meshguard-admin-oidc", "console-client-secret"),
                secrets.value("meshguard-admin-oidc", "provisioner-client-secret"));
        realm.setUp(home, "admin", adminPassword, kcadm);
        Person requester = new Person("rita", CodeFlowClient.random(18));
        Person approver = new Person("arne", CodeFlowClient.random(18));
        for (Person p : List.of(requester, approver)) {
            realm.addPerson(home, kcadm, p.username(), p.password(), List.of("meshguard-system-admins"));
        }
        return new BankIdentityProvider(pod, local, requester, approver);
    }

    private static void awaitAnswer(String base, PodProcess process, BoxPod pod)
            throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest probe = HttpRequest.newBuilder(URI.create(base + "/realms/master/.well-known/openid-configuration"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + START.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.alive()) {
                throw new IOException(Kubelet.report(pod, process, "Keycloak exited"));
            }
            try {
                if (http.send(probe, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(500);
        }
        throw new IOException(Kubelet.report(pod, process, "Keycloak did not answer within " + START.toSeconds()
                + " s"));
    }
}
