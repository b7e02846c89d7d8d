package io.meshguard.envoy.validation;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Every message type of the Envoy API jar on the class path, found by the type URL of an {@code Any}
 * ({@code typed_config}, {@code typed_per_filter_config} …) so that its payload is validated like the resource around
 * it. The jar's generated classes follow the protos' {@code java_package} options ({@code io.envoyproxy.envoy.*},
 * {@code com.github.xds.*}, {@code com.github.udpa.*}, {@code com.google.protobuf}) with one class per message, so a
 * type name resolves to its class without loading the other thousands (a full scan of the jar took 9 s).
 */
final class ApiTypes {
    private static final List<String> JAVA_PACKAGE_PREFIXES =
            List.of("io.envoyproxy.", "com.github.", "com.github.udpa.", "com.");
    private static final Map<String, Optional<Descriptor>> TYPES = new ConcurrentHashMap<>();

    private ApiTypes() {}

    /** The payload of an {@code Any} (generated or dynamic), when its type is in the jar. */
    static Optional<Message> unpack(Message any) {
        var d = any.getDescriptorForType();
        String url = (String) any.getField(d.findFieldByName("type_url"));
        com.google.protobuf.ByteString bytes =
                (com.google.protobuf.ByteString) any.getField(d.findFieldByName("value"));
        Optional<Descriptor> type = descriptor(url.substring(url.lastIndexOf('/') + 1));
        if (type.isEmpty()) {
            return Optional.empty(); // a type newer than the jar: Envoy may know it, its rules are not here
        }
        try {
            return Optional.of(DynamicMessage.parseFrom(type.get(), bytes));
        } catch (InvalidProtocolBufferException e) {
            return Optional.empty();
        }
    }

    /** The descriptor of message type {@code fullName} (e.g. {@code envoy.config.route.v3.RouteConfiguration}). */
    static Optional<Descriptor> descriptor(String fullName) {
        return TYPES.computeIfAbsent(fullName, ApiTypes::resolve);
    }

    private static Optional<Descriptor> resolve(String fullName) {
        for (String prefix : JAVA_PACKAGE_PREFIXES) {
            // a nested message is an inner class: try each split between package and class names
            String name = prefix + fullName;
            for (int dot = name.lastIndexOf('.'); dot > 0; dot = name.lastIndexOf('.', dot - 1)) {
                String candidate =
                        name.substring(0, dot) + "." + name.substring(dot + 1).replace('.', '$');
                Optional<Descriptor> found = load(candidate, fullName);
                if (found.isPresent()) {
                    return found;
                }
                if (Character.isLowerCase(name.charAt(dot + 1))) {
                    break; // further left is the package
                }
            }
        }
        return Optional.empty();
    }

    private static Optional<Descriptor> load(String className, String fullName) {
        try {
            Class<?> c = Class.forName(className, true, ApiTypes.class.getClassLoader());
            if (Message.class.isAssignableFrom(c)
                    && c.getMethod("getDescriptor").invoke(null) instanceof Descriptor d
                    && d.getFullName().equals(fullName)) {
                return Optional.of(d);
            }
        } catch (ReflectiveOperationException | LinkageError e) {
            // not this split
        }
        return Optional.empty();
    }
}
