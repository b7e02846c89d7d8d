package io.meshguard.xds.snapshot;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.route.v3.RouteConfiguration;
import io.envoyproxy.envoy.config.route.v3.VirtualHost;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;

/**
 * SHA-256 of each xDS resource's deterministic serialization, remembered per object (weakly, by identity): a publish
 * hashes what it built anew, not the 2 MB of routes it took from earlier builds (hashing every resource of a
 * 2,000-route group took ~18 ms of each publish, once more for the virtual hosts VHDS serves).
 *
 * <p>A route table's digest is over its own fields and its virtual hosts' digests, a virtual host's over its own
 * fields and its routes' digests: {@link SnapshotBuilder} builds tables and virtual hosts anew on every build but
 * takes unchanged routes from the ones it remembers, so those are digested once. Equal content gives equal digests
 * whichever objects hold it.
 */
final class ResourceDigests {
    private static final Map<Message, byte[]> DIGESTS = io.meshguard.xds.model.SameInstance.weaklyRemembered();

    private ResourceDigests() {}

    static byte[] of(Message m) {
        byte[] known = DIGESTS.get(m);
        if (known != null) {
            return known;
        }
        byte[] digest;
        if (m instanceof RouteConfiguration rc) {
            MessageDigest d = sha256();
            fields(d, rc.toBuilder().clearVirtualHosts().build());
            rc.getVirtualHostsList().forEach(vh -> d.update(of(vh)));
            digest = d.digest();
        } else if (m instanceof VirtualHost vh) {
            MessageDigest d = sha256();
            fields(d, vh.toBuilder().clearRoutes().build());
            vh.getRoutesList().forEach(r -> d.update(of(r)));
            digest = d.digest();
        } else {
            digest = sha256().digest(serialized(m));
        }
        DIGESTS.put(m, digest);
        return digest;
    }

    /** The message's own fields, length first, so they cannot run into the children's digests after them. */
    private static void fields(MessageDigest d, Message m) {
        byte[] bytes = serialized(m);
        d.update(java.nio.ByteBuffer.allocate(4).putInt(bytes.length).array());
        d.update(bytes);
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static byte[] serialized(Message m) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(64, m.getSerializedSize()));
            CodedOutputStream out = CodedOutputStream.newInstance(bytes);
            out.useDeterministicSerialization();
            m.writeTo(out);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
