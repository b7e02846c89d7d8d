package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The test-scope HTTPRoute matcher follows Gateway API v1.6.1's matching and precedence rules it cites. */
class HttpRouteMatcherTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static ObjectNode route(String name, String hostnames, String matches) throws Exception {
        return (ObjectNode) JSON.readTree("""
                {"kind": "HTTPRoute", "metadata": {"name": "%s", "namespace": "meshguard"},
                 "spec": {"hostnames": %s, "rules": [{"matches": %s}]}}""".formatted(name, hostnames, matches));
    }

    private static Optional<String> pick(HttpRouteMatcher m, String method, String host, String path) {
        return m.match(method, host, path, Map.of("x-env", "blue")).map(HttpRouteMatcher.Matched::name);
    }

    @Test
    void pathPrefix_isElementWise_andIgnoresATrailingSlash() {
        assertThat(HttpRouteMatcher.prefixMatches("/abc", "/abc")).isTrue();
        assertThat(HttpRouteMatcher.prefixMatches("/abc", "/abc/")).isTrue();
        assertThat(HttpRouteMatcher.prefixMatches("/abc", "/abc/def")).isTrue();
        assertThat(HttpRouteMatcher.prefixMatches("/abc", "/abcd")).isFalse();
        assertThat(HttpRouteMatcher.prefixMatches("/abc/", "/abc")).isTrue();
        assertThat(HttpRouteMatcher.prefixMatches("/", "/anything")).isTrue();
    }

    @Test
    void precedence_exactThenRegexThenLongestPrefix_thenMethod_thenHeaders_thenName() throws Exception {
        HttpRouteMatcher m = new HttpRouteMatcher(
                List.of(
                        route(
                                "a-short",
                                "[\"api.example\"]",
                                "[{\"path\": {\"type\": \"PathPrefix\", \"value\": \"/p\"}}]"),
                        route(
                                "b-long",
                                "[\"api.example\"]",
                                "[{\"path\": {\"type\": \"PathPrefix\", \"value\": \"/p/v1\"}}]"),
                        route(
                                "c-regex",
                                "[\"api.example\"]",
                                "[{\"path\": {\"type\": \"RegularExpression\", \"value\": \"/p/v1/[0-9]+\"}}]"),
                        route(
                                "d-exact",
                                "[\"api.example\"]",
                                "[{\"path\": {\"type\": \"Exact\", \"value\": \"/p/v1/7\"}}]"),
                        route(
                                "e-method",
                                "[\"api.example\"]",
                                "[{\"path\": {\"type\": \"PathPrefix\", \"value\": \"/p/v1\"}, \"method\": \"POST\"}]"),
                        route(
                                "f-header",
                                "[\"api.example\"]",
                                "[{\"path\": {\"type\": \"PathPrefix\", \"value\": \"/p/v1\"}, \"method\": \"POST\","
                                        + " \"headers\": [{\"type\": \"Exact\", \"name\": \"x-env\", \"value\": \"blue\"}]}]")));
        assertThat(pick(m, "GET", "api.example", "/p/v1/7")).contains("d-exact");
        assertThat(pick(m, "GET", "api.example", "/p/v1/8"))
                .as("regex ranks above prefixes")
                .contains("c-regex");
        assertThat(pick(m, "GET", "api.example", "/p/v1/x?y=1"))
                .as("longest prefix")
                .contains("b-long");
        assertThat(pick(m, "POST", "api.example", "/p/v1/x"))
                .as("method, then headers")
                .contains("f-header");
        assertThat(pick(m, "GET", "api.example", "/p/v2")).contains("a-short");
        assertThat(pick(m, "GET", "api.example", "/pv1")).isEmpty();
        assertThat(pick(m, "GET", "API.example:8080", "/p"))
                .as("host case and port ignored")
                .contains("a-short");
    }

    @Test
    void hostnames_exactBeatsWildcard_andAWildcardNeedsALabel() throws Exception {
        HttpRouteMatcher m = new HttpRouteMatcher(List.of(
                route("wild", "[\"*.example\"]", "[{\"path\": {\"type\": \"PathPrefix\", \"value\": \"/\"}}]"),
                route("exact", "[\"api.example\"]", "[{\"path\": {\"type\": \"PathPrefix\", \"value\": \"/\"}}]")));
        assertThat(pick(m, "GET", "api.example", "/x")).contains("exact");
        assertThat(pick(m, "GET", "other.example", "/x")).contains("wild");
        assertThat(pick(m, "GET", "example", "/x")).isEmpty();
        assertThat(pick(m, "GET", "elsewhere.test", "/x")).isEmpty();
    }
}
