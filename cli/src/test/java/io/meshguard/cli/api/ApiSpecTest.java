package io.meshguard.cli.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.meshguard.xds.model.Api;
import io.meshguard.xds.model.Route;
import io.meshguard.xds.model.Upstream;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The objects {@code meshguard api create} derives from its options, and the options it refuses before any call. */
class ApiSpecTest {
    static ApiSpec spec(String url, String... operations) {
        return ApiSpec.of(
                "payments",
                "edge",
                url,
                Optional.empty(),
                Optional.empty(),
                "v1",
                List.of(),
                List.of(operations),
                "payments-read",
                Optional.empty());
    }

    @Test
    void operations_becomeExactParameterAndPrefixMatches_thatServeNothingElse() {
        ApiSpec s = spec("http://10.0.0.1:8080", "GET /balances", "GET /balances/{id}.json", "POST /statements*");

        assertThat(s.routes())
                .extracting(Route::name)
                .containsExactly(
                        "payments-get-balances", "payments-get-balances-id-json", "payments-post-statements-prefix");
        assertThat(s.routes().get(0).match().pathExact()).contains("/balances");
        // the parameter is one segment; the literal dot is no wildcard
        String regex = s.routes().get(1).match().pathRegex().orElseThrow();
        assertThat("/balances/42.json").matches(regex);
        assertThat("/balances/42xjson").doesNotMatch(regex);
        assertThat("/balances/4/2.json").doesNotMatch(regex);
        assertThat(s.routes().get(2).match().pathPrefix()).contains("/statements");
        assertThat(s.routes().get(2).match().methods()).containsExactly("POST");
    }

    @Test
    void upstreamUrl_httpsGetsVerifiedTls_andTheSchemesPort() {
        Upstream tls = spec("https://Core.Bank.Example", "GET /x").upstream();
        assertThat(tls.endpoints()).containsExactly(new Upstream.Endpoint("core.bank.example", 443, 1));
        assertThat(tls.tls()).isPresent();
        Upstream plain = spec("http://[fd00::7]:9000", "GET /x").upstream();
        assertThat(plain.endpoints()).containsExactly(new Upstream.Endpoint("fd00::7", 9000, 1));
        assertThat(plain.tls()).isEmpty();
    }

    @Test
    void badOptions_areRefusedWithWhatToWrite() {
        assertThatThrownBy(() -> spec("ftp://x:1", "GET /x")).hasMessageContaining("http://host:port");
        assertThatThrownBy(() -> spec("http://x:1/base", "GET /x")).hasMessageContaining("no path");
        assertThatThrownBy(() -> spec("http://x:1", "FETCH /x")).hasMessageContaining("not an HTTP method");
        assertThatThrownBy(() -> spec("http://x:1", "GET balances")).hasMessageContaining("starts with /");
        assertThatThrownBy(() -> spec("http://x:1", "GET /a*/b")).hasMessageContaining("at its end");
        assertThatThrownBy(() -> spec("http://x:1", "GET /a", "get /a")).hasMessageContaining("give each once");
        assertThatThrownBy(() -> spec("http://x:1")).hasMessageContaining("--operation");
        assertThatThrownBy(() -> ApiSpec.of(
                        "Payments",
                        "edge",
                        "http://x:1",
                        Optional.empty(),
                        Optional.empty(),
                        "v1",
                        List.of(),
                        List.of("GET /x"),
                        "payments-read",
                        Optional.empty()))
                .hasMessageContaining("lowercase");
    }

    @Test
    void aLongRouteName_isCutToTheAdminApisLimit_andStaysDistinct() {
        ApiSpec s = spec(
                "http://x:1",
                "GET /accounts/{account}/statements/{statement}/lines/{line}",
                "GET /accounts/{account}/statements/{statement}/lines/{line}/notes");
        assertThat(s.routes())
                .extracting(Route::name)
                .allMatch(n -> n.length() <= 63 && n.matches("[a-z0-9-]+[a-z0-9]"));
        assertThat(s.routes().get(0).name()).isNotEqualTo(s.routes().get(1).name());
    }

    @Test
    void overAStoredApi_theAskedVersionIsAdded_andTheOthersKept() {
        ApiSpec s = spec("http://x:1", "GET /x");
        Api stored = new Api(
                "payments",
                "/old",
                "v0",
                List.of("pay.bank.example"),
                List.of(new Api.ApiVersion(
                        "v0", Api.Status.DEPRECATED, Optional.empty(), Optional.empty(), Optional.of("v1"))));

        Api next = s.apiOver(Optional.of(stored));

        assertThat(next.versions()).extracting(Api.ApiVersion::version).containsExactly("v0", "v1");
        assertThat(next.defaultVersion()).isEqualTo("v0");
        assertThat(next.hostnames()).containsExactly("pay.bank.example");
        assertThat(next.basePath()).isEqualTo("/payments");
        assertThat(s.apiOver(Optional.of(next))).isEqualTo(next);
    }
}
