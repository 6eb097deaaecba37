#!/usr/bin/env bash
# Private generation benchmark (issue 12): a GPT-2-small-shaped decoder
# (12 layers, hidden 768, 12 heads, FFN 3072, vocabulary 50257, random
# weights) exported by torch as a prefill and a decode step, compiled into
# one generation artifact and run by mpc-run --local --generate (dealer, P0,
# P1 as processes on this machine) with both comparison protocols:
#   * a prompt of 32 tokens, then decode steps at every context from 32 to
#     128 (mpc-run's per-token statistics);
#   * the same tokens computed by recomputing the whole prefix: a forward
#     pass over 65 and over 129 tokens (the prefill of artifacts whose
#     prompt is that long), which is what a decode step at context 64 and
#     128 replaces.
# Then bench/generation/report.py prints the table of docs/benchmarks.md.
#
#   bench/generation/run.sh [build-dir] [work-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$here/build}"
work="${2:-/tmp/umbra-bench-generation}"
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$work"
prompt=32
last=128              # the largest context measured
tokens=$((last - prompt + 2))  # the prefill's token, then contexts 32..128

# artifact NAME PROMPT_LEN MAX_SEQ: exports and compiles once.
artifact() {
  local name=$1 len=$2 max=$3 dir="$work/$1"
  if [ ! -f "$dir/gen.umbra" ]; then
    $py -m umbra_models.generate --preset gpt2-small --seed 0 --prompt-len "$len" \
      --tokens 1 --out-dir "$dir" > "$dir.export.log"
    /usr/bin/time -f "mpc-compile: %e s wall, %M KiB peak RSS" \
      "$build/bin/mpc-compile" "$dir/prefill.onnx" --decode-step "$dir/decode.onnx" \
      --max-seq "$max" -o "$dir/gen.umbra"
  fi
}
artifact gen $prompt $((last + 1))
artifact recompute65 65 67
artifact recompute129 129 131

for cmp in bits dcf; do
  echo "== generation: prompt $prompt, $tokens tokens, --comparison $cmp"
  /usr/bin/time -f "mpc-run --local: %e s wall, %M KiB peak RSS (largest role)" \
    "$build/runtime/mpc-run" "$work/gen/gen.umbra" --local --comparison "$cmp" \
    --generate "$tokens" -i "input_ids=$work/gen/prompt_ids.npy" \
    -o "$work/gen/out-$cmp" --stats "$work/gen/stats-$cmp.json" > "$work/gen/tokens-$cmp.txt"
  for r in recompute65 recompute129; do
    echo "== $r (one forward pass), --comparison $cmp"
    "$build/runtime/mpc-run" "$work/$r/gen.umbra" --local --comparison "$cmp" \
      --generate 1 -i "input_ids=$work/$r/prompt_ids.npy" \
      -o "$work/$r/out-$cmp" --stats "$work/$r/stats-$cmp.json" > /dev/null
  done
done
$py "$here/bench/generation/report.py" "$work"
