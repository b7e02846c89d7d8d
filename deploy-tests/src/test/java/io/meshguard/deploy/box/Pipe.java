package io.meshguard.deploy.box;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;

/** Copies bytes both ways between a stream pair and a socket until either side closes. */
final class Pipe {
    private Pipe() {}

    static void both(InputStream in, OutputStream out, Socket socket) throws IOException {
        InputStream socketIn = socket.getInputStream();
        OutputStream socketOut = socket.getOutputStream();
        Thread up = Thread.ofVirtual().start(() -> {
            try {
                in.transferTo(socketOut);
                socket.shutdownOutput();
            } catch (IOException e) {
                closeQuietly(socket);
            }
        });
        try {
            socketIn.transferTo(out);
            out.flush();
        } catch (IOException e) {
            // the other side closed
        } finally {
            closeQuietly(socket);
            up.interrupt();
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            // closing after the peer went away
        }
    }
}
