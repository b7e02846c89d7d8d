package io.meshguard.xds.validate;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Problem codes are a public contract: tooling and runbooks name them, so they never move and are all documented. */
class ProblemCodesTest {
    /** The list as released. Add new codes at the end of their area; never change or remove one (retire it). */
    private static final String PINNED = """
            MG-NAME-001 MG-HOST-001 MG-HOST-002 MG-HOST-003 MG-HOST-004 MG-GROUP-001 MG-GROUP-002 MG-GROUP-003 MG-GROUP-004
            MG-GROUP-005 MG-GROUP-006 MG-UPSTREAM-001 MG-UPSTREAM-002 MG-UPSTREAM-003 MG-UPSTREAM-004 MG-UPSTREAM-005
            MG-UPSTREAM-006 MG-UPSTREAM-007 MG-UPSTREAM-008 MG-UPSTREAM-009 MG-UPSTREAM-010 MG-UPSTREAM-011
            MG-UPSTREAM-012 MG-UPSTREAM-013 MG-UPSTREAM-014 MG-UPSTREAM-015 MG-UPSTREAM-016 MG-UPSTREAM-017 MG-UPSTREAM-018 MG-UPSTREAM-019 MG-TLS-001 MG-TLS-002 MG-TLS-003
            MG-TLS-004 MG-API-001 MG-API-002 MG-API-003 MG-API-004 MG-API-005 MG-API-006 MG-API-007 MG-API-008
            MG-API-009 MG-API-010 MG-API-011 MG-API-012 MG-API-013 MG-ROUTE-001 MG-ROUTE-002 MG-ROUTE-003 MG-ROUTE-004
            MG-ROUTE-005 MG-ROUTE-006 MG-ROUTE-007 MG-ROUTE-008 MG-ROUTE-009 MG-ROUTE-010 MG-ROUTE-011
            MG-ROUTE-012 MG-ROUTE-013 MG-ROUTE-014 MG-ROUTE-015 MG-ROUTE-016 MG-ROUTE-017 MG-ROUTE-018
            MG-ROUTE-019 MG-ROUTE-020 MG-ROUTE-021 MG-ROUTE-022 MG-ROUTE-023 MG-ROUTE-024 MG-ROUTE-025
            MG-ROUTE-026 MG-ROUTE-027 MG-ROUTE-028 MG-ROUTE-029 MG-ROUTE-030 MG-ROUTE-031 MG-ROUTE-032 MG-ROUTE-033 MG-ROUTE-034
            MG-CORS-001 MG-CORS-002 MG-CORS-003 MG-CORS-004 MG-CORS-005 MG-CORS-006 MG-CORS-007 MG-CORS-008
            MG-CORS-009 MG-CORS-010 MG-CORS-011 MG-CORS-012 MG-CORS-013 MG-CORS-014 MG-CORS-015 MG-PROFILE-001
            MG-PROFILE-002 MG-PROFILE-003 MG-PROFILE-004 MG-PROFILE-005 MG-PROFILE-006 MG-PROFILE-007
            MG-PROFILE-008 MG-HOP-001 MG-HOP-002 MG-PRODUCT-001 MG-PRODUCT-002 MG-PRODUCT-003 MG-PUBLISH-001
            MG-PUBLISH-002 MG-PUBLISH-003 MG-PUBLISH-004 MG-PUBLISH-005 MG-PUBLISH-006 MG-ENVOY-001 MG-APPLICATION-001
            MG-STORE-001
            """;

    private static final Path DOCS = Path.of("../docs/problem-codes.md");

    @Test
    void codes_areExactlyThePinnedList_inOrder() {
        List<String> pinned = Arrays.asList(PINNED.trim().split("\\s+"));
        assertThat(Arrays.stream(ProblemCode.values()).map(ProblemCode::code).toList())
                .isEqualTo(pinned);
    }

    @Test
    void codes_areUnique_andShapedAreaNumber() {
        Set<String> seen = new TreeSet<>();
        for (ProblemCode c : ProblemCode.values()) {
            assertThat(c.code()).matches("MG-[A-Z]+-\\d{3}");
            assertThat(seen.add(c.code())).as("%s used twice", c.code()).isTrue();
            assertThat(c.title()).isNotBlank();
        }
    }

    @Test
    void everyCode_hasOneDocsEntry_andTheDocsNameNoOtherCode() throws Exception {
        String docs = Files.readString(DOCS);
        Set<String> headings = new TreeSet<>();
        Matcher m = Pattern.compile("(?m)^### (MG-[A-Z]+-\\d{3})$").matcher(docs);
        while (m.find()) {
            assertThat(headings.add(m.group(1)))
                    .as("%s has two entries", m.group(1))
                    .isTrue();
        }
        Set<String> defined = new TreeSet<>(
                Arrays.stream(ProblemCode.values()).map(ProblemCode::code).toList());
        assertThat(headings).as("codes without a docs entry").containsAll(defined);
        Set<String> mentioned = new TreeSet<>();
        Matcher any = Pattern.compile("MG-[A-Z]+-\\d{3}").matcher(docs);
        while (any.find()) {
            mentioned.add(any.group());
        }
        assertThat(defined).as("the docs name codes that do not exist").containsAll(mentioned);
    }

    @Test
    void problemLines_andJson_carryTheCode() throws Exception {
        Problem p = Problem.error(ProblemCode.ROUTE_UNKNOWN_API, "routes[edge/buy].api", "unknown API 'shop'");
        assertThat(p.toString()).isEqualTo("error routes[edge/buy].api: unknown API 'shop' [MG-ROUTE-003]");
        assertThat(io.meshguard.xds.model.ConfigJson.mapper()
                        .valueToTree(p)
                        .path("code")
                        .asText())
                .isEqualTo("MG-ROUTE-003");
        assertThat(ProblemCode.ROUTE_UNKNOWN_API.anchor()).isEqualTo("mg-route-003");
    }
}
