#!/usr/bin/env bash
# MPC-friendly approximations benchmark (mpc-compile --approx, pass
# mpc-approximate; strategies in lib/Utils/Approximation/strategies.json):
# what each strategy set saves under 2PC against the accurate ops, measured
# in one run, all roles on this machine (mpc-run --local: dealer, P0 and P1
# as processes on loopback, the default DCF comparisons), one mpc-run at a
# time. Models:
#   gpt2   the trained fixture python/fixtures/gpt2-l4-d256 (GeLU, LayerNorm)
#   opt    the trained fixture python/fixtures/opt-l4-d256 (ReLU FFN, LayerNorm)
#          on T = 32 tokens of scripts/demo_prompt.txt (each fixture's
#          tokenizer);
#   small  the GPT-2-small-shaped decoder (preset gpt2-small, random weights,
#          SMALL_T = 32 random ids).
# Every strategy set of a model is compiled from the SAME ONNX file (the
# original graph) with --approx=SPEC (none for `accurate`), with
# --cost-report (the compiler's prediction, a cross-check) and
# --approx-report. A set whose artifact is byte-identical to the accurate
# one (gelu:* on the OPT fixture, which has no GeLU) is not run.
# bench/approximation/quality.py then computes, in torch, each set's logits
# on the same ids (what the MPC logits are compared with) and, for the
# fixtures of EVAL_MODELS, bits per byte / top-1 without fine-tuning on the
# first EVAL_TOKENS tokens of the test split, and evaluates the fine-tuned fixture
# FINETUNED (umbra_models.finetune) if its metrics.json exists.
# bench/approximation/report.py prints the tables and the issue's targets
# (also written to WORK/report.md).
#
#   bench/approximation/run.sh [build-dir] [work-dir]
#   (SMALL_T=16 for fewer tokens in the gpt2-small runs; MODELS="gpt2 opt small";
#    QUALITY=0 to skip the torch side; EVAL_TOKENS=16384; EVAL_MODELS="gpt2" (the
#    fixtures whose bits per byte are evaluated: "gpt2 opt" for both);
#    FINETUNED=python/fixtures/gpt2-l4-d256-approx)
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$here/build}"
work="${2:-/tmp/umbra-bench-approx}"
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
T=32
SMALL_T="${SMALL_T:-32}"
MODELS="${MODELS:-gpt2 opt small}"
QUALITY="${QUALITY:-1}"
EVAL_TOKENS="${EVAL_TOKENS:-16384}"
EVAL_MODELS="${EVAL_MODELS:-gpt2}"
FINETUNED="${FINETUNED:-$here/python/fixtures/gpt2-l4-d256-approx}"
nice="nice -n 5"
# name|spec, in the order of the report (accurate first: the baseline).
SETS="accurate|
liu|gelu:relu,softmax:relu-norm,layer_norm:affine
mpcformer|gelu:quad,softmax:2quad
gelu-poly|gelu:poly
ln-rsqrt|layer_norm:rsqrt
gelu-relu|gelu:relu
softmax-relu-norm|softmax:relu-norm
ln-affine|layer_norm:affine"
mkdir -p "$work"
t_start=$(date +%s)
. "$here/bench/common.sh"
: > "$work/sets.tsv"
rm -f "$work/quality.json" "$work/bench.wall"
compile() { # MODEL SET SPEC
  local out="$1-$2" onnx="$work/$1.onnx" spec=$3
  local args=()
  [ -n "$spec" ] && args=("--approx=$spec" --approx-report "$work/$out.approx.json")
  need "$build/bin/mpc-compile"
  tools "compile-$out"
  rm -f "$work/$out.approx.json"
  /usr/bin/time -f "%e %M" -o "$work/$out.compile" \
    $nice "$build/bin/mpc-compile" "$onnx" "${args[@]}" --cost-report \
      -o "$work/$out.umbra" < /dev/null > "$work/$out.cost" 2> "$work/$out.compile.log" ||
    { cat "$work/$out.compile.log" >&2; exit 1; }
  stat -c %s "$work/$out.umbra" >> "$work/$out.compile"
}
run() { # NAME (MODEL-SET)
  local ids="$work/${1%%-*}-ids.npy"
  need "$build/runtime/mpc-run"
  load "$1"
  tools "run-$1"
  echo "== mpc-run --local $1"
  rm -rf "$work/out-$1"
  /usr/bin/time -f "%e %M" -o "$work/$1.wall" \
    $nice "$build/runtime/mpc-run" "$work/$1.umbra" --local -i "input_ids=$ids" \
      -o "$work/out-$1" --stats "$work/$1.json" < /dev/null 2> "$work/$1.log" ||
    { cat "$work/$1.log" >&2; exit 1; }
  grep '\] done' "$work/$1.log" >&2 || true
}

echo "== prepare: ONNX files and ids"
for m in $MODELS; do
  case $m in
    gpt2|opt)
      $nice $py "$here/bench/approximation/prepare.py" fixture $m \
        "$here/python/fixtures/$m-l4-d256" "$here/scripts/demo_prompt.txt" "$work" $T ;;
    small)
      small="$work/small-T$SMALL_T"
      mkdir -p "$small"
      if [ ! -f "$small/small.onnx" ] || [ ! -f "$small/small-model.json" ]; then
        $nice $py "$here/bench/approximation/prepare.py" small "$small" "$SMALL_T"
      fi
      for f in small.onnx small-ids.npy small-model.json; do ln -sf "$small/$f" "$work/$f"; done ;;
    *) echo "unknown model $m" >&2; exit 1 ;;
  esac
done

# Everything is compiled first, then run (fewer chances of mixing builds).
echo "== compile"
for m in $MODELS; do
  while IFS='|' read -r s spec; do
    compile "$m" "$s" "$spec"
    status=run
    if [ "$s" != accurate ] && cmp -s "$work/$m-$s.umbra" "$work/$m-accurate.umbra"; then
      status=same-as-accurate  # nothing to approximate (e.g. gelu:* without GeLU)
      rm -f "$work/$m-$s.umbra"
    fi
    printf '%s\t%s\t%s\t%s\n' "$m" "$s" "$status" "$spec" >> "$work/sets.tsv"
  done <<< "$SETS"
done

if [ "$QUALITY" = 1 ]; then
  echo "== torch: logits of every set, bits per byte without fine-tuning, fine-tuned fixture"
  load quality
  /usr/bin/time -f "quality: %e s" $nice $py "$here/bench/approximation/quality.py" \
    "$work" "$EVAL_TOKENS" "$EVAL_MODELS" "$FINETUNED" < /dev/null
fi

echo "== run"
while IFS=$'\t' read -r m s status spec; do
  [ "$status" = run ] || continue
  run "$m-$s"
  [ "$m" = small ] && rm -f "$work/$m-$s.umbra"
done < "$work/sets.tsv"

tools end
echo "total $(( $(date +%s) - t_start )) s" > "$work/bench.wall"
$py "$here/bench/approximation/report.py" "$work" | tee "$work/report.md"
