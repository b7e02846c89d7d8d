package io.meshguard.contract.zone;

/** The zone stream's name and wire version, defined once for both ends. */
public final class ZoneWire {
    private ZoneWire() {}

    /** Major version of the messages; a peer speaking another major version is refused with its reason. */
    public static final int VERSION = 1;

    /** The gRPC service and method of the stream. */
    public static final String SERVICE = "meshguard.zone.v1.ZoneSync";

    public static final String METHOD = "Follow";
}
