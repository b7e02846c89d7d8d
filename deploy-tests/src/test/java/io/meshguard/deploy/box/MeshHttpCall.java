package io.meshguard.deploy.box;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * One HTTP/1.1 request from inside a pod, as the bank's own code in that pod would send it (through the pod's sidecar
 * when it has one): {@code URL [NAME:VALUE]…}; prints {@code STATUS n} and the body, or {@code FAILED} and why.
 */
public final class MeshHttpCall {
    private MeshHttpCall() {}

    public static void main(String[] args) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(args[0]))
                .timeout(Duration.ofSeconds(20))
                .GET();
        for (int i = 1; i < args.length; i++) {
            int colon = args[i].indexOf(':');
            request.header(args[i].substring(0, colon), args[i].substring(colon + 1));
        }
        try {
            HttpResponse<String> r = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build()
                    .send(request.build(), HttpResponse.BodyHandlers.ofString());
            System.out.println("STATUS " + r.statusCode());
            System.out.println(r.body());
        } catch (java.io.IOException e) {
            System.out.println("FAILED " + e);
        }
        System.out.flush();
    }
}
