package io.meshguard.deploy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.google.protobuf.Any;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * docs/envoy-features.yaml, read strictly: the Envoy features meshguard depends on and the release that has each.
 *
 * @param floor the oldest Envoy and Istio meshguard supports
 * @param istio Istio minor → the Envoy minor it ships
 */
record EnvoyFeatures(Floor floor, Map<String, String> istio, List<Feature> features) {
    private static final ObjectMapper STRICT = YAMLMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .build();

    record Floor(String envoy, String istio) {}

    /**
     * @param id an extension type's full name, an enum value ({@code <enum full name>.<VALUE>}) or a field
     *     ({@code <message full name>.<field>})
     * @param exact true when {@code source} says {@code since} introduced it, false when it only shows it present
     */
    record Feature(String id, String what, String since, boolean exact, String source) {}

    static final Path FILE = RepoPaths.root().resolve("docs/envoy-features.yaml");

    static EnvoyFeatures read() throws IOException {
        return STRICT.readValue(FILE.toFile(), EnvoyFeatures.class);
    }

    /** Orders "1.9" before "1.34". */
    static final Comparator<String> VERSION_ORDER =
            Comparator.comparingInt((String v) -> part(v, 0)).thenComparingInt(v -> part(v, 1));

    private static int part(String version, int i) {
        return Integer.parseInt(version.split("\\.")[i]);
    }

    /** What a set of Envoy messages uses: extension types inside {@code Any}, enum values, set fields. */
    static final class Usage {
        final Set<String> types = new TreeSet<>();
        final Set<String> enumValues = new TreeSet<>();
        final Set<String> fields = new TreeSet<>();

        /** Walks {@code message}, unpacking every {@code Any} whose type meshguard's strict parser knows. */
        Usage add(Message message) {
            for (Map.Entry<FieldDescriptor, Object> e : message.getAllFields().entrySet()) {
                FieldDescriptor field = e.getKey();
                fields.add(field.getFullName());
                List<?> values = field.isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
                for (Object value : values) {
                    if (value instanceof EnumValueDescriptor enumValue) {
                        enumValues.add(enumValue.getType().getFullName() + "." + enumValue.getName());
                    } else if (value instanceof Message nested) {
                        addNested(nested);
                    }
                }
            }
            return this;
        }

        private void addNested(Message nested) {
            if (!nested.getDescriptorForType()
                    .getFullName()
                    .equals(Any.getDescriptor().getFullName())) {
                add(nested);
                return;
            }
            Any any = toAny(nested);
            String type = any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1);
            types.add(type);
            EnvoyProtos.extension(type).ifPresent(descriptor -> add(unpack(descriptor, any)));
        }

        private static Message unpack(Descriptor descriptor, Any any) {
            try {
                return DynamicMessage.parseFrom(descriptor, any.getValue());
            } catch (InvalidProtocolBufferException ex) {
                throw new ManifestException("cannot unpack " + any.getTypeUrl() + ": " + ex.getMessage(), ex);
            }
        }

        private static Any toAny(Message m) {
            if (m instanceof Any any) {
                return any;
            }
            try {
                return Any.parseFrom(m.toByteString());
            } catch (InvalidProtocolBufferException ex) {
                throw new ManifestException("not an Any: " + ex.getMessage(), ex);
            }
        }

        boolean uses(String id) {
            return types.contains(id) || enumValues.contains(id) || fields.contains(id);
        }
    }
}
