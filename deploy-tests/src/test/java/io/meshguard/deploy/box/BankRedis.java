package io.meshguard.deploy.box;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** A look into one of the bank's Redis pods, as {@code redis-cli} on its node would take it (RESP over a port-forward). */
final class BankRedis {
    private BankRedis() {}

    /** {@code KEYS *} of the Redis in {@code pod}, after {@code AUTH password}. */
    static List<String> keys(NodePorts node, BoxPod pod, String password) throws IOException {
        InetSocketAddress local = node.local(pod.ip(), 6379);
        try (Socket socket = new Socket("127.0.0.1", local.getPort())) {
            socket.setSoTimeout(5000);
            OutputStream out = socket.getOutputStream();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            out.write(command("AUTH", password));
            String auth = in.readLine();
            if (!"+OK".equals(auth)) {
                throw new IOException("AUTH: " + auth);
            }
            out.write(command("KEYS", "*"));
            String head = in.readLine();
            if (head == null || !head.startsWith("*")) {
                throw new IOException("KEYS: " + head);
            }
            List<String> keys = new ArrayList<>();
            for (int i = Integer.parseInt(head.substring(1)); i > 0; i--) {
                in.readLine(); // the bulk string's length
                keys.add(in.readLine());
            }
            return keys;
        }
    }

    private static byte[] command(String... words) {
        StringBuilder b = new StringBuilder("*").append(words.length).append("\r\n");
        for (String w : words) {
            b.append('$')
                    .append(w.getBytes(StandardCharsets.UTF_8).length)
                    .append("\r\n")
                    .append(w)
                    .append("\r\n");
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }
}
