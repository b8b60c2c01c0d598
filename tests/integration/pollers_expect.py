#!/usr/bin/env python3
"""pollers_expect.py - what the aggregator must hold after the pollers test, worked out from
the vendor server's data (tests/tools/vendor_api.py) and the test's timeline alone, and the
aggregator's store read back with ldb. Standard library only.

  pollers_expect.py expect --data data.json --timeline timeline.txt --org-key KEYFILE
                           --account-map map.csv
      timeline lines: "poll github DAY", "poll m365 DAY" (a poll that completed) or "wipe"
      (state_dir deleted). Prints the expected records, one per line, sorted:
        usage STAFFHEX TOOL DAY
        licence STAFFHEX TOOL ASSIGNED REMOVED|-
  pollers_expect.py store --usage usage.ldb --licence licence.ldb
      the same lines from `ldb scan --hex` dumps of the usage and licence column families.

The rules are SPEC section 7's, written down here independently of the agent's C code: a
licence per (user, tool) seen licensed, assigned on the seat's created_at day (GitHub) or
the first day seen (Microsoft 365), shipped again with removed = the last day seen when the
user drops out; a usage event per (user, app) whose last-activity day is later than the one
seen before, keyed by (source, account, app, day) and stored once; a lost state_dir forgets
what was seen.
"""
import argparse
import hashlib
import hmac
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
import vendor_api  # noqa: E402  (the server's views of its data: what a poll sees)

APPS = {  # Graph member -> the app in the tool name (docs/sources.md)
    "microsoftTeamsCopilotLastActivityDate": "teams",
    "wordCopilotLastActivityDate": "word",
    "excelCopilotLastActivityDate": "excel",
    "powerPointCopilotLastActivityDate": "powerpoint",
    "outlookCopilotLastActivityDate": "outlook",
    "oneNoteCopilotLastActivityDate": "onenote",
    "loopCopilotLastActivityDate": "loop",
    "copilotChatLastActivityDate": "chat",
}


def staff_key(key, staff_id):
    return hmac.new(key, staff_id.strip().lower().encode(), hashlib.sha256).hexdigest()[:32]


def expect(a):
    data = json.load(open(a.data))
    key = open(a.org_key, "rb").read()
    if key.endswith(b"\n"):
        key = key[:-1]
    amap = {}
    for i, line in enumerate(open(a.account_map).read().splitlines()):
        if i == 0 or not line.strip():
            continue
        acc, sid = [x.strip() for x in line.split(",")]
        amap[acc.lower()] = sid
    state = {"github": {}, "m365": {}}
    licences = {}  # (staff, tool, assigned) -> removed
    usage = {}  # (api, account, app, day) -> (staff, tool, day): the first one stored stays

    def poll(api, d):
        st = state[api]
        seen = {}
        if api == "github":
            for s in vendor_api.github_view(data, d):
                acc = s["assignee"]["login"].strip().lower()
                la = s["last_activity_at"]
                seen[acc] = (amap.get(acc), s["created_at"][:10], {"": la[:10]} if la else {})
            tool, today = "github-copilot", d
        else:
            today = d
            for r in vendor_api.m365_view(data, d):
                acc = r["userPrincipalName"].strip().lower()
                apps = {APPS[m]: r[m] for m in APPS if r.get(m)}
                today = max(today, r["reportRefreshDate"])
                seen[acc] = (acc.split("@")[0], None, apps)
            tool = "m365-copilot"
        for acc in list(st):
            if acc not in seen:
                e = st.pop(acc)
                licences[(e["staff"], tool, e["assigned"])] = e["last_seen"]
        for acc, (sid, created, apps) in seen.items():
            e = st.get(acc)
            if sid is None:
                if e:
                    e["last_seen"] = today
                continue
            sk = staff_key(key, sid)
            if e and created and created != e["assigned"]:
                licences[(e["staff"], tool, e["assigned"])] = e["last_seen"]
                e = None
            if not e:
                e = st[acc] = {"staff": sk, "assigned": created or today, "days": {}}
                licences[(sk, tool, e["assigned"])] = None
            e["last_seen"] = today
            for app, day in apps.items():
                if day > e["days"].get(app, ""):
                    e["days"][app] = day
                    t = tool + "." + app if app else tool
                    usage.setdefault((api, acc, app, day), (sk, t, day))

    for line in open(a.timeline).read().splitlines():
        w = line.split()
        if not w:
            continue
        if w[0] == "wipe":
            state = {"github": {}, "m365": {}}
        else:
            poll(w[1], w[2])
    out = ["usage %s %s %s" % v for v in usage.values()]
    out += ["licence %s %s %s %s" % (s, t, d, r or "-") for (s, t, d), r in licences.items()]
    print("\n".join(sorted(out)))


def varint(b, i):
    v = s = 0
    while True:
        c = b[i]
        i += 1
        v |= (c & 0x7F) << s
        s += 7
        if c < 0x80:
            return v, i


def fields(b):
    i, out = 0, {}
    while i < len(b):
        tag, i = varint(b, i)
        f, wt = tag >> 3, tag & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i: i + n], i + n
        elif wt == 1:
            v, i = b[i: i + 8], i + 8
        elif wt == 5:
            v, i = b[i: i + 4], i + 4
        else:
            raise ValueError("wire type %d" % wt)
        out[f] = v
    return out


def zz(v):
    return (v >> 1) ^ -(v & 1)


def iso(day):
    import datetime as dt
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def scan(path):
    for line in open(path):
        if " : " not in line or not line.startswith("0x"):
            continue
        k, v = line.strip().split(" : ", 1)
        yield bytes.fromhex(k[2:]), bytes.fromhex(v[2:])


def store(a):
    out = []
    for _, v in scan(a.usage):
        f = fields(v)
        out.append("usage %s %s %s" % (f[1].hex(), f[4].decode(), iso(zz(f[3]))))
    for _, v in scan(a.licence):
        f = fields(v)  # the writer prefix is field 2047, skipped
        out.append("licence %s %s %s %s" % (f[1].hex(), f[2].decode(), iso(zz(f[3])),
                                            iso(zz(f[4])) if 4 in f else "-"))
    print("\n".join(sorted(out)))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("expect")
    e.add_argument("--data", required=True)
    e.add_argument("--timeline", required=True)
    e.add_argument("--org-key", required=True)
    e.add_argument("--account-map", required=True)
    s = sub.add_parser("store")
    s.add_argument("--usage", required=True)
    s.add_argument("--licence", required=True)
    a = p.parse_args()
    expect(a) if a.cmd == "expect" else store(a)


if __name__ == "__main__":
    main()
