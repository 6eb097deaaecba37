"""Compares the `total` line of a cost report with what mpc-run measured.

Usage: check_cost.py REPORT STATS_PREFIX BACKEND
STATS_PREFIX.p0.json / .p1.json are mpc-run --stats files of one --local run
with --comparison BACKEND; the report's online bytes (P0 + P1 sent) and
rounds per inference must equal the measurement exactly.
"""
import json
import sys

report, prefix, backend = sys.argv[1:4]
total = [l.split() for l in open(report) if l.split()[:1] == ["total"]][0]
col = {"dcf": 2, "bits": 4}[backend]
want_bytes, want_rounds = int(total[col]), int(total[col + 1])
p0 = json.load(open(prefix + ".p0.json"))["phases"]["inference"]
p1 = json.load(open(prefix + ".p1.json"))["phases"]["inference"]
got_bytes = p0["bytes_sent"] + p1["bytes_sent"]
assert p0["rounds"] == p1["rounds"], (p0, p1)
print("%s predicted %d B %d rounds, measured %d B %d rounds" %
      (backend, want_bytes, want_rounds, got_bytes, p0["rounds"]))
assert (want_bytes, want_rounds) == (got_bytes, p0["rounds"])
