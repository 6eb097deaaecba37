#!/usr/bin/env bash
# Accuracy benchmark (issue 11, "precision"): zoo presets exported by torch,
# compiled by mpc-compile and run under 2PC (mpc-run --local: dealer, P0, P1
# as processes on this machine), MPC logits against torch's:
#   rel error = max |MPC - torch| / max |torch|, the least-squares slope of
#   MPC - torch against torch (systematic bias), top-1 agreement.
# Also prints the online bytes/rounds of each run and, with OLD_BUILD set,
# the --cost-report totals of the same ONNX compiled by another build (for
# the cost of the constant encoding against the old one).
#
#   bench/accuracy/run.sh [build-dir] [work-dir] [seq] [model ...]
#     model: gpt2-small, llama-small (zoo initialisation, std 0.02) or
#            gpt2-small-torchinit (torch's default initialisation)
#   OLD_BUILD=/work/main/build bench/accuracy/run.sh
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$here/build}"
work="${2:-/tmp/umbra-bench-accuracy}"
seq="${3:-32}"
shift $(( $# < 3 ? $# : 3 ))
models=("$@")
[ ${#models[@]} -gt 0 ] || models=(gpt2-small-torchinit gpt2-small llama-small)
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$work"

cost_totals() { # build onnx -> "online bytes, rounds" lines of --cost-report
  "$1/bin/mpc-compile" "$2" -o /dev/null --cost-report 2>&1 | grep -i "total" || true
}

for model in "${models[@]}"; do
  presetname=${model%-torchinit}
  init=zoo; [ "$model" != "$presetname" ] && init=torch
  name="$model-$seq"
  if [ ! -f "$work/$name.onnx" ]; then
    $py -m umbra_models.export --preset "$presetname" --init "$init" --seq "$seq" \
      --out "$work/$name.onnx" --dump-dir "$work/torch-$name" >/dev/null
  fi
  echo "== $model ($seq tokens, --init $init)"
  "$build/bin/mpc-compile" "$work/$name.onnx" -o "$work/$name.umbra"
  if [ -n "${OLD_BUILD:-}" ]; then
    echo "  cost report, this build:"; cost_totals "$build" "$work/$name.onnx" | sed 's/^/    /'
    echo "  cost report, $OLD_BUILD:"; cost_totals "$OLD_BUILD" "$work/$name.onnx" | sed 's/^/    /'
  fi
  /usr/bin/time -f "  mpc-run --local: %e s wall" \
    "$build/runtime/mpc-run" "$work/$name.umbra" --local \
    -i "input_ids=$work/torch-$name/input_ids.npy" -o "$work/mpc-$name" \
    --stats "$work/stats-$name.json" 2>"$work/stderr-$name.log" ||
    { cat "$work/stderr-$name.log" >&2; exit 1; }
  grep -i "online\|rounds" "$work/stderr-$name.log" | grep -v "link to\|traffic with" | tail -3 | sed 's/^/  /' || true
  $py "$here/bench/accuracy/analyze.py" --name "$model" \
    --ref "$work/torch-$name/logits.npy" --mpc "$work/mpc-$name/logits.npy"
done
