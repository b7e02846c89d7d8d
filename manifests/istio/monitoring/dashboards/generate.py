#!/usr/bin/env python3
"""Writes meshguard's Grafana dashboards (the JSON files beside this script) from the compact definitions below.

    python3 manifests/istio/monitoring/dashboards/generate.py           # rewrite the JSON files
    python3 manifests/istio/monitoring/dashboards/generate.py --check   # exit 1 if a JSON file is not up to date
    python3 manifests/istio/monitoring/dashboards/generate.py --guide   # the operator guide's lines (its "Dashboards" section)

A panel is one call: ts("title", "the question it answers", q("PromQL", "legend"), ...). Add it to a dashboard's
list, run the script, commit the JSON. manifests/istio/monitoring/kustomization.yaml turns each JSON file into a
ConfigMap the Grafana sidecar loads; the e2e test DashboardQueriesTest checks every expression against /metrics of a
running stack, and docs/operate/day-to-day.md ("Dashboards") names every dashboard and panel (deploy-tests check that).
Python 3 standard library only.
"""
import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
RATE = "[$__rate_interval]"  # Grafana's rate window: at least four scrape intervals
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}


def q(expr, legend=""):
    """One query of a panel."""
    return {"expr": expr.replace("[R]", RATE), "legendFormat": legend}


def ts(title, question, *targets, unit="short", width=12):
    """A time-series panel; `question` becomes its description (shown on hover) and its line in the guide."""
    return {"type": "timeseries", "title": title, "description": question, "targets": list(targets),
            "unit": unit, "width": width}


def stat(title, question, *targets, unit="short", width=6):
    """A single-number panel (the newest value)."""
    return {"type": "stat", "title": title, "description": question, "targets": list(targets),
            "unit": unit, "width": width}


def row(title):
    return {"type": "row", "title": title}


AUTHZ = ("meshguard-authz", "meshguard / Authorization",
         "Is extauthz deciding correctly, and fast enough that Envoy never gives up on it?", [
    row("Decisions"),
    ts("Decisions by result", "How many Checks per second are allowed and how many denied?",
       q('sum by (result) (rate(meshguard_authz_decisions_total[R]))', "{{result}}"), unit="reqps"),
    ts("Deny ratio", "What share of Checks is denied? (alert AuthzDenyRatioHigh above 20 %)",
       q('sum(rate(meshguard_authz_decisions_total{result="deny"}[R])) / sum(rate(meshguard_authz_decisions_total[R]))',
         "denied"), unit="percentunit"),
    ts("Denials by reason", "Why are requests denied (missing credential, role, tenant, rate limit, ...)?",
       q('sum by (reason) (rate(meshguard_authz_decisions_total{result="deny"}[R]))', "{{reason}}"), unit="reqps"),
    ts("Decisions by route (top 10)", "Which routes carry the traffic, and which of them deny?",
       q('topk(10, sum by (route, result) (rate(meshguard_authz_decisions_total[R])))', "{{route}} {{result}}"),
       unit="reqps"),
    ts("Rate-limited requests by route", "Which routes answer 429 because a caller is over its rate limit?",
       q('sum by (route) (rate(meshguard_authz_decisions_total{reason="rate_limited"}[R]))', "{{route}}"),
       unit="reqps"),
    ts("Refused paths and unknown profiles",
       "Are clients sending paths an upstream could read differently, or do routes name a rule the policy lacks?",
       q('sum by (problem) (increase(meshguard_authz_path_refusals_total[R]))', "path: {{problem}}"),
       q('sum by (profile) (increase(meshguard_authz_unknown_profile_total[R]))', "unknown profile: {{profile}}")),
    row("Latency and capacity"),
    ts("Check latency", "How long does a Check take? (alert AuthzCheckSlow at p99 > 250 ms; Envoy gives up at 1 s)",
       q('histogram_quantile(0.5, sum by (le) (rate(meshguard_authz_check_duration_seconds_bucket[R])))', "p50"),
       q('histogram_quantile(0.99, sum by (le) (rate(meshguard_authz_check_duration_seconds_bucket[R])))', "p99"),
       q('histogram_quantile(0.999, sum by (le) (rate(meshguard_authz_check_duration_seconds_bucket[R])))', "p99.9"),
       unit="s"),
    ts("Check latency p99 by pod", "Is one replica slower than the others?",
       q('histogram_quantile(0.99, sum by (le, pod) (rate(meshguard_authz_check_duration_seconds_bucket[R])))',
         "{{pod}}"), unit="s"),
    ts("Calls in flight and refused", "Is extauthz at its concurrent-call limit (RESOURCE_EXHAUSTED, seen as a deny)?",
       q('sum by (pod) (meshguard_grpc_calls_in_flight{server="extauthz"})', "in flight {{pod}}"),
       q('sum(rate(meshguard_grpc_calls_rejected_total{server="extauthz"}[R]))', "refused/s")),
    ts("Checks per pod", "Is the load spread evenly over the replicas?",
       q('sum by (pod) (rate(meshguard_authz_check_duration_seconds_count[R]))', "{{pod}}"), unit="reqps"),
    row("Tokens, keys and policy"),
    ts("Token cache hit ratio", "Are tokens served from the verified-token cache, or verified again each time?",
       q('sum(rate(meshguard_authz_token_cache_requests_total{result="hit"}[R])) '
         '/ sum(rate(meshguard_authz_token_cache_requests_total[R]))', "hit ratio"), unit="percentunit"),
    ts("JWKS fetches by issuer", "Can every issuer's signing keys be fetched? (alert JwksFetchFailing)",
       q('sum by (issuer, result) (increase(meshguard_authz_jwks_fetches_total[R]))', "{{issuer}} {{result}}")),
    ts("Unknown API key ids", "Are clients presenting API keys no stored key has: read from PostgreSQL within the "
       "budget, or refused unread? (alert AuthzMadeUpApiKeys)",
       q('sum by (outcome) (rate(meshguard_authz_apikey_unlisted_ids_total[R]))', "{{outcome}}"), unit="reqps"),
    ts("Policy reloads", "Did an edited authz.yaml load, or was it refused? (alert AuthzPolicyRejected)",
       q('sum by (result) (increase(meshguard_policy_reload_total{policy="authz"}[R]))', "{{result}}")),
    ts("Replicas per policy version", "Do all replicas enforce the same authz policy?",
       q('count by (version) (meshguard_policy_info{policy="authz",server="extauthz"})', "{{version}}")),    row("Rate limits and quotas"),
    stat("Where limits are counted", "Are rate limits global (Redis, shared by every replica) or per replica?",
         q('count by (mode) (meshguard_ratelimit_mode)', "{{mode}}")),
    ts("Rate-limit store breaker", "Is Redis answering (0 closed), being probed (1) or bypassed (2 open: degraded shares)? (alert RateLimitStoreDown)",
       q('max by (pod) (meshguard_ratelimit_store_state)', "{{pod}}")),
    ts("Rate-limit decisions by source", "Are limits decided by the shared store, by each replica's degraded share, or refused because the store is away?",
       q('sum by (source, result) (rate(meshguard_ratelimit_decisions_total[R]))', "{{source}} {{result}}"),
       unit="reqps"),
    ts("Rate-limit store errors and replicas", "Does Redis fail or time out, and how many replicas share each limit?",
       q('sum by (kind) (increase(meshguard_ratelimit_store_errors_total[R]))', "errors: {{kind}}"),
       q('max(meshguard_ratelimit_replicas)', "replicas sharing")),
    ts("Quota stores", "Are the quota counters' stores up (Redis live counts, PostgreSQL durable counts)? (alert QuotaStoreDown)",
       q('min by (store) (meshguard_quota_store_up)', "{{store}}")),
    ts("Quota increments waiting for PostgreSQL", "Are counted requests reaching PostgreSQL, and how far behind is it? (alert QuotaFlushLagging)",
       q('sum(meshguard_quota_pending_increments)', "pending increments"),
       q('max(meshguard_quota_flush_lag_seconds)', "lag, seconds")),
])

DLP = ("meshguard-dlp", "meshguard / DLP",
       "What sensitive data is found and what is done with it, how much passes unscanned, and what it costs?", [
    row("Findings"),
    ts("Findings by detector", "Which kinds of sensitive data are found (card, IBAN, e-mail, keys, ...)?",
       q('sum by (detector) (rate(meshguard_dlp_findings_total[R]))', "{{detector}}"), unit="ops"),
    ts("Findings by action and direction", "Are findings masked, hashed, redacted or blocked, in requests or answers?",
       q('sum by (action, direction) (rate(meshguard_dlp_findings_total[R]))', "{{action}} {{direction}}"),
       unit="ops"),
    ts("Blocks by reason", "How many requests or answers are stopped, and why? (alert DlpBlocksSpike)",
       q('sum by (reason, direction) (rate(meshguard_dlp_blocks_total[R]))', "{{reason}} {{direction}}"),
       unit="ops"),
    ts("Findings by route and profile (top 10)", "Which routes leak the most?",
       q('topk(10, sum by (route, profile) (rate(meshguard_dlp_findings_total[R])))', "{{route}} ({{profile}})"),
       unit="ops"),
    row("Bytes"),
    ts("Bytes scanned by content", "How much body data is scanned, of which kind (JSON, text, form, SSE)?",
       q('sum by (content, direction) (rate(meshguard_dlp_scanned_bytes_total[R]))', "{{content}} {{direction}}"),
       unit="Bps"),
    ts("Bytes passed unscanned by reason", "How much passes without a scan, and why? (alert DlpUnscannedBytes)",
       q('sum by (reason, direction) (rate(meshguard_dlp_unscanned_bytes_total[R]))', "{{reason}} {{direction}}"),
       unit="Bps"),
    ts("Unscanned share", "What fraction of all body bytes went through unscanned?",
       q('sum(rate(meshguard_dlp_unscanned_bytes_total[R])) / (sum(rate(meshguard_dlp_scanned_bytes_total[R])) '
         '+ sum(rate(meshguard_dlp_unscanned_bytes_total[R])))', "unscanned"), unit="percentunit"),
    row("Streams and latency"),
    ts("Added latency per body chunk", "How much latency does the scan add to each body message (worst pod)?",
       q('max by (direction, quantile) (meshguard_dlp_chunk_seconds{quantile=~"0.5|0.99"})',
         "p{{quantile}} {{direction}}"),
       q('sum by (direction) (rate(meshguard_dlp_chunk_seconds_sum[R])) '
         '/ sum by (direction) (rate(meshguard_dlp_chunk_seconds_count[R]))', "mean {{direction}}"), unit="s"),
    ts("Stream duration", "How long does a whole ext_proc stream last (request to end of answer)?",
       q('sum(rate(grpc_server_processing_duration_seconds_sum{service="envoy.service.ext_proc.v3.ExternalProcessor"}[R])) '
         '/ sum(rate(grpc_server_processing_duration_seconds_count{service="envoy.service.ext_proc.v3.ExternalProcessor"}[R]))',
         "mean"),
       q('max(grpc_server_processing_duration_seconds_max{service="envoy.service.ext_proc.v3.ExternalProcessor"})',
         "max"), unit="s"),
    ts("Open streams and the oldest one", "How many streams are open, and is one stuck? (alert DlpStreamStuck)",
       q('sum(meshguard_dlp_streams_active)', "open streams"),
       q('max(meshguard_dlp_stream_oldest_seconds)', "oldest stream, seconds")),
    ts("Streams over deadline by phase", "Did the server have to end stalled streams? (alert DlpStreamsOverDeadline)",
       q('sum by (phase, direction) (increase(meshguard_dlp_streams_over_deadline_total[R]))',
         "{{phase}} {{direction}}")),
    row("Health"),
    ts("Protocol errors and decoder limit", "Do Envoy and the server disagree, or are compressed bodies refused?",
       q('sum by (kind) (increase(meshguard_dlp_protocol_errors_total[R]))', "protocol: {{kind}}"),
       q('sum by (direction) (increase(meshguard_dlp_decoder_limit_total[R]))', "decoder limit: {{direction}}")),
    ts("Unknown DLP profiles", "Does a route name a DLP profile the policy lacks? (alert DlpUnknownProfile)",
       q('sum by (profile) (increase(meshguard_dlp_unknown_profile_total[R]))', "{{profile}}")),
    ts("Policy reloads", "Did an edited dlp.yaml load, or was it refused? (alert DlpPolicyRejected)",
       q('sum by (result) (increase(meshguard_dlp_policy_reloads_total[R]))', "{{result}}")),
    stat("Vector width", "Does every pod run the vectorized scan (bytes per step; 0 = portable, ~18 % slower)?",
         q('min(meshguard_dlp_vector_bytes)', "bytes"), unit="bytes"),
    stat("Calls refused", "Is the DLP server at its concurrent-call limit?",
         q('sum(rate(meshguard_grpc_calls_rejected_total{server="extproc-dlp"}[R]))', "refused/s"), unit="reqps"),
])

AUDIT = ("meshguard-audit", "meshguard / Audit",
         "Does every audit record reach PostgreSQL, and if not, where is it (queue, spool) and is any lost?", [
    row("Flow"),
    ts("Events recorded, written, spooled, replayed",
       "Do events reach the database directly, or go to the spool and come back later?",
       q('sum(rate(meshguard_audit_events_recorded_total[R]))', "recorded"),
       q('sum(rate(meshguard_audit_events_written_total[R]))', "written"),
       q('sum(rate(meshguard_audit_events_spooled_total[R]))', "spooled"),
       q('sum(rate(meshguard_audit_events_replayed_total[R]))', "replayed"), unit="ops"),
    ts("Events lost or refused", "Was any record dropped or refused by the database? (alert AuditEventsRejected)",
       q('sum by (reason) (increase(meshguard_audit_events_dropped_total[R]))', "dropped: {{reason}}"),
       q('sum(increase(meshguard_audit_events_rejected_total[R]))', "rejected by the database")),
    ts("Queue depth", "Are events piling up in memory before the writer?",
       q('max by (pod, server) (meshguard_audit_queue_events)', "{{pod}} {{server}}")),
    ts("Database reachable", "Can each writer reach PostgreSQL (1) or is it spooling (0)?",
       q('min by (pod, server) (meshguard_audit_database_up)', "{{pod}} {{server}}")),
    ts("Batch write latency", "How long does a batch take to commit, directly and on replay?",
       q('histogram_quantile(0.99, sum by (le, path) (rate(meshguard_audit_batch_write_seconds_bucket[R])))',
         "p99 {{path}}"),
       q('histogram_quantile(0.5, sum by (le, path) (rate(meshguard_audit_batch_write_seconds_bucket[R])))',
         "p50 {{path}}"), unit="s"),
    row("Spool and replay"),
    ts("Spool size", "How full is each pod's spool? (alert AuditSpoolFilling at 70 % of 1 GiB)",
       q('max by (pod) (meshguard_audit_spool_bytes)', "{{pod}}"), unit="bytes"),
    ts("Spool segments", "How many spool files wait for replay?",
       q('max by (pod) (meshguard_audit_spool_segments)', "{{pod}}")),
    ts("Replay and duplicates", "Is the spool draining, and are replayed events already in the database?",
       q('sum(rate(meshguard_audit_events_replayed_total[R]))', "replayed"),
       q('sum(rate(meshguard_audit_replay_duplicates_total[R]))', "duplicates skipped"), unit="ops"),
    ts("Corrupt spool records", "Could spooled records not be read back? (alert AuditSpoolCorrupt)",
       q('sum(increase(meshguard_audit_spool_corrupt_records_total[R]))', "corrupt")),
    row("Partitions and the gateway's access log"),
    ts("Partitions added and dropped", "Are monthly partitions created ahead and dropped past retention?",
       q('sum(increase(meshguard_audit_partitions_added_total[1h]))', "added (1h)"),
       q('sum(increase(meshguard_audit_partitions_dropped_total[1h]))', "dropped (1h)")),
    ts("Partition maintenance", "When did maintenance last succeed, and does it fail?",
       q('time() - max(meshguard_audit_maintenance_last_success_timestamp_seconds)', "seconds since success"),
       q('sum(increase(meshguard_audit_maintenance_failures_total[1h]))', "failures (1h)")),
    ts("Access-log entries by result", "Do the gateways' access logs arrive and become api_call rows?",
       q('sum by (result) (rate(meshguard_audit_als_entries_total[R]))', "{{result}}"),
       q('sum(meshguard_audit_als_streams)', "open streams")),    row("Decision log and tracing export"),
    ts("Decision log lines", "Do decision log lines reach standard output, or are they dropped? (alert DecisionLogDropping)",
       q('sum(rate(meshguard_decision_log_events_written_total[R]))', "written/s"),
       q('sum by (reason) (increase(meshguard_decision_log_dropped_total[R]))', "dropped: {{reason}}")),
    ts("Decision log queue", "Is the decision log's queue filling up (standard output not read fast enough)?",
       q('max(meshguard_decision_log_queue_events)', "queued"),
       q('max(meshguard_decision_log_queue_capacity)', "capacity")),
    ts("Spans exported", "Are spans reaching the OTLP collector (tracing on where meshguard_tracing_enabled is 1)?",
       q('sum by (outcome) (rate(meshguard_tracing_spans_exported_total[R]))', "{{outcome}}"),
       q('sum(rate(meshguard_tracing_spans_ended_total[R]))', "ended"),
       q('sum(meshguard_tracing_enabled)', "pods exporting")),
])

XDS = ("meshguard-xds", "meshguard / xDS",
       "Does every gateway hold the newest config, how fast is it pushed, and which revisions were published?", [
    row("Fleet"),
    ts("Connected ADS streams", "How many gateways and gRPC clients are connected? (alert XdsStreamsDropped)",
       q('sum by (pod) (meshguard_xds_connected_streams)', "{{pod}}")),
    ts("ACKs and NACKs by type", "Do clients accept what is pushed? A NACK means a client kept its old config.",
       q('sum by (type) (increase(meshguard_xds_acks_total[R]))', "ACK {{type}}"),
       q('sum by (type) (increase(meshguard_xds_nacks_total[R]))', "NACK {{type}}")),
    ts("NACK ratio", "What share of answers from clients are rejections? (alert XdsNacks)",
       q('sum(rate(meshguard_xds_nacks_total[R])) / (sum(rate(meshguard_xds_acks_total[R])) '
         '+ sum(rate(meshguard_xds_nacks_total[R])))', "NACK ratio"), unit="percentunit"),
    ts("Route profiles missing", "Do published routes name a rule or profile the policies no longer define?",
       q('max(meshguard_xds_served_route_profiles_missing)', "missing")),
    row("Pushes and revisions"),
    ts("Publishes by result", "How many revisions were published, and how many publishes were refused?",
       q('sum by (result) (increase(meshguard_xds_publish_total[R]))', "{{result}}")),
    ts("Push round trip by type", "How long from a response sent to the client's ACK (delivery and apply)?",
       q('histogram_quantile(0.5, sum by (le, type) (rate(meshguard_xds_ack_latency_seconds_bucket{result="ack"}[R])))',
         "p50 {{type}}"),
       q('histogram_quantile(0.99, sum by (le, type) (rate(meshguard_xds_ack_latency_seconds_bucket{result="ack"}[R])))',
         "p99 {{type}}"), unit="s"),
    ts("Snapshot build time", "How long does building the config of a publish take?",
       q('sum(rate(meshguard_xds_snapshot_build_seconds_sum[R])) / sum(rate(meshguard_xds_snapshot_build_seconds_count[R]))',
         "mean"),
       q('max(meshguard_xds_snapshot_build_seconds_max)', "max"), unit="s"),
    ts("Responses pushed by type", "How many xDS responses go out, of which type?",
       q('sum by (type) (rate(meshguard_xds_responses_total[R]))', "{{type}}"), unit="ops"),
    ts("Bytes pushed by type", "How large are the pushes?",
       q('sum by (type) (rate(meshguard_xds_response_bytes_total[R]))', "{{type}}"), unit="Bps"),
    ts("Policy versions checked against", "Which authz and DLP policy versions does the controller validate routes with?",
       q('count by (policy, version) (meshguard_policy_info{server="xds"})', "{{policy}} {{version}}")),
])

API = ("meshguard-api-versions", "meshguard / API versions",
       "Which API versions are called, how well do they answer, and who still calls a deprecated version before its sunset?", [
    row("Traffic"),
    ts("Requests by API version", "How much traffic does each API version get (from the gateway's access log, one count per request)?",
       q('sum by (api, api_version) (rate(meshguard_api_requests_total[R]))', "{{api}} {{api_version}}"), unit="reqps"),
    ts("Error ratio by API version", "What share of each version's answers are 5xx?",
       q('sum by (api, api_version) (rate(meshguard_api_requests_total{code=~"5.."}[R])) '
         '/ sum by (api, api_version) (rate(meshguard_api_requests_total[R]))', "{{api}} {{api_version}}"),
       unit="percentunit"),
    ts("Latency p95 by API version", "How long do each version's requests take at the gateway?",
       q('histogram_quantile(0.95, sum by (le, api, api_version) (rate(meshguard_api_request_duration_seconds_bucket[R])))',
         "{{api}} {{api_version}}"), unit="s"),
    ts("Requests by route and status", "Which routes answer which status codes?",
       q('topk(10, sum by (route, code) (rate(meshguard_api_requests_total[R])))', "{{route}} {{code}}"), unit="reqps"),
    row("Deprecation"),
    ts("Days to sunset of deprecated versions", "How long until each deprecated version that still has traffic is switched off? (alert DeprecatedApiVersionNearSunset)",
       q('min by (api, api_version) (meshguard_api_version_sunset_seconds) / 86400', "{{api}} {{api_version}}")),
    ts("Top callers of deprecated versions", "Which tenants and clients still call a deprecated version (meshguard api usage prints the full report)?",
       q('topk(10, sum by (api, api_version, tenant, client_id) (increase(meshguard_api_deprecated_requests_total[1d])))',
         "{{api}} {{api_version}} {{tenant}}/{{client_id}}")),
])

DASHBOARDS = [AUTHZ, DLP, AUDIT, XDS, API]


def layout(panels):
    """Places panels left to right in rows 24 units wide; a row panel starts a new line."""
    out, x, y, h = [], 0, 0, 8
    for i, p in enumerate(panels, start=1):
        if p["type"] == "row":
            if x:
                y, x = y + h, 0
            out.append({"type": "row", "title": p["title"], "id": i, "collapsed": False, "panels": [],
                        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}})
            y += 1
            continue
        w = p["width"]
        if x + w > 24:
            y, x = y + h, 0
        targets = [dict(t, refId=chr(ord("A") + n), datasource=DATASOURCE) for n, t in enumerate(p["targets"])]
        panel = {"type": p["type"], "title": p["title"], "description": p["description"], "id": i,
                 "datasource": DATASOURCE, "targets": targets, "gridPos": {"h": h, "w": w, "x": x, "y": y},
                 "fieldConfig": {"defaults": {"unit": p["unit"]}, "overrides": []}, "options": {}}
        if p["type"] == "stat":
            panel["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}
        out.append(panel)
        x += w
    return out


def dashboard(uid, title, question, panels):
    return {
        "uid": uid, "title": title, "description": question, "tags": ["meshguard"], "editable": False,
        "schemaVersion": 39, "version": 1, "time": {"from": "now-6h", "to": "now"}, "refresh": "30s",
        "timezone": "utc", "graphTooltip": 1, "links": [], "annotations": {"list": []},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "current": {}, "hide": 0}]},
        "panels": layout(panels),
    }


def render():
    return {f"{uid}.json": json.dumps(dashboard(uid, title, question, panels), indent=2, sort_keys=True) + "\n"
            for uid, title, question, panels in DASHBOARDS}


def guide():
    """The operator guide's lines for every dashboard and panel (docs/operate/day-to-day.md, "Dashboards")."""
    lines = []
    for uid, title, question, panels in DASHBOARDS:
        lines.append(f"**{title}** (`{uid}.json`): {question}")
        lines.append("")
        for p in panels:
            if p["type"] == "row":
                continue
            lines.append(f"- *{p['title']}*: {p['description']}")
        lines.append("")
    return "\n".join(lines)


def main(argv):
    if "--guide" in argv:
        print(guide(), end="")
        return 0
    files = render()
    if "--check" in argv:
        stale = [name for name, text in files.items()
                 if not (HERE / name).is_file() or (HERE / name).read_text(encoding="utf-8") != text]
        if stale:
            print("out of date (run generate.py): " + ", ".join(stale))
            return 1
        return 0
    for name, text in files.items():
        (HERE / name).write_text(text, encoding="utf-8")
        print("wrote " + str(HERE / name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
