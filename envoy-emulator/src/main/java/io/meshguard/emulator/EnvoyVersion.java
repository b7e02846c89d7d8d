package io.meshguard.emulator;

/**
 * The Envoy release an emulated proxy stands for, where meshguard relies on a rule that changed between releases.
 * The gateway image is Envoy 1.37; the Istio 1.26–1.28 sidecars, where a mesh CUSTOM Check runs, are Envoy 1.34–1.36.
 */
public record EnvoyVersion(int major, int minor) {
    /** The gateway image (deploy/local, manifests). */
    public static final EnvoyVersion GATEWAY = new EnvoyVersion(1, 37);
    /** The oldest sidecar meshguard supports (Istio 1.26). */
    public static final EnvoyVersion SIDECAR_1_34 = new EnvoyVersion(1, 34);
    /** The newest sidecar meshguard supports (Istio 1.28). */
    public static final EnvoyVersion SIDECAR_1_36 = new EnvoyVersion(1, 36);

    /**
     * Whether ext_authz's CheckResponse header options honour {@code append_action}. Up to 1.36
     * {@code copyHeaderFieldIntoResponse} reads only the deprecated {@code append} (unset = false = overwrite), so
     * {@code ADD_IF_ABSENT} overwrites what the client sent (envoyproxy/envoy
     * source/extensions/filters/common/ext_authz/ext_authz_grpc_impl.cc as of v1.36.4, quoted in envoy#42857);
     * 1.37 reads {@code append_action} when {@code append} is unset ({@code getAppendAction}, same file, envoy#42878).
     */
    public boolean honoursCheckAppendAction() {
        return major > 1 || minor >= 37;
    }

    @Override
    public String toString() {
        return major + "." + minor;
    }
}
