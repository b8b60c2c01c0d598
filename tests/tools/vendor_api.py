#!/usr/bin/env python3
"""vendor_api.py - a local stand-in for the vendors' admin APIs the agent polls.

Python 3 standard library only. Two subcommands:

  vendor_api.py gen --seed S --start YYYY-MM-DD --days N [--github-seats G] [--m365-users M]
                    --out data.json
      writes a simulated month: GitHub Copilot seats (logins, seat spans, created_at,
      activity instants) and Microsoft 365 Copilot users (UPNs, licence spans, per-app
      activity days).

  vendor_api.py serve --data data.json --port P --client-id ID --client-secret-file F
                      --github-token-file F --org ORG [--page-size K] [--expires-in S]
                      [--issued-log FILE]
      serves, on 127.0.0.1:
        POST /TENANT/oauth2/v2.0/token          OAuth 2.0 client credentials (form body)
        GET  /graph/v1.0/copilot/reports/getMicrosoft365CopilotUsageUserDetail(period='D7')
             ?$format=application/json[&$skiptoken=N]   pages with @odata.nextLink
        GET  /github/orgs/ORG/copilot/billing/seats?per_page=K&page=N   pages with Link
      as the vendors document them (bearer tokens, Accept and X-GitHub-Api-Version checked,
      x-ratelimit-* headers, Date = the simulated day). A listing keeps the day its first
      page was served on (the next links carry it), so a day switch never mixes two days.
      Control (test only): POST /_control with JSON
        {"today": "YYYY-MM-DD"}                     the simulated day
        {"faults": [{"api": "github"|"m365", "page": N, "status": 429, "retry_after": 1,
                     "times": 1}, {"api": "m365", "page": 2, "kind": "malformed",
                     "times": -1}, {"api": "m365", "page": 2, "kind": "revoke"}, ...]}
                    status: answer that status; kind malformed: a page that is not JSON;
                    kind huge: a body of 20 MiB; kind revoke: every token issued so far
                    expires before this page is served (a 401, once per token);
                    kind offsite: the next link points at another host.
                    times: how often (-1: always); faults replace the earlier ones
        {"github_token": "..."}                    the token GitHub accepts from now on
      GET /_control/stats: {"token_requests": n, "pages": {api: n}, "complete": {api: {day:
      n}}, "statuses": {...}} (complete: listings whose last page was served, by day).
      Every token issued is appended to --issued-log, so a test can look for it.
"""
import argparse
import datetime as dt
import json
import random
import secrets
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

M365_APPS = [
    "microsoftTeamsCopilotLastActivityDate",
    "wordCopilotLastActivityDate",
    "excelCopilotLastActivityDate",
    "powerPointCopilotLastActivityDate",
    "outlookCopilotLastActivityDate",
    "oneNoteCopilotLastActivityDate",
    "loopCopilotLastActivityDate",
    "copilotChatLastActivityDate",
]


def day(s):
    return dt.date.fromisoformat(s)


def gen(a):
    rnd = random.Random(a.seed)
    start = day(a.start)
    days = [start + dt.timedelta(d) for d in range(a.days)]
    end = days[-1]

    def spans():
        # One seat from before the month or from a day in it; some end, some come back.
        out = []
        s = start - dt.timedelta(rnd.randint(1, 200)) if rnd.random() < 0.6 else \
            rnd.choice(days[: a.days // 2])
        e = None
        if rnd.random() < 0.3:
            e = s + dt.timedelta(rnd.randint(2, 12))
            if e < start:
                e = start + dt.timedelta(rnd.randint(0, 5))
        out.append([s.isoformat(), e.isoformat() if e else None])
        if e and rnd.random() < 0.5 and e + dt.timedelta(4) < end:
            s2 = e + dt.timedelta(rnd.randint(2, 4))
            out.append([s2.isoformat(), None])
        return out

    gh = []
    for i in range(a.github_seats):
        login = "Octo-%s-%03d" % (rnd.choice(["Ana", "Bo", "Cy", "Di", "Ed"]), i)
        sp = spans()
        seats = []
        for s, e in sp:
            h, m = rnd.randint(6, 20), rnd.randint(0, 59)
            seats.append({"start": s, "end": e,
                          "created_at": "%sT%02d:%02d:00%s" % (s, h, m, rnd.choice(["Z", "-05:00", "+02:00"]))})
        active = sorted({d.isoformat() for d in days if rnd.random() < 0.25})
        acts = []
        for d in active:
            h, m = rnd.randint(0, 23), rnd.randint(0, 59)
            off = rnd.choice(["Z", "+01:00", "-07:00"])
            acts.append(["%sT%02d:%02d:%02d%s" % (d, h, m, rnd.randint(0, 59), off),
                         rnd.choice(["vscode/1.95.0/copilot/1.250.0", "JetBrains-IU/243.1"])])
        gh.append({"login": login, "seats": seats, "activity": acts})
    m365 = []
    for i in range(a.m365_users):
        upn = "%s.n%04d@Hospital.Example" % (rnd.choice(["ana", "bo", "cy", "di"]), i)
        sp = spans()
        apps = {}
        for f in M365_APPS:
            if rnd.random() < 0.5:
                apps[f] = sorted({d.isoformat() for d in days if rnd.random() < 0.15})
        m365.append({"upn": upn, "spans": [{"start": s, "end": e} for s, e in sp], "apps": apps})
    json.dump({"start": start.isoformat(), "days": a.days, "github": gh, "m365": m365},
              open(a.out, "w"), indent=1)


def in_span(d, s, e):
    return s <= d and (e is None or d <= e)


_views = {}


def cached(fn):
    """A view is computed once per (data, day): a page of a 50,000-seat listing is a slice."""
    def view(data, d):
        k = (fn.__name__, id(data), d)
        if k not in _views:
            if len(_views) > 8:
                _views.clear()
            _views[k] = fn(data, d)
        return _views[k]
    return view


@cached
def github_view(data, d):
    """The seats listed on day d (ISO), in a stable order."""
    out = []
    for u in data["github"]:
        seat = next((s for s in u["seats"] if in_span(d, s["start"], s["end"])), None)
        if not seat:
            continue
        last = [x for x in u["activity"] if x[0][:10] <= d]
        la = last[-1] if last else None
        out.append({
            "created_at": seat["created_at"],
            "updated_at": seat["created_at"],
            "pending_cancellation_date": seat["end"] if seat["end"] else None,
            "last_activity_at": la[0] if la else None,
            "last_activity_editor": la[1] if la else None,
            "plan_type": "business",
            "assignee": {"login": u["login"], "id": 1000 + len(out), "type": "User",
                         "site_admin": False},
            "assigning_team": None,
        })
    return out


@cached
def m365_view(data, d):
    rows = []
    for u in data["m365"]:
        if not any(in_span(d, s["start"], s["end"]) for s in u["spans"]):
            continue
        row = {"reportRefreshDate": d, "userPrincipalName": u["upn"],
               "displayName": "Display " + u["upn"].split("@")[0]}
        overall = ""
        for i, f in enumerate(M365_APPS):
            seen = [x for x in u["apps"].get(f, []) if x <= d]
            v = seen[-1] if seen else ("" if i % 2 else None)
            row[f] = v
            if v and v > overall:
                overall = v
        row["lastActivityDate"] = overall
        row["copilotActivityUserDetailsByPeriod"] = [{"reportPeriod": 7}]
        rows.append(row)
    return rows


class State:
    def __init__(self, a, data):
        self.lock = threading.RLock()
        self.data = data
        self.today = data["start"]
        self.client_id = a.client_id
        self.secret = open(a.client_secret_file).read().split("\n")[0].strip()
        self.gh_token = open(a.github_token_file).read().split("\n")[0].strip()
        self.org = a.org
        self.page_size = a.page_size
        self.expires_in = a.expires_in
        self.issued_log = a.issued_log
        self.tokens = {}  # token -> expiry (monotonic)
        self.faults = []
        self.stats = {"token_requests": 0, "pages": {"github": 0, "m365": 0},
                      "complete": {"github": {}, "m365": {}}, "statuses": {}}

    def fault(self, api, page):
        for f in self.faults:
            if f["api"] == api and f.get("page", 1) == page and f.get("times", 1) != 0:
                if f.get("times", 1) > 0:
                    f["times"] -= 1
                return f
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vendor-api/1"

    def log_message(self, fmt, *args):
        pass

    def date_time_string(self, timestamp=None):
        st = self.server.st
        d = day(st.today)
        return "%s, %02d %s %d 12:00:00 GMT" % (
            ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][d.weekday()], d.day,
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec"][d.month - 1], d.year)

    def reply(self, status, body, ctype="application/json", headers=()):
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        st = self.server.st
        with st.lock:
            st.stats["statuses"][str(status)] = st.stats["statuses"].get(str(status), 0) + 1
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def do_POST(self):
        st = self.server.st
        path = urllib.parse.urlsplit(self.path).path
        raw = self.body()
        if path == "/_control":
            c = json.loads(raw or b"{}")
            with st.lock:
                if "today" in c:
                    st.today = c["today"]
                if "faults" in c:
                    st.faults = c["faults"]
                if "github_token" in c:
                    st.gh_token = c["github_token"]
            return self.reply(200, {"ok": True})
        if path.endswith("/oauth2/v2.0/token"):
            f = urllib.parse.parse_qs(raw.decode(), keep_blank_values=True)
            get = lambda k: (f.get(k) or [""])[0]
            with st.lock:
                st.stats["token_requests"] += 1
            if get("grant_type") != "client_credentials" or not get("scope"):
                return self.reply(400, {"error": "invalid_request"})
            if get("client_id") != st.client_id or get("client_secret") != st.secret:
                return self.reply(401, {"error": "invalid_client"})
            tok = "eyJ0" + secrets.token_hex(24)
            with st.lock:
                st.tokens[tok] = time.monotonic() + st.expires_in
                if st.issued_log:
                    with open(st.issued_log, "a") as log:
                        log.write(tok + "\n")
            return self.reply(200, {"token_type": "Bearer", "expires_in": st.expires_in,
                                    "ext_expires_in": st.expires_in, "access_token": tok})
        return self.reply(404, {"error": "not found"})

    def page_fault(self, api, page):
        st = self.server.st
        with st.lock:
            f = st.fault(api, page)
        if not f:
            return False
        if f.get("kind") == "revoke":
            with st.lock:
                for t in st.tokens:
                    st.tokens[t] = 0
            return False
        if f.get("kind") == "malformed":
            self.reply(200, '{"value": [{"userPrincipalName": "x"}, ', "application/json")
            return True
        if f.get("kind") == "huge":
            self.reply(200, "[" + " " * (20 << 20) + "]")
            return True
        if f.get("kind") == "offsite":
            return "offsite"
        hdr = [("Retry-After", str(f["retry_after"]))] if "retry_after" in f else []
        self.reply(f["status"], {"message": "fault"}, headers=hdr)
        return True

    def do_GET(self):
        st = self.server.st
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        host = "http://127.0.0.1:%d" % self.server.server_address[1]
        if u.path == "/_control/stats":
            with st.lock:
                snapshot = json.dumps(st.stats)
            return self.reply(200, snapshot)
        if u.path.startswith("/graph/v1.0/copilot/reports/getMicrosoft365CopilotUsageUserDetail("):
            auth = self.headers.get("Authorization", "")
            tok = auth[7:] if auth.startswith("Bearer ") else ""
            skip = int((q.get("$skiptoken") or ["0"])[0])
            page = skip // st.page_size + 1
            fault = self.page_fault("m365", page)
            if fault is True:
                return
            with st.lock:
                ok = st.tokens.get(tok, 0) > time.monotonic()
            if not ok:
                return self.reply(401, {"error": {"code": "InvalidAuthenticationToken",
                                                  "message": "Access token has expired."}})
            if (q.get("$format") or [""])[0] != "application/json":
                return self.reply(400, {"error": {"code": "BadRequest"}})
            snap = (q.get("snap") or [st.today])[0]
            rows = m365_view(st.data, snap)
            body = {"@odata.context": host + "/graph/v1.0/$metadata",
                    "value": rows[skip: skip + st.page_size]}
            if skip + st.page_size < len(rows):
                nxt = host if fault != "offsite" else "http://127.0.0.2:%d" % self.server.server_address[1]
                body["@odata.nextLink"] = nxt + u.path + "?" + urllib.parse.urlencode(
                    {"$format": "application/json", "$skiptoken": skip + st.page_size, "snap": snap})
            with st.lock:
                st.stats["pages"]["m365"] += 1
                if "@odata.nextLink" not in body:
                    c = st.stats["complete"]["m365"]
                    c[snap] = c.get(snap, 0) + 1
            return self.reply(200, body)
        prefix = "/github/orgs/%s/copilot/billing/seats" % st.org
        if u.path == prefix:
            page = int((q.get("page") or ["1"])[0])
            fault = self.page_fault("github", page)
            if fault is True:
                return
            with st.lock:
                good = self.headers.get("Authorization", "") == "Bearer " + st.gh_token
            if not good:
                return self.reply(401, {"message": "Bad credentials"})
            if self.headers.get("Accept") != "application/vnd.github+json" or \
                    self.headers.get("X-GitHub-Api-Version") != "2022-11-28":
                return self.reply(400, {"message": "unsupported Accept or API version"})
            per = min(int((q.get("per_page") or ["50"])[0]), 100, st.page_size)
            snap = (q.get("snap") or [st.today])[0]
            seats = github_view(st.data, snap)
            last = max(1, (len(seats) + per - 1) // per)
            chunk = seats[(page - 1) * per: page * per]
            links = []
            base = host if fault != "offsite" else "http://127.0.0.2:%d" % self.server.server_address[1]
            mk = lambda p: '<%s%s?%s>' % (base, u.path, urllib.parse.urlencode(
                {"per_page": per, "page": p, "snap": snap}))
            if page < last:
                links.append(mk(page + 1) + '; rel="next"')
                links.append(mk(last) + '; rel="last"')
            if page > 1:
                links.insert(0, mk(1) + '; rel="first"')
                links.insert(0, mk(page - 1) + '; rel="prev"')
            hdr = [("x-ratelimit-limit", "5000"), ("x-ratelimit-remaining", "4999"),
                   ("x-ratelimit-reset", str(int(time.time()) + 3600)),
                   ("x-ratelimit-used", "1"), ("x-github-api-version-selected", "2022-11-28")]
            if links:
                hdr.append(("Link", ", ".join(links)))
            with st.lock:
                st.stats["pages"]["github"] += 1
                if page >= last:
                    c = st.stats["complete"]["github"]
                    c[snap] = c.get(snap, 0) + 1
            return self.reply(200, {"total_seats": len(seats), "seats": chunk}, headers=hdr)
        return self.reply(404, {"message": "Not Found"})


def serve(a):
    data = json.load(open(a.data))
    srv = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    srv.st = State(a, data)
    srv.daemon_threads = True
    srv.serve_forever()


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gen")
    g.add_argument("--seed", type=int, default=1)
    g.add_argument("--start", required=True)
    g.add_argument("--days", type=int, default=30)
    g.add_argument("--github-seats", type=int, default=40)
    g.add_argument("--m365-users", type=int, default=40)
    g.add_argument("--out", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--data", required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--client-id", required=True)
    s.add_argument("--client-secret-file", required=True)
    s.add_argument("--github-token-file", required=True)
    s.add_argument("--org", required=True)
    s.add_argument("--page-size", type=int, default=10)
    s.add_argument("--expires-in", type=int, default=3599)
    s.add_argument("--issued-log")
    a = p.parse_args()
    gen(a) if a.cmd == "gen" else serve(a)


if __name__ == "__main__":
    sys.exit(main())
