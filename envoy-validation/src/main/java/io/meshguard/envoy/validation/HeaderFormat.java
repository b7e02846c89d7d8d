package io.meshguard.envoy.validation;

import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Envoy's substitution format syntax, which every value of {@code request_headers_to_add} /
 * {@code response_headers_to_add} goes through when the route table is loaded ({@code HeaderParser::configure},
 * source/common/router/header_parser.cc → {@code SubstitutionFormatParser::parse}, source/common/formatter/): a
 * {@code %} must be {@code %%} (a literal percent sign) or start a command {@code %COMMAND%} /
 * {@code %COMMAND(args)%} / {@code %COMMAND(args):N%} that Envoy knows; anything else refuses the whole
 * RouteConfiguration ("Incorrect configuration: … Couldn't find valid command at position …").
 */
public final class HeaderFormat {
    private static final String RULE = "Envoy SubstitutionFormatParser::parse (source/common/formatter/) via "
            + "HeaderParser (source/common/router/header_parser.cc)";
    /** {@code commandWithArgsRegex()} of the parser. */
    private static final Pattern COMMAND = Pattern.compile("%([A-Z0-9_]+)(\\(([^)]*)\\))?(:[0-9]+)?%");
    /** Commands that need their argument ({@code %REQ(name)%}). */
    private static final Set<String> WITH_ARGUMENT = Set.of(
            "REQ",
            "RESP",
            "TRAILER",
            "DYNAMIC_METADATA",
            "CLUSTER_METADATA",
            "UPSTREAM_METADATA",
            "FILTER_STATE",
            "UPSTREAM_FILTER_STATE",
            "ENVIRONMENT",
            "METADATA",
            "QUERY_PARAM",
            "REQ_WITHOUT_QUERY",
            "CEL",
            "PATH");
    /** The stream-info commands of Envoy 1.34's formatter (source/common/formatter/stream_info_formatter.cc). */
    private static final Set<String> STREAM_INFO = Set.of(
            "START_TIME",
            "START_TIME_LOCAL",
            "SYSTEM_TIME",
            "EMIT_TIME",
            "REQUEST_DURATION",
            "REQUEST_TX_DURATION",
            "RESPONSE_DURATION",
            "RESPONSE_TX_DURATION",
            "DURATION",
            "COMMON_DURATION",
            "DOWNSTREAM_HANDSHAKE_DURATION",
            "ROUNDTRIP_DURATION",
            "UPSTREAM_CONNECTION_POOL_READY_DURATION",
            "BYTES_RECEIVED",
            "BYTES_SENT",
            "BYTES_RETRANSMITTED",
            "PACKETS_RETRANSMITTED",
            "UPSTREAM_WIRE_BYTES_RECEIVED",
            "UPSTREAM_HEADER_BYTES_RECEIVED",
            "UPSTREAM_WIRE_BYTES_SENT",
            "UPSTREAM_HEADER_BYTES_SENT",
            "DOWNSTREAM_WIRE_BYTES_RECEIVED",
            "DOWNSTREAM_HEADER_BYTES_RECEIVED",
            "DOWNSTREAM_WIRE_BYTES_SENT",
            "DOWNSTREAM_HEADER_BYTES_SENT",
            "PROTOCOL",
            "UPSTREAM_PROTOCOL",
            "RESPONSE_CODE",
            "RESPONSE_CODE_DETAILS",
            "CONNECTION_TERMINATION_DETAILS",
            "RESPONSE_FLAGS",
            "RESPONSE_FLAGS_LONG",
            "CUSTOM_FLAGS",
            "UPSTREAM_HOST",
            "UPSTREAM_HOST_NAME",
            "UPSTREAM_HOST_NAME_WITHOUT_PORT",
            "UPSTREAM_CLUSTER",
            "UPSTREAM_CLUSTER_RAW",
            "UPSTREAM_CONNECTION_ID",
            "UPSTREAM_LOCAL_ADDRESS",
            "UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
            "UPSTREAM_LOCAL_PORT",
            "UPSTREAM_REMOTE_ADDRESS",
            "UPSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
            "UPSTREAM_REMOTE_PORT",
            "UPSTREAM_REQUEST_ATTEMPT_COUNT",
            "UPSTREAM_TRANSPORT_FAILURE_REASON",
            "UPSTREAM_TLS_CIPHER",
            "UPSTREAM_TLS_VERSION",
            "UPSTREAM_TLS_SESSION_ID",
            "UPSTREAM_PEER_ISSUER",
            "UPSTREAM_PEER_CERT",
            "UPSTREAM_PEER_SUBJECT",
            "UPSTREAM_PEER_URI_SAN",
            "UPSTREAM_PEER_DNS_SAN",
            "UPSTREAM_PEER_IP_SAN",
            "UPSTREAM_LOCAL_URI_SAN",
            "UPSTREAM_LOCAL_DNS_SAN",
            "UPSTREAM_LOCAL_IP_SAN",
            "UPSTREAM_LOCAL_SUBJECT",
            "UPSTREAM_PEER_CERT_V_START",
            "UPSTREAM_PEER_CERT_V_END",
            "DOWNSTREAM_LOCAL_ADDRESS",
            "DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT",
            "DOWNSTREAM_LOCAL_PORT",
            "DOWNSTREAM_DIRECT_LOCAL_ADDRESS",
            "DOWNSTREAM_DIRECT_LOCAL_ADDRESS_WITHOUT_PORT",
            "DOWNSTREAM_DIRECT_LOCAL_PORT",
            "DOWNSTREAM_REMOTE_ADDRESS",
            "DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT",
            "DOWNSTREAM_REMOTE_PORT",
            "DOWNSTREAM_DIRECT_REMOTE_ADDRESS",
            "DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT",
            "DOWNSTREAM_DIRECT_REMOTE_PORT",
            "CONNECTION_ID",
            "REQUESTED_SERVER_NAME",
            "ROUTE_NAME",
            "VIRTUAL_CLUSTER_NAME",
            "HOSTNAME",
            "FILTER_CHAIN_NAME",
            "UNIQUE_ID",
            "STREAM_ID",
            "ACCESS_LOG_TYPE",
            "TRACE_ID",
            "TLS_JA3_FINGERPRINT",
            "TLS_JA4_FINGERPRINT",
            "DOWNSTREAM_PEER_URI_SAN",
            "DOWNSTREAM_PEER_DNS_SAN",
            "DOWNSTREAM_PEER_IP_SAN",
            "DOWNSTREAM_PEER_EMAIL_SAN",
            "DOWNSTREAM_PEER_OTHERNAME_SAN",
            "DOWNSTREAM_LOCAL_URI_SAN",
            "DOWNSTREAM_LOCAL_DNS_SAN",
            "DOWNSTREAM_LOCAL_IP_SAN",
            "DOWNSTREAM_LOCAL_EMAIL_SAN",
            "DOWNSTREAM_LOCAL_OTHERNAME_SAN",
            "DOWNSTREAM_PEER_SUBJECT",
            "DOWNSTREAM_LOCAL_SUBJECT",
            "DOWNSTREAM_TLS_SESSION_ID",
            "DOWNSTREAM_TLS_CIPHER",
            "DOWNSTREAM_TLS_VERSION",
            "DOWNSTREAM_PEER_FINGERPRINT_256",
            "DOWNSTREAM_PEER_FINGERPRINT_1",
            "DOWNSTREAM_PEER_SERIAL",
            "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_256",
            "DOWNSTREAM_PEER_CHAIN_FINGERPRINTS_1",
            "DOWNSTREAM_PEER_CHAIN_SERIALS",
            "DOWNSTREAM_PEER_ISSUER",
            "DOWNSTREAM_PEER_CERT",
            "DOWNSTREAM_PEER_CERT_V_START",
            "DOWNSTREAM_PEER_CERT_V_END",
            "DOWNSTREAM_TRANSPORT_FAILURE_REASON");

    private HeaderFormat() {}

    /** {@code literal} as a header value Envoy sends unchanged: every {@code %} doubled. */
    public static String literal(String literal) {
        return literal.replace("%", "%%");
    }

    /** Envoy's refusal of {@code value} as a header format, empty when the parser accepts it. */
    public static Optional<String> refusal(String value) {
        for (int pos = 0; pos < value.length(); ) {
            if (value.charAt(pos) != '%') {
                pos++;
                continue;
            }
            if (pos + 1 < value.length() && value.charAt(pos + 1) == '%') {
                pos += 2;
                continue;
            }
            Matcher m = COMMAND.matcher(value).region(pos, value.length());
            if (!m.lookingAt()) {
                return Optional.of(
                        "Incorrect configuration: " + value + ". Couldn't find valid command at position " + pos);
            }
            String command = m.group(1);
            boolean known = WITH_ARGUMENT.contains(command) ? m.group(2) != null : STREAM_INFO.contains(command);
            if (!known) {
                return Optional.of("Not supported field in StreamInfo: " + command);
            }
            pos = m.end();
        }
        return Optional.empty();
    }

    /** Checks the {@code header.value} of a {@code HeaderValueOption}. */
    static void check(String path, Message option, List<Violation> out) {
        FieldDescriptor header = option.getDescriptorForType().findFieldByName("header");
        if (header == null || !option.hasField(header)) {
            return;
        }
        Message h = (Message) option.getField(header);
        FieldDescriptor valueField = h.getDescriptorForType().findFieldByName("value");
        String value = (String) h.getField(valueField);
        refusal(value)
                .ifPresent(reason -> out.add(
                        new Violation("envoy.header_format", EnvoyValidator.join(path, "header.value"), RULE, reason)));
    }
}
