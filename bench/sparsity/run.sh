#!/usr/bin/env bash
# Predicted sparsity benchmark (Comet, issue 13; docs/benchmarks.md,
# "Predicted sparsity (Comet)"): what the block-sparse FFN costs under 2PC
# against the dense FFN, measured in one run, all roles on this machine
# (mpc-run --local: dealer, P0 and P1 as processes on loopback, DCF
# comparisons):
#   1. the trained OPT-style fixture (4 layers, hidden 256, FFN 1024, ReLU):
#      umbra_models.predictor permutes its neurons and trains block
#      predictors (block 16, rank 32, target recall 0.95; cached in the work
#      directory, ~10 min), one ONNX file compiled dense (the predictors are
#      then ignored) and with --sparsity=predicted, both run on T = 32
#      tokens of scripts/demo_prompt.txt;
#   2. the GPT-2-small-shaped ReLU decoder (`opt-small`, random weights,
#      SMALL_T = 32 random ids) with predictors forced to select 50 %, 25 %
#      and 10 % of every FFN's blocks, each compiled sparse, against the
#      dense compile.
# bench/sparsity/report.py prints the tables and the issue's targets
# (also written to WORK/report.md).
#
#   bench/sparsity/run.sh [build-dir] [work-dir]
#   (SMALL_T=16 for fewer tokens in part 2; DENSITIES="0.5 0.25 0.1")
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$here/build}"
work="${2:-/tmp/umbra-bench-sparsity}"
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
fixture="$here/python/fixtures/opt-l4-d256"
T=32
SMALL_T="${SMALL_T:-32}"
DENSITIES="${DENSITIES:-0.5 0.25 0.1}"
BLOCK=16 RANK=32
mkdir -p "$work"
t_start=$(date +%s)
. "$here/bench/common.sh"
compile() { # OUT ONNX [flags...]
  local out=$1 onnx=$2; shift 2
  need "$build/bin/mpc-compile"
  tools "compile-$out"
  /usr/bin/time -f "%e %M" -o "$work/$out.compile" \
    "$build/bin/mpc-compile" "$onnx" "$@" -o "$work/$out.umbra"
  stat -c %s "$work/$out.umbra" >> "$work/$out.compile"
}
run() { # NAME IDS
  need "$build/runtime/mpc-run"
  load "$1"
  tools "run-$1"
  echo "== mpc-run --local $1"
  rm -rf "$work/out-$1"
  /usr/bin/time -f "%e %M" -o "$work/$1.wall" \
    "$build/runtime/mpc-run" "$work/$1.umbra" --local -i "input_ids=$2" \
      -o "$work/out-$1" --stats "$work/$1.json" 2> "$work/$1.log" ||
    { cat "$work/$1.log" >&2; exit 1; }
  grep '\] done' "$work/$1.log" >&2 || true
}

echo "== 1. OPT-style fixture: predictors (cached in $work)"
if [ ! -f "$work/opt-pred.onnx" ] || [ ! -f "$work/opt-report.json" ]; then
  /usr/bin/time -f "predictor: %e s" \
    $py -m umbra_models.predictor --model "$fixture" --block $BLOCK --rank $RANK \
      --recall 0.95 --eval-bytes 60000 --out "$work/opt-report.json.tmp" \
      --onnx "$work/opt-pred.onnx.tmp" --seq $T
  mv "$work/opt-pred.onnx.tmp" "$work/opt-pred.onnx"
  mv "$work/opt-report.json.tmp" "$work/opt-report.json"
fi
$py "$here/bench/sparsity/prepare.py" opt "$fixture" "$here/scripts/demo_prompt.txt" \
  "$work/opt-pred.onnx" "$work" $T
echo "== 2. opt-small (GPT-2-small shape, ReLU), T = $SMALL_T, forced densities $DENSITIES"
tags=""
for d in $DENSITIES; do tags="$tags d$($py -c "print(round(100 * $d))")"; done
small="$work/small-T$SMALL_T"
mkdir -p "$small"
missing=0
for f in small.onnx small-forced.json $(for t in $tags; do echo "small-$t.onnx"; done); do
  [ -f "$small/$f" ] || missing=1
done
if [ $missing = 1 ]; then
  $py "$here/bench/sparsity/prepare.py" forced "$small" "$SMALL_T" $BLOCK $RANK $DENSITIES
fi
for f in "$small"/small-ids.npy "$small"/small-torch-*.npy "$small"/small-forced.json; do
  ln -sf "$f" "$work/$(basename "$f")"
done

# Everything is compiled first, then run (fewer chances of mixing builds).
echo "== compile"
compile opt-dense "$work/opt-pred.onnx"
compile opt-sparse "$work/opt-pred.onnx" --sparsity=predicted
compile small-dense "$small/small.onnx"
for t in $tags; do compile "small-$t" "$small/small-$t.onnx" --sparsity=predicted; done
run opt-dense "$work/opt-ids.npy"
run opt-sparse "$work/opt-ids.npy"
for n in dense $tags; do
  run "small-$n" "$small/small-ids.npy"
  rm -f "$work/small-$n.umbra"
done

tools end
echo "total $(( $(date +%s) - t_start )) s" > "$work/bench.wall"
$py "$here/bench/sparsity/report.py" "$work" | tee "$work/report.md"
