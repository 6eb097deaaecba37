#!/usr/bin/env python3
"""Markdown table from a bench-gemm JSON file (medians of the repetitions).

  bench-gemm --benchmark_repetitions=3 --benchmark_report_aggregates_only \
      --benchmark_out=gemm.json --benchmark_out_format=json
  python3 bench/gemm/table.py gemm.json
"""
import json
import re
import sys

rows = {}
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    m = re.match(r"BM_(\w+)/M:(\d+)/K:(\d+)/N:(\d+)/thr:(\d+)(?:/avx512:(\d))?",
                 b["name"])
    if not m:
        continue
    kind, M, K, N, thr, isa = m.groups()
    key = (int(thr), int(M), int(K), int(N))
    r = rows.setdefault(key, {})
    if kind == "Ring":
        tag = "512" if isa == "1" else "avx2"
        r["ring_" + tag] = b["real_time"]  # manual time, ms
        r["ratio_" + tag] = b["ring_over_f64"]
        r["gf_" + tag] = b["GFLOPS"]
        r["pratio_" + tag] = b.get("packed_over_f64")
        r["cratio_" + tag] = b.get("ring_over_f64_cpu")
        r["cpratio_" + tag] = b.get("packed_over_f64_cpu")
    elif kind == "EigenF64":
        r["f64"] = b["real_time"]
        r["gf_f64"] = b["GFLOPS"] / 1e9 if b["GFLOPS"] > 1e6 else b["GFLOPS"]
    elif kind == "EigenI64":
        r["i64"] = b["real_time"]


def f(x, fmt="{:.2f}"):
    return "—" if x is None else fmt.format(x)


print("| thr | shape M×K·K×N | Eigen f64 ms (GF/s) | Eigen i64 ms (×f64) "
      "| ring AVX2 ms (GF/s) | **AVX2 / f64** wall (cpu) "
      "| AVX2 prepacked / f64 wall (cpu) "
      "| ring AVX-512 ms (GF/s) | **AVX-512 / f64** wall (cpu) "
      "| AVX-512 prepacked / f64 wall (cpu) |")
print("|---|---|---|---|---|---|---|---|---|---|")
for key in sorted(rows, key=lambda k: (k[0], -k[1] * k[2] * k[3] if k[1] > 1 else 0)):
    thr, M, K, N = key
    r = rows[key]
    i64x = r["i64"] / r["f64"] if "i64" in r and "f64" in r else None
    print(f"| {thr} | {M}×{K}·{K}×{N} "
          f"| {f(r.get('f64'))} ({f(r.get('gf_f64'), '{:.1f}')}) "
          f"| {f(r.get('i64'))} ({f(i64x, '{:.1f}')}×) "
          f"| {f(r.get('ring_avx2'))} ({f(r.get('gf_avx2'), '{:.1f}')}) "
          f"| **{f(r.get('ratio_avx2'))}** ({f(r.get('cratio_avx2'))}) "
          f"| {f(r.get('pratio_avx2'))} ({f(r.get('cpratio_avx2'))}) "
          f"| {f(r.get('ring_512'))} ({f(r.get('gf_512'), '{:.1f}')}) "
          f"| **{f(r.get('ratio_512'))}** ({f(r.get('cratio_512'))}) "
          f"| {f(r.get('pratio_512'))} ({f(r.get('cpratio_512'))}) |")
