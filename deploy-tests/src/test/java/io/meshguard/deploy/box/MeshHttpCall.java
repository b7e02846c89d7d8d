package io.meshguard.deploy.box;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * One HTTP/1.1 request from inside a pod, as the bank's own code in that pod would send it (through the pod's sidecar
 * when it has one): {@code URL [NAME:VALUE]…}; prints {@code STATUS n} and the body, or {@code FAILED} and why.
 */
public final class MeshHttpCall {
    private static final ObjectMapper JSON = new ObjectMapper();

    private MeshHttpCall() {}

    /** Runs the call from {@code pod} (as {@code user}, when given); its output. */
    static String from(ClusterInABox box, BoxPod pod, Optional<String> user, String url, String... headers)
            throws InterruptedException {
        String[] args = new String[headers.length + 1];
        args[0] = url;
        System.arraycopy(headers, 0, args, 1, headers.length);
        return box.runInPod(pod, user, MeshHttpCall.class, args);
    }

    /** The body of the call's {@code output} (everything after the status line). */
    static String body(String output) {
        return output.substring(output.indexOf('\n') + 1);
    }

    /** The JSON object an echoing backend answered with, from the call's {@code body}. */
    static JsonNode echoed(String body) throws IOException {
        return JSON.readTree(body.substring(0, body.lastIndexOf('}') + 1));
    }

    /** The status the call's {@code output} reports; -1 when it failed before an answer. */
    static int status(String output) {
        for (String line : output.split("\n")) {
            if (line.startsWith("STATUS ")) {
                return Integer.parseInt(line.substring(7).strip());
            }
        }
        return -1;
    }

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
