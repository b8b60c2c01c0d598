#!/usr/bin/env python3
"""Facts about cadre-gen's licences, from the records the agent accepted, for gen_licences.sh.

usage: gen_licences_check.py RECORDS.jsonl

RECORDS is `cadre-agent --dry-run` output over every site's usage, staffing and licences
(one org key, so a person has one pseudonym in every site). Prints "name value" lines:

  usage                  valid usage records
  usage_uncovered        of them, those whose day no licence of their tool, or of a parent
                         tool (licence t covers t and t.<sub>), covers for that staff key
  licences               licence records (distinct keys)
  licences_used          licences with a usage record of their tool (or a sub-tool) by
                         their staff key on one of their days
  licences_idle          the others
  licences_removed       licences with a removed_date
  removed_after_use      removed licences that were used
  removed_unused         removed licences that were not
  holders_never_used     (staff, tool) pairs with a licence and no usage of the tool at all
  seat_before_first_use  (staff, tool) pairs with usage whose earliest licence was assigned
                         on or before the first usage day
  users                  (staff, tool) pairs with usage
  unmatched              licences whose staff key has no staffing episode overlapping the
                         licence's days (SPEC section 7), from the staffing records
  keys.<source>          distinct licence keys read by the source <source>

Written from SPEC sections 2 and 7, independently of the generator's C code.
"""
import bisect
import collections
import datetime
import json
import sys

OPEN = datetime.date.max.toordinal()


def day(s):
    return datetime.date.fromisoformat(s).toordinal()


def parents(tool):
    """The tool and every tool whose licence covers it: m365-copilot.teams -> itself and
    m365-copilot."""
    out = [tool]
    for i, c in enumerate(tool):
        if c == '.':
            out.append(tool[:i])
    return out


def main():
    usage = []                                # (staff, tool, day)
    lic = collections.defaultdict(list)       # (staff, tool) -> [(assigned, removed)]
    eps = collections.defaultdict(list)       # staff -> [(start, end)]
    keys = collections.defaultdict(set)
    with open(sys.argv[1], encoding='utf-8') as f:
        for line in f:
            r = json.loads(line)
            t = r['type']
            if t == 'usage':
                usage.append((r['staff'], r['tool'], day(r['day'])))
            elif t == 'licence':
                rem = day(r['removed_date']) if 'removed_date' in r else OPEN
                lic[(r['staff'], r['tool'])].append((day(r['assigned_date']), rem))
                keys[r['source']].add(r['key'])
            elif t == 'staffing':
                end = day(r['end_date']) if 'end_date' in r else OPEN
                eps[r['staff']].append((day(r['start_date']), end))

    # Usage days per (staff, tool), and per (staff, licence tool) for every covering tool.
    days_of = collections.defaultdict(list)
    under = collections.defaultdict(list)
    uncovered = 0
    for staff, tool, d in usage:
        days_of[(staff, tool)].append(d)
        covered = False
        for p in parents(tool):
            under[(staff, p)].append(d)
            covered = covered or any(a <= d <= b for a, b in lic.get((staff, p), ()))
        uncovered += not covered
    for v in under.values():
        v.sort()

    n = used = removed = removed_used = unmatched = 0
    for (staff, tool), seats in lic.items():
        u = under.get((staff, tool), [])
        for a, b in seats:
            n += 1
            i = bisect.bisect_left(u, a)
            was_used = i < len(u) and u[i] <= b
            used += was_used
            if b != OPEN:
                removed += 1
                removed_used += was_used
            unmatched += not any(s <= b and e >= a for s, e in eps.get(staff, ()))
    never = sum(1 for k in lic if not under.get(k))
    users = before = 0
    for (staff, tool), ds in days_of.items():
        users += 1
        first = min(ds)
        seats = [a for p in parents(tool) for a, _ in lic.get((staff, p), ())]
        before += bool(seats) and min(seats) <= first

    facts = [
        ('usage', len(usage)),
        ('usage_uncovered', uncovered),
        ('licences', n),
        ('licences_used', used),
        ('licences_idle', n - used),
        ('licences_removed', removed),
        ('removed_after_use', removed_used),
        ('removed_unused', removed - removed_used),
        ('holders_never_used', never),
        ('seat_before_first_use', before),
        ('users', users),
        ('unmatched', unmatched),
    ]
    facts += [('keys.' + s, len(k)) for s, k in sorted(keys.items())]
    for name, v in facts:
        print(name, v)


if __name__ == '__main__':
    main()
