#!/usr/bin/env bash
# Marill's MPC-minimising fine-tuning (python/umbra_models/marill.py): what a
# frozen public prefix, LoRA on public base weights and merged heads save
# under 2PC, and what they cost in quality, against standard fine-tuning,
# all from the same public base (python/fixtures/gpt2-l4-d256) with the
# same budget (STEPS steps x 8 x 128 tokens, lr 1e-3, seed 1234) on the
# shifted task (NumPy's sources, see marill.py).
#
#   1. train (cached in WORK/runs/<variant>: delete a directory to retrain):
#        standard  every weight trained
#        frozen    --frozen-prefix K --head HEAD
#        lora      --lora R --lora-alpha ALPHA --head HEAD
#        merge     --merge-heads M
#        combo     --frozen-prefix K --lora R --lora-alpha ALPHA --merge-heads M --head HEAD
#                  (the committed fixture's settings)
#        combo-sum the combination exported as x (W + B A) (mpc-relocate
#                  distributes it) instead of x W + (x A) B
#      (HEAD=private: the LM head, tied to the frozen public tok_emb in the
#      base, is untied and trained where the embeddings are frozen)
#      (EXTRA="name:flags;name:flags" adds variants; the K = 2 rows of the
#      measured report: EXTRA="frozen-k2:--frozen-prefix 2 --head private;
#      combo-k2:--frozen-prefix 2 --lora 32 --lora-alpha 512 --merge-heads 4
#      --head private;combo-sum-k2:<combo-k2's flags> --lora-export sum")
#   2. for each T in TS: export each (marill export, initializer names
#      kept), compile it with its public.json regex (nothing public for
#      standard and merge), run mpc-run --local REPEAT times on the first T
#      tokens of scripts/demo_prompt.txt (or of the shifted test split when
#      the prompt is shorter); the base compiled with every weight the
#      owner's is run too (it costs what standard fine-tuning costs);
#   3. bench/marill/report.py writes WORK/report.md: online bytes, rounds
#      and seconds (P0's stats, inference phase; seconds: median of the
#      runs), ratios to the standard fine-tuned model, bpb/top-1 on the
#      shifted test split and the share of standard fine-tuning's gain.
#
#   bench/marill/run.sh [build-dir] [work-dir]
#   env: STEPS=400 K=3 R=32 ALPHA=512 M=4 HEAD=private TS="32 64 128" REPEAT=3 EXTRA=
# Training uses one thread at nice 10; the dnnl BLAS shim of docs/models.md
# is built into WORK and preloaded when gcc and libdnnl are there (~20x
# faster training; without it a variant takes ~40 min instead of ~2-3).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$here/build}"
work="${2:-/tmp/umbra-bench-marill}"
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
base="$here/python/fixtures/gpt2-l4-d256"
prompt="$here/scripts/demo_prompt.txt"
STEPS="${STEPS:-400}" K="${K:-3}" R="${R:-32}" M="${M:-4}" ALPHA="${ALPHA:-512}" HEAD="${HEAD:-private}"
TS="${TS:-32 64 128}" REPEAT="${REPEAT:-3}"
mkdir -p "$work/runs"
t_start=$(date +%s)
: > "$work/load.txt"
load() { echo "$1: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$work/load.txt"; }
git -C "$here" log -1 --format='%h %cd' --date=format:'%Y-%m-%d %H:%M' > "$work/commit.txt" 2>/dev/null || true
need() {
  for _ in $(seq 60); do [ -x "$1" ] && return 0; sleep 5; done
  echo "missing $1" >&2; exit 1
}

shim="$work/libdnnl_blas_shim.so"
if [ ! -f "$shim" ]; then
  gcc -O2 -shared -fPIC -o "$shim" "$here/python/tools/dnnl_blas_shim.c" -l:libdnnl.so.2 2>/dev/null ||
    { rm -f "$shim"; echo "(no dnnl shim: training with torch's reference BLAS, slow)"; }
fi
preload=""
[ -f "$shim" ] && preload="$shim"

common="--steps $STEPS --batch 8 --seq 128 --lr 1e-3 --seed 1234 --threads 1"
lora="--lora $R --lora-alpha $ALPHA"
combo="--frozen-prefix $K $lora --merge-heads $M --head $HEAD"
variants="standard:;frozen:--frozen-prefix $K --head $HEAD;lora:$lora --head $HEAD;merge:--merge-heads $M;combo:$combo;combo-sum:$combo --lora-export sum${EXTRA:+;$EXTRA}"
names=""
IFS=';' read -ra specs <<< "$variants"
echo "== 1. fine-tune ($STEPS steps each; cached in $work/runs)"
for spec in "${specs[@]}"; do
  name="${spec%%:*}" flags="${spec#*:}"
  names="$names $name"
  # A cached run is reused only if it was trained with the same flags.
  if [ ! -f "$work/runs/$name/metrics.json" ] ||
     [ "$(cat "$work/runs/$name.args" 2>/dev/null)" != "$common $flags" ]; then
    rm -rf "$work/runs/$name" "$work/runs/$name.args"
    load "train-$name"
    echo "-- $name: $flags"
    # shellcheck disable=SC2086
    LD_PRELOAD="$preload" nice -n 10 $py -m umbra_models.marill train --base "$base" \
      --out "$work/runs/$name" --cache-dir "$work/cache" $common $flags \
      > "$work/runs/$name.log" 2>&1 || { tail -20 "$work/runs/$name.log" >&2; exit 1; }
    echo "$common $flags" > "$work/runs/$name.args"
    tail -1 "$work/runs/$name.log"
  fi
  echo "$flags" > "$work/runs/$name.flags"
done

echo "== 2. compile and run (mpc-run --local, T in $TS, $REPEAT runs each)"
for T in $TS; do
  d="$work/T$T"
  mkdir -p "$d"
  # The same T token ids for every variant.
  $py - "$prompt" "$base" "$T" "$d/ids.npy" <<'EOF'
import sys, numpy as np
from umbra_models.marill import shift_split
from umbra_models.tokenizer import tokenizer_of
prompt, base, T, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
tok = tokenizer_of(base)
ids = tok.encode(open(prompt, "rb").read())
src = "scripts/demo_prompt.txt"
if len(ids) < T:
    ids, src = shift_split(tok, "test")[0].tolist(), "the shifted test split"
np.save(out, np.asarray(ids[:T], dtype=np.int64)[None])
print(f"T={T}: the first {T} tokens of {src}")
EOF
  # The base, every weight the owner's.
  $py - "$base" "$d/ids.npy" "$d/base" <<'EOF'
import os, sys, numpy as np, torch
from umbra_models.export import export_onnx
from umbra_models.model import load_model_dir
base, ids_path, out = sys.argv[1:]
os.makedirs(out, exist_ok=True)
m = load_model_dir(base)
ids = np.load(ids_path)
export_onnx(m, os.path.join(out, "model.onnx"), ids.shape[1])
with torch.no_grad():
    np.save(os.path.join(out, "torch.npy"), m(torch.from_numpy(ids)).numpy())
EOF
  for name in base $names; do
    v="$d/$name"
    mkdir -p "$v"
    if [ "$name" != base ]; then
      $py - "$work/runs/$name" "$d/ids.npy" "$v" <<'EOF'
import os, sys, numpy as np, torch
from umbra_models import marill
run, ids_path, out = sys.argv[1:]
m = marill.load_marill_dir(run)
ids = np.load(ids_path)
marill.export_marill_onnx(m, os.path.join(out, "model.onnx"), ids.shape[1])
with torch.no_grad():
    np.save(os.path.join(out, "torch.npy"), m(torch.from_numpy(ids)).numpy())
EOF
      regex=$($py -c "import json,sys; print(json.load(open(sys.argv[1]))['public_weight_names'])" \
        "$work/runs/$name/public.json")
    else
      regex=""
    fi
    need "$build/bin/mpc-compile"
    args=()
    [ -n "$regex" ] && args=(--public-weight-names "$regex")
    printf '%s\n' "$regex" > "$v/regex.txt"
    "$build/bin/mpc-compile" "$v/model.onnx" -o "$v/model.umbra" "${args[@]}" --leakage-report \
      > "$v/leakage.txt"
    need "$build/runtime/mpc-run"
    for i in $(seq "$REPEAT"); do
      load "T$T-$name-$i"
      rm -rf "$v/out"
      "$build/runtime/mpc-run" "$v/model.umbra" --local -i "input_ids=$d/ids.npy" -o "$v/out" \
        --stats "$v/stats-$i.json" --timeout 600 2> "$v/run-$i.log" ||
        { cat "$v/run-$i.log" >&2; exit 1; }
    done
    grep 'p0\] done' "$v/run-$REPEAT.log" | sed "s/^/T$T $name: /"
    rm -f "$v/model.umbra"
  done
done
echo "total $(( $(date +%s) - t_start )) s" > "$work/bench.wall"
$py "$here/bench/marill/report.py" "$work" $TS | tee "$work/report.md"
