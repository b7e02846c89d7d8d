package io.meshguard.deploy.box;

import java.io.FileInputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;

/**
 * The TLS front of the bank's Keycloak (its load balancer): the bank's public name for the IdP
 * ({@value ExternalParts#IDP_HOST}) on port 443 with a certificate the bank's own CA signed, each connection passed
 * on unchanged to Keycloak's Service. The realm the customers' tokens come from names this front as its frontend URL,
 * so its tokens, discovery and JWKS say {@code https://idp.bank.example/...} whichever way they were asked.
 * Arguments: PKCS#12 key store, its password, the port to listen on, Keycloak's host and port.
 */
public final class IdpFront {
    private IdpFront() {}

    public static void main(String[] args) throws Exception {
        char[] password = args[1].toCharArray();
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = new FileInputStream(args[0])) {
            store.load(in, password);
        }
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(store, password);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(keys.getKeyManagers(), null, null);
        SSLServerSocket listener =
                (SSLServerSocket) tls.getServerSocketFactory().createServerSocket();
        listener.bind(new InetSocketAddress("0.0.0.0", Integer.parseInt(args[2])), 100);
        String upstream = args[3];
        int upstreamPort = Integer.parseInt(args[4]);
        System.out.println("idp front (box) on " + args[2] + " for " + upstream + ":" + upstreamPort);
        System.out.flush();
        while (true) {
            Socket client = listener.accept();
            Thread.ofVirtual().start(() -> {
                try (client;
                        Socket keycloak = new Socket()) {
                    keycloak.connect(new InetSocketAddress(upstream, upstreamPort), 5000);
                    Pipe.both(client.getInputStream(), client.getOutputStream(), keycloak);
                } catch (Exception e) {
                    // either side went away, or the client refused the certificate
                }
            });
        }
    }
}
