package io.meshguard.deploy.box;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A workstation's HTTP proxy for the bank's names: a request for one of them goes to its port-forward in absolute
 * form ({@code GET http://host:port/path}, RFC 9112 §3.2.2), so the server sees the name it is known by.
 */
final class ForwardsByName extends ProxySelector {
    private final Map<String, InetSocketAddress> names;

    ForwardsByName(Map<String, InetSocketAddress> names) {
        this.names = names;
    }

    /** The workstation's HTTP client: the bank's names through their port-forwards, everything else direct. */
    static HttpClient workstation(Map<String, InetSocketAddress> names) {
        return HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5))
                .proxy(new ForwardsByName(names))
                .build();
    }

    @Override
    public List<Proxy> select(URI uri) {
        InetSocketAddress forward = names.get(uri.getAuthority());
        return List.of(forward == null ? Proxy.NO_PROXY : new Proxy(Proxy.Type.HTTP, forward));
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException e) {}
}
