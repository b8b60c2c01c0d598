#!/usr/bin/env python3
"""vendor_canonical.py - rewrites the examples/sources sample exports in Cadre's canonical
form, independently of the agent: Python's csv, datetime.strptime and zoneinfo (the same
system tz database, read by other code) do the work the mappings describe.

usage: vendor_canonical.py EXAMPLES_DIR OUT_DIR

Writes OUT_DIR/{staffing,shifts,ehr,training}.csv (timestamps with their UTC offset) and
OUT_DIR/rejects.txt: one "SOURCE line N: invalid_value FIELD" per row the mapping cannot
turn into a canonical row (a value missing from a value map, a wall time the clocks
skipped), which the agent must reject the same way.
"""
import csv
import datetime as dt
import os
import sys
from zoneinfo import ZoneInfo


def rows(path):
    """(line number, dict) per data row; the header is line 1 and no field spans lines."""
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        header = [h.strip() for h in next(r)]
        for n, fields in enumerate(r, start=2):
            yield n, {h: v.strip() for h, v in zip(header, fields)}


def value_map(path):
    return {row["from"]: row["to"] for _, row in rows(path)}


def date(text, fmt):
    return dt.datetime.strptime(text, fmt).date().isoformat() if text else ""


def main():
    ex, out = sys.argv[1], sys.argv[2]
    rejects = []

    # HR worker report -> staffing_csv
    d = os.path.join(ex, "hr-worker-report")
    titles = value_map(os.path.join(d, "job-titles.csv"))
    reasons = value_map(os.path.join(d, "termination-reasons.csv"))
    hybrid = value_map(os.path.join(d, "ai-roles.csv"))
    with open(os.path.join(out, "staffing.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["staff_id", "start_date", "end_date", "end_reason", "department", "role",
                    "site", "hybrid_role", "fte"])
        for n, r in rows(os.path.join(d, "workers.csv")):
            bad = None
            if r["Job Title"] not in titles:
                bad = "role"
            elif r["Termination Reason"] and r["Termination Reason"] not in reasons:
                bad = "end_reason"
            elif r["AI Role"] and r["AI Role"] not in hybrid:
                bad = "hybrid_role"
            if bad:
                rejects.append(f"[source hr] line {n}: invalid_value {bad}")
                continue
            w.writerow([r["Employee ID"], date(r["Hire Date"], "%m/%d/%Y"),
                        date(r["Termination Date"], "%m/%d/%Y"),
                        reasons.get(r["Termination Reason"], ""), r["Cost Center"],
                        titles[r["Job Title"]], r["Work Location"],
                        hybrid.get(r["AI Role"], ""), r["FTE"]])

    # Timekeeping punches -> shifts_csv, wall times in America/Chicago
    zone = ZoneInfo("America/Chicago")

    def instant(text):
        """The instant of a wall time: the earlier of two (fold 0), None when skipped."""
        wall = dt.datetime.strptime(text, "%m/%d/%Y %I:%M %p")
        t = wall.replace(tzinfo=zone)
        if t.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None) != wall:
            return None
        return t.isoformat()

    d = os.path.join(ex, "timekeeping-punches")
    with open(os.path.join(out, "shifts.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["staff_id", "start", "end", "overtime_hours"])
        for n, r in rows(os.path.join(d, "punches.csv")):
            start, end = instant(r["In Punch"]), instant(r["Out Punch"])
            if start is None or end is None:
                rejects.append(f"[source timekeeping] line {n}: invalid_value "
                               + ("start" if start is None else "end"))
                continue
            w.writerow([r["Person Number"], start, end, r["Overtime Hours"]])

    # EHR efficiency report in hours -> ehr_csv in minutes (exact decimals)
    from decimal import Decimal
    d = os.path.join(ex, "ehr-efficiency")
    with open(os.path.join(out, "ehr.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["staff_id", "date", "scheduled_patient_hours", "ehr_minutes",
                    "outside_scheduled_minutes", "inbox_minutes"])
        for n, r in rows(os.path.join(d, "provider-efficiency.csv")):
            w.writerow([r["Provider ID"], date(r["Service Date"], "%m/%d/%Y"),
                        r["Scheduled Patient Hours"]] +
                       [str(Decimal(r[c]) * 60) for c in
                        ("Time in EHR (hrs)", "Time Outside Scheduled (hrs)",
                         "In Basket Time (hrs)")])

    # LMS completions -> training_csv
    d = os.path.join(ex, "lms-completions")
    courses = value_map(os.path.join(d, "courses.csv"))
    with open(os.path.join(out, "training.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["staff_id", "course", "completed_date"])
        for n, r in rows(os.path.join(d, "completions.csv")):
            if r["Course Title"] not in courses:
                rejects.append(f"[source lms] line {n}: invalid_value course")
                continue
            w.writerow([r["Learner ID"], courses[r["Course Title"]],
                        date(r["Completed On"], "%d-%b-%Y %H:%M")])

    with open(os.path.join(out, "rejects.txt"), "w") as f:
        f.write("".join(x + "\n" for x in sorted(rejects)))


if __name__ == "__main__":
    main()
