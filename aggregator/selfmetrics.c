/* selfmetrics.c - ingest, store, refresh and fleet metrics in text exposition format. */
#include "aggregator/selfmetrics.h"

#include "exporters/prom.h"

void selfmetrics_render(struct sbuf *b, const struct ingest_stats *st, const struct snapshot *snap)
{
    prom_family(b, "cadre_ingest_batches_total", "counter",
                "Ingest batches by result since start (accepted, duplicate, rejected).");
    for (int r = 0; r < BATCH_RESULT_COUNT; r++)
        prom_sample(b, "cadre_ingest_batches_total", (double)st->batches[r], "result",
                    batch_result_name(r), (const char *)NULL);
    prom_family(b, "cadre_ingest_records_total", "counter",
                "Records accepted from batches since start, by type.");
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        prom_sample(b, "cadre_ingest_records_total", (double)st->records[t], "type",
                    rec_type_name(t), (const char *)NULL);
    prom_family(b, "cadre_ingest_rejected_records_total", "counter",
                "Records rejected inside accepted batches since start, by reason.");
    for (int r = 0; r < REJ_COUNT; r++)
        prom_sample(b, "cadre_ingest_rejected_records_total", (double)st->rejected[r], "reason",
                    reject_reason_name(r), (const char *)NULL);
    prom_family(b, "cadre_stored_records", "gauge",
                "Distinct records in the store, after keyed replacement, by type.");
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        prom_sample(b, "cadre_stored_records", (double)st->stored[t], "type", rec_type_name(t),
                    (const char *)NULL);
    prom_family(b, "cadre_newest_record_timestamp_seconds", "gauge",
                "Day or instant of the newest stored record, by type (Unix seconds).");
    for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
        if (st->stored[t] > 0)
            prom_sample(b, "cadre_newest_record_timestamp_seconds", (double)st->newest_s[t], "type",
                        rec_type_name(t), (const char *)NULL);
    prom_family(b, "cadre_agent_last_seen_timestamp_seconds", "gauge",
                "When each agent last delivered a batch or heartbeat (Unix seconds).");
    for (size_t i = 0; i < st->nagents; i++)
        prom_sample(b, "cadre_agent_last_seen_timestamp_seconds",
                    (double)(st->agents[i].last_seen_us / 1000000), "agent", st->agents[i].id,
                    (const char *)NULL);
    prom_family(b, "cadre_agent_spool_bytes", "gauge",
                "Bytes in each agent's spool, as last reported by the agent.");
    for (size_t i = 0; i < st->nagents; i++)
        prom_sample(b, "cadre_agent_spool_bytes", (double)st->agents[i].spool_bytes, "agent",
                    st->agents[i].id, (const char *)NULL);
    if (snap) {
        prom_family(b, "cadre_unmatched_records", "gauge",
                    "Stored records whose staff member is not employed on their day, by type.");
        for (int t = REC_TYPE_MIN; t <= REC_TYPE_MAX; t++)
            prom_sample(b, "cadre_unmatched_records", (double)snap->unmatched[t], "type",
                        rec_type_name(t), (const char *)NULL);
        prom_family(b, "cadre_suppressed_cells", "gauge",
                    "KPI cells of /metrics withheld by small-group suppression, by window.");
        for (const char *const *w = snapshot_windows; *w; w++)
            prom_sample(b, "cadre_suppressed_cells", (double)snapshot_suppressed_cells(snap, *w),
                        "window", *w, (const char *)NULL);
        prom_family(b, "cadre_kpi_refresh_duration_seconds", "gauge",
                    "Duration of the last KPI refresh.");
        prom_sample(b, "cadre_kpi_refresh_duration_seconds", snap->refresh_seconds,
                    (const char *)NULL);
        prom_family(b, "cadre_kpi_last_refresh_timestamp_seconds", "gauge",
                    "When the last KPI refresh finished (Unix seconds).");
        prom_sample(b, "cadre_kpi_last_refresh_timestamp_seconds",
                    (double)snap->refreshed_at_us / 1e6, (const char *)NULL);
    }
    prom_family(b, "cadre_build_info", "gauge", "Cadre build information; always 1.");
    prom_sample(b, "cadre_build_info", 1, "version", CADRE_VERSION, (const char *)NULL);
}
