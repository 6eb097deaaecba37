#!/usr/bin/env bash
# End-to-end benchmark: a GPT-2-small-shaped decoder (12 layers, hidden 768,
# 12 heads, FFN 3072, vocabulary 50257, random weights) exported by torch,
# compiled by mpc-compile and run by mpc-run --local (dealer, P0, P1 as
# processes on this machine) with both comparison protocols, for `seq`
# prompt tokens: logits at every position, and separately the next token
# only (--next-token export: final norm and LM head on the last row).
# Prints compile time, online bytes/rounds/seconds per op kind and per
# phase, dealer material, and the logit error against torch.
#
#   bench/e2e/run.sh [build-dir] [work-dir] [seq]
#
# UMBRA_BENCH_TLS=1 runs every configuration a second time with mutual TLS
# 1.3 on all three links (certificates from scripts/make-certs.sh in
# work-dir/certs) and prints each role's bytes on the wire.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$here/build}"
work="${2:-/tmp/umbra-bench-e2e}"
seq="${3:-32}"
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$work"
modes=plain
if [ "${UMBRA_BENCH_TLS:-0}" = 1 ]; then
  modes="plain tls"
  [ -f "$work/certs/ca.pem" ] || "$here/scripts/make-certs.sh" "$work/certs"
fi

for variant in all next; do
  name="gpt2-small-$seq-$variant"
  flag=""; [ "$variant" = next ] && flag="--next-token"
  if [ ! -f "$work/$name.onnx" ]; then
    $py -m umbra_models.export --preset gpt2-small --seq "$seq" $flag \
      --out "$work/$name.onnx" --dump-dir "$work/torch-$name"
  fi

  echo "== compile ($variant)"
  /usr/bin/time -f "mpc-compile: %e s wall, %M KiB peak RSS" \
    "$build/bin/mpc-compile" "$work/$name.onnx" -o "$work/$name.umbra" \
    --leakage-report
  ls -l "$work/$name.umbra"

  for cmp in bits dcf; do
    for mode in $modes; do
      tag="$name-$cmp"; tls=()
      [ "$mode" = tls ] && { tag="$tag-tls"; tls=(--tls-dir "$work/certs"); }
      echo "== secure inference ($variant logits, --comparison $cmp, $mode)"
      /usr/bin/time -f "mpc-run --local: %e s wall, %M KiB peak RSS (largest role)" \
        "$build/runtime/mpc-run" "$work/$name.umbra" --local --comparison "$cmp" \
        -i "input_ids=$work/torch-$name/input_ids.npy" -o "$work/mpc-$tag" \
        --stats "$work/stats-$tag.json" "${tls[@]}" 2>"$work/stderr-$tag.log" ||
        { cat "$work/stderr-$tag.log" >&2; exit 1; }
      grep -v '\] link to\|\] traffic with' "$work/stderr-$tag.log" >&2 || true
      # Bytes on the wire (TLS records included) per role and link.
      grep '\] traffic with' "$work/stderr-$tag.log" | sed 's/^/  /' || true
      $py "$here/scripts/demo_report.py" --dump-dir "$work/torch-$name" \
        --mpc-logits "$work/mpc-$tag/logits.npy" \
        --stats "$work/stats-$tag.p0.json" \
        --dealer-stats "$work/stats-$tag.dealer.json" --brief
    done
  done
done
