#!/usr/bin/env bash
# End-to-end benchmark: a GPT-2-small-shaped decoder (12 layers, hidden 768,
# 12 heads, FFN 3072, vocabulary 50257, random weights) exported by torch,
# compiled by mpc-compile and run by mpc-run --local (dealer, P0, P1 as
# processes on this machine), for 32 prompt tokens with logits at every
# position. Prints compile time, online bytes/rounds/seconds per op kind and
# per phase, dealer material, and the logit error against torch.
#
#   bench/e2e/run.sh [build-dir] [work-dir] [seq]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$here/build}"
work="${2:-/tmp/umbra-bench-e2e}"
seq="${3:-32}"
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$work"

if [ ! -f "$work/gpt2-small-$seq.onnx" ]; then
  $py -m umbra_models.export --preset gpt2-small --seq "$seq" \
    --out "$work/gpt2-small-$seq.onnx" --dump-dir "$work/torch-$seq"
fi

echo "== compile"
/usr/bin/time -f "mpc-compile: %e s wall, %M KiB peak RSS" \
  "$build/bin/mpc-compile" "$work/gpt2-small-$seq.onnx" \
  -o "$work/gpt2-small-$seq.umbra" --leakage-report
ls -l "$work/gpt2-small-$seq.umbra"

echo "== secure inference (mpc-run --local)"
/usr/bin/time -f "mpc-run --local: %e s wall, %M KiB peak RSS (largest role)" \
  "$build/runtime/mpc-run" "$work/gpt2-small-$seq.umbra" --local \
  -i "input_ids=$work/torch-$seq/input_ids.npy" -o "$work/mpc-$seq" \
  --stats "$work/stats-$seq.json" --progress

$py "$here/scripts/demo_report.py" --dump-dir "$work/torch-$seq" \
  --mpc-logits "$work/mpc-$seq/logits.npy" --stats "$work/stats-$seq.p0.json" \
  --dealer-stats "$work/stats-$seq.dealer.json" --brief
