package io.meshguard.console;

import io.meshguard.db.TenantScope;
import io.meshguard.xds.model.GatewayConfig;
import io.meshguard.xds.store.PgGatewayStore;
import io.meshguard.xds.validate.ConfigValidator;
import io.meshguard.xds.validate.Problem;
import io.meshguard.xds.validate.ProblemCode;
import io.meshguard.xds.validate.ValidationResult;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Validate: what the publisher's validator (the loaded policies' profiles included) says about the draft now, each
 * problem with its stable code and a link to the code's entry in {@code docs/problem-codes.md}. The whole draft is
 * checked (a route's references reach other tenants' objects); a tenant caller sees the problems of the objects its
 * tenants may see, as {@code GET /config} shows it those objects.
 */
public final class ValidateScreen {
    /**
     * Where each code is explained: the console's own reference page, built from {@link ProblemCode}, so the link works
     * on a network that reaches no documentation site. The anchor is the code in lower case, as in
     * {@code docs/problem-codes.md}.
     */
    public static final String DOCS = Console.PREFIX + "/problem-codes#";

    /** One problem as shown. */
    public record Row(String severity, String code, String title, String docsHref, String path, String message) {}

    public record Page(Views.Chrome chrome, int errors, int warnings, int infos, List<Row> rows) {}

    /** One code of the reference. */
    public record Code(String anchor, String code, String kind, String title) {}

    /** Every problem code there is, in the order they are declared (grouped by area). */
    public record Reference(Views.Chrome chrome, List<Code> codes) {}

    private final PgGatewayStore draft;
    private final ConfigValidator validator;

    public ValidateScreen(PgGatewayStore draft, ConfigValidator validator) {
        this.draft = draft;
        this.validator = validator;
    }

    Page page(TenantScope tenants, Views.Chrome chrome) {
        GatewayConfig all = draft.load();
        ValidationResult result = validator.validate(all);
        Set<String> visible = tenants.all()
                ? Set.of()
                : visibleObjects(draft.ownership(tenants).visibleIn(all, tenants));
        List<Problem> shown = result.problems().stream()
                .filter(p -> tenants.all() || visible.contains(object(p.path())))
                // most severe first, then where: an error must not hide below a screen of infos
                .sorted(Comparator.comparing(Problem::severity).thenComparing(Problem::path))
                .toList();
        List<Row> rows = shown.stream()
                .map(p -> new Row(
                        p.severity().name().toLowerCase(java.util.Locale.ROOT),
                        p.code().code(),
                        p.code().title(),
                        DOCS + p.code().anchor(),
                        p.path(),
                        p.message()))
                .toList();
        return new Page(
                chrome,
                count(shown, Problem.Severity.ERROR),
                count(shown, Problem.Severity.WARNING),
                count(shown, Problem.Severity.INFO),
                rows);
    }

    static Reference reference(Views.Chrome chrome) {
        return new Reference(
                chrome,
                java.util.Arrays.stream(ProblemCode.values())
                        .map(c ->
                                new Code(c.anchor(), c.code(), c.name().toLowerCase(java.util.Locale.ROOT), c.title()))
                        .toList());
    }

    private static int count(List<Problem> problems, Problem.Severity severity) {
        return (int) problems.stream().filter(p -> p.severity() == severity).count();
    }

    /** {@code routes[edge/buy]} of {@code routes[edge/buy].match.path_prefix}: the object a problem is about. */
    static String object(String path) {
        int close = path.indexOf(']');
        return close < 0 ? path : path.substring(0, close + 1);
    }

    private static Set<String> visibleObjects(GatewayConfig config) {
        Set<String> out = new HashSet<>();
        config.upstreams().forEach(u -> out.add("upstreams[" + u.name() + "]"));
        config.apis().forEach(a -> out.add("apis[" + a.name() + "]"));
        config.routes().forEach(r -> out.add("routes[" + r.group() + "/" + r.name() + "]"));
        return out;
    }
}
