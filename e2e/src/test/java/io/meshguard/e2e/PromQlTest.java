package io.meshguard.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

/** The PromQL reader {@link DashboardQueriesTest} relies on, on expressions built to trip it. */
class PromQlTest {
    @Test
    void histogramQuantile_readsTheBucketSeries_andTheLeGrouping() {
        PromQl.Refs refs = PromQl.read(
                "histogram_quantile(0.99, sum by (le, pod) (rate(meshguard_authz_check_duration_seconds_bucket[5m])))");
        assertThat(refs.metrics()).containsExactly("meshguard_authz_check_duration_seconds_bucket");
        assertThat(refs.groupingLabels()).containsExactly("le", "pod");
    }

    @Test
    void matchers_nameTheirLabels_whateverTheOperatorAndQuote() {
        PromQl.Refs refs =
                PromQl.read("sum(rate(a_total{result=\"deny\", route!~'x|y', reason=~`a\"b`,k!=\"}\"}[5m]))");
        assertThat(refs.selectors())
                .containsExactly(new PromQl.Selector(
                        "a_total", Set.of("result", "route", "reason", "k"), java.util.Map.of("result", "deny")));
    }

    @Test
    void functionsAggregationsAndKeywords_areNotMetrics() {
        PromQl.Refs refs = PromQl.read("sum without (instance) (increase(x_total[1h] offset 1d)) > bool 3 "
                + "and on () max_over_time(sum(rate(y_total[5m]))[1d:5m]) > 0 unless absent(z) or vector(1)");
        assertThat(refs.metrics()).containsExactly("x_total", "y_total", "z");
        assertThat(refs.groupingLabels()).containsExactly("instance");
    }

    @Test
    void groupingAfterTheAggregation_andVectorMatching_areRead() {
        PromQl.Refs refs = PromQl.read("sum(rate(a[5m])) by (route) / ignoring(code) group_left(tier) "
                + "sum by (route, tier) (b) * on (route) group_right c");
        assertThat(refs.metrics()).containsExactly("a", "b", "c");
        assertThat(refs.groupingLabels()).containsExactlyInAnyOrder("route", "code", "tier");
    }

    @Test
    void labelReplace_createsItsTargetLabel_andReadsItsSource() {
        PromQl.Refs refs = PromQl.read("count by (statefulset) (label_replace(kube_persistentvolumeclaim_info"
                + "{namespace=\"m\"}, \"statefulset\", \"$1\", \"persistentvolumeclaim\", \"audit-(.+)-[0-9]+\"))");
        assertThat(refs.createdLabels()).containsExactly("statefulset");
        assertThat(refs.groupingLabels()).containsExactly("persistentvolumeclaim");
        assertThat(refs.selectors().getFirst().labels()).containsExactly("namespace");
    }

    @Test
    void grafanaVariables_andRangeWindows_areSkipped() {
        PromQl.Refs refs = PromQl.read("sum by (reason) (rate(x_total{server=~\"$server\"}[$__rate_interval])) "
                + "/ ${scale} + rate(y_total[${window}])");
        assertThat(refs.metrics()).containsExactly("x_total", "y_total");
        assertThat(refs.groupingLabels()).containsExactly("reason");
    }

    @Test
    void metricNamesWithColons_andNameMatchers_areRead() {
        PromQl.Refs refs = PromQl.read("job:requests:rate5m + {__name__=\"up\", job=\"x\"} - 1e3 * 0.7");
        assertThat(refs.selectors())
                .containsExactly(
                        new PromQl.Selector("job:requests:rate5m", Set.of()),
                        new PromQl.Selector("up", Set.of("job"), java.util.Map.of("job", "x")));
    }

    @Test
    void topkAndCountValues_areNotMetrics_andCountValuesCreatesItsLabel() {
        PromQl.Refs refs = PromQl.read("topk(10, count_values(\"version\", build_info)) and quantile(0.5, a)");
        assertThat(refs.metrics()).containsExactly("build_info", "a");
        assertThat(refs.createdLabels()).containsExactly("version");
    }

    @Test
    void aRegexOnTheMetricName_orAnUnclosedMatcher_isRefused_notGuessed() {
        assertThatThrownBy(() -> PromQl.read("sum({__name__=~\"meshguard_.+\"})"))
                .hasMessageContaining("regex");
        assertThatThrownBy(() -> PromQl.read("rate(a{b=\"c\"[5m])")).isInstanceOf(IllegalArgumentException.class);
    }
}
