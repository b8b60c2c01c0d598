#!/usr/bin/env python3
"""The naive before/after load-off figure, from a cadre-gen site folder, for loadoff.sh.

usage: loadoff_naive.py SITE_DIR AS_OF

For each adopter the load-off estimator would take in the 365d window ending on AS_OF
(first matched usage day a of any tool, used on >= 4 distinct days of [a, a + 27], one
department and role over [a - 56, a + 83], post period ending in the window), the change
of their own wow8 from pre [a - 56, a - 1] to post [a + 28, a + 83], with no comparison
group. Prints "group<TAB>mean change (s per 8 h)<TAB>adopters" for org and each department
of day a. Written independently of Cadre's C code, from the raw exports.
"""
import csv, json, sys, datetime, collections
root, as_of, P, G, M = sys.argv[1], sys.argv[2], 56, 28, 4
def day(s): return datetime.date.fromisoformat(s.strip()[:10]).toordinal()
def rows(path):
    with open(path, newline='', encoding='utf-8-sig') as f:
        r = csv.reader(f)
        head = [h.strip().lower() for h in next(r)]
        for rec in r:
            if not rec or all(not x.strip() for x in rec): continue
            yield dict(zip(head, (x.strip() for x in rec)))
eps = {}
for r in rows(root + '/staffing.csv'):
    sid = r['staff_id'].lower()
    eps[(sid, r['start_date'])] = (day(r['start_date']), day(r['end_date']) if r.get('end_date') else 10**9, r['department'], r['role'])
by = collections.defaultdict(list)
for (sid, _), e in eps.items(): by[sid].append(e)
for v in by.values(): v.sort()
def ep_on(sid, d):
    best = None
    for e in by.get(sid, ()):
        if e[0] <= d <= e[1]: best = e   # sorted by start: the latest start wins
    return best
use = collections.defaultdict(set)
with open(root + '/usage.jsonl', encoding='utf-8') as f:
    for line in f:
        u = json.loads(line)
        sid = u['user'].strip().lower()
        d = day(u['ts'])
        if ep_on(sid, d): use[sid].add(d)
ehr = {}
for r in rows(root + '/ehr.csv'):
    ehr[(r['staff_id'].lower(), day(r['date']))] = (float(r['scheduled_patient_hours']), float(r['outside_scheduled_minutes']))
ehr_by = collections.defaultdict(list)
for (sid, d), v in ehr.items(): ehr_by[sid].append((d, v))
def y(sid, a, b):
    s = o = 0.0
    for d, (sh, om) in ehr_by.get(sid, ()):
        if a <= d <= b: s += sh; o += om
    return o * 60 / (s / 8) if s > 0 else None
e_day = day(as_of); s_day = e_day - 364
d_of = collections.defaultdict(list)
for sid, days in use.items():
    a = min(days)
    if sum(1 for d in days if a <= d <= a + 27) < M: continue
    if not (s_day <= a + G + P - 1 <= e_day): continue
    e0 = ep_on(sid, a)
    if any((ep_on(sid, d) or (0, 0, None, None))[2:] != e0[2:] for d in range(a - P, a + G + P)): continue
    pre, post = y(sid, a - P, a - 1), y(sid, a + G, a + G + P - 1)
    if pre is None or post is None: continue
    d_of['org'].append(post - pre); d_of[e0[2]].append(post - pre)
for k, v in sorted(d_of.items()):
    print('%s\t%.3f\t%d' % (k, sum(v) / len(v), len(v)))
