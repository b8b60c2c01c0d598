/* metrics.c - the GET /metrics page: KPI gauges and the aggregator's self-metrics. */
#include "aggregator/metrics.h"

#include "common/version.h"
#include "exporters/prom.h"

static void render_self(struct sbuf *b, const struct metrics_inputs *in)
{
    prom_family(b, "cadre_ingest_batches_total", "counter",
                "Ingest batches by result since start (accepted, duplicate, rejected).");
    for (int r = 0; r < BATCH_RESULT_COUNT; r++)
        prom_sample(b, "cadre_ingest_batches_total", (double)in->ingest->batches[r], "result",
                    batch_result_name(r), (const char *)NULL);
    prom_family(b, "cadre_ingest_records_total", "counter",
                "Records accepted from batches since start, by type.");
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        prom_sample(b, "cadre_ingest_records_total", (double)in->ingest->records[t], "type",
                    rec_type_name(t), (const char *)NULL);
    prom_family(b, "cadre_ingest_rejected_records_total", "counter",
                "Records rejected inside accepted batches since start, by reason.");
    for (int r = 0; r < REJ_COUNT; r++)
        prom_sample(b, "cadre_ingest_rejected_records_total", (double)in->ingest->rejected[r],
                    "reason", reject_reason_name(r), (const char *)NULL);
    prom_family(b, "cadre_stored_records", "gauge",
                "Distinct records in the store, after keyed replacement, by type.");
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        prom_sample(b, "cadre_stored_records", (double)in->ingest->stored[t], "type",
                    rec_type_name(t), (const char *)NULL);
    prom_family(b, "cadre_newest_record_timestamp_seconds", "gauge",
                "Day or instant of the newest stored record, by type (Unix seconds).");
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        if (in->ingest->stored[t] > 0)
            prom_sample(b, "cadre_newest_record_timestamp_seconds", (double)in->ingest->newest_s[t],
                        "type", rec_type_name(t), (const char *)NULL);
    prom_family(b, "cadre_store_free_bytes", "gauge",
                "Bytes free on the database's file system (-1: unknown).");
    prom_sample(b, "cadre_store_free_bytes", (double)in->ingest->store_free, (const char *)NULL);
    prom_family(b, "cadre_ingest_disk_full_total", "counter",
                "Batches refused with 503 because the database's disk had less than "
                "store_min_free_bytes free.");
    prom_sample(b, "cadre_ingest_disk_full_total", (double)in->ingest->disk_refusals,
                (const char *)NULL);
    prom_family(b, "cadre_agent_last_seen_timestamp_seconds", "gauge",
                "When each agent last delivered a batch or heartbeat (Unix seconds).");
    for (size_t i = 0; i < in->ingest->nagents; i++)
        prom_sample(b, "cadre_agent_last_seen_timestamp_seconds",
                    (double)(in->ingest->agents[i].last_seen_us / 1000000), "agent",
                    in->ingest->agents[i].id, (const char *)NULL);
    prom_family(b, "cadre_agent_spool_bytes", "gauge",
                "Bytes in each agent's spool, as last reported by the agent.");
    for (size_t i = 0; i < in->ingest->nagents; i++)
        prom_sample(b, "cadre_agent_spool_bytes", (double)in->ingest->agents[i].spool_bytes,
                    "agent", in->ingest->agents[i].id, (const char *)NULL);
    const struct refresh_stats *r = in->refresh;
    if (r) {
        prom_family(b, "cadre_unmatched_records", "gauge",
                    "Stored records whose staff member is not employed on their day, by type.");
        for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
            prom_sample(b, "cadre_unmatched_records", (double)r->unmatched[t], "type",
                        rec_type_name(t), (const char *)NULL);
        prom_family(b, "cadre_suppressed_cells", "gauge",
                    "KPI cells of /metrics withheld by small-group suppression, by window.");
        for (size_t w = 0; r->windows[w]; w++)
            prom_sample(b, "cadre_suppressed_cells", (double)r->suppressed[w], "window",
                        r->windows[w], (const char *)NULL);
        prom_family(b, "cadre_kpi_refresh_duration_seconds", "gauge",
                    "Duration of the last KPI refresh.");
        prom_sample(b, "cadre_kpi_refresh_duration_seconds", r->refresh_seconds,
                    (const char *)NULL);
        prom_family(b, "cadre_kpi_last_refresh_timestamp_seconds", "gauge",
                    "When the last KPI refresh finished (Unix seconds).");
        prom_sample(b, "cadre_kpi_last_refresh_timestamp_seconds", (double)r->refreshed_at_us / 1e6,
                    (const char *)NULL);
    }
    prom_family(b, "cadre_build_info", "gauge", "Cadre build information; always 1.");
    prom_sample(b, "cadre_build_info", 1, "version", CADRE_VERSION, (const char *)NULL);
}

static void render_rw(struct sbuf *b, const struct rw_stats *rw)
{
    prom_family(b, "cadre_remote_write_requests_total", "counter",
                "remote_write requests by result: ok (2xx), retry (5xx, 429, no answer; "
                "backed off), error (other answers; dropped).");
    prom_sample(b, "cadre_remote_write_requests_total", (double)rw->ok, "result", "ok",
                (const char *)NULL);
    prom_sample(b, "cadre_remote_write_requests_total", (double)rw->retry, "result", "retry",
                (const char *)NULL);
    prom_sample(b, "cadre_remote_write_requests_total", (double)rw->error, "result", "error",
                (const char *)NULL);
    prom_family(b, "cadre_remote_write_samples_total", "counter",
                "KPI samples in delivered remote_write requests.");
    prom_sample(b, "cadre_remote_write_samples_total", (double)rw->samples, (const char *)NULL);
    prom_family(b, "cadre_remote_write_last_success_timestamp_seconds", "gauge",
                "When a remote_write request was last delivered (Unix seconds; 0: never).");
    prom_sample(b, "cadre_remote_write_last_success_timestamp_seconds",
                (double)rw->last_ok_us / 1e6, (const char *)NULL);
}

void metrics_render(struct sbuf *b, const struct metrics_inputs *in)
{
    if (in->refresh)
        sbuf_add(b, in->refresh->kpi_text, in->refresh->kpi_len);
    render_self(b, in);
    if (in->rw)
        render_rw(b, in->rw);
    prom_family(b, "cadre_http_inflight_bytes", "gauge",
                "Bytes held now for ingest request bodies and their decoding.");
    prom_sample(b, "cadre_http_inflight_bytes", (double)in->inflight_bytes, (const char *)NULL);
    prom_family(b, "cadre_ingest_busy_total", "counter",
                "Ingest requests answered 503 because max_inflight_bytes was held.");
    prom_sample(b, "cadre_ingest_busy_total", (double)in->busy_refusals, (const char *)NULL);
    prom_family(b, "cadre_metrics_oversize_scrapes_total", "counter",
                "Scrapes whose /metrics body passed 8 MiB (too many groups or windows).");
    prom_sample(b, "cadre_metrics_oversize_scrapes_total", (double)in->oversize_scrapes,
                (const char *)NULL);
}
