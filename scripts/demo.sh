#!/usr/bin/env bash
# The Umbra demo, end to end on one machine:
#   set up; export a decoder with torch; compile it (mpc-compile); run secure
#   inference with the dealer, P0 and P1 as separate processes on loopback
#   (mpc-run --local); print the next tokens predicted under MPC beside the
#   plaintext model's, and time, online bytes and rounds per op kind.
#
#   ./scripts/demo.sh [model-dir]   default: the committed GPT-2-style fixture
#                                   (python/fixtures/gpt2-*), else a small
#                                   random GPT-2-style model
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
build="${UMBRA_BUILD_DIR:-$here/build}"
bin="$build/bin"
run="$build/runtime/mpc-run"
out="$build/demo"
rm -rf "$out"
mkdir -p "$out"
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
seq=32

model_dir="${1:-}"
if [ -z "$model_dir" ]; then
  for d in "$here"/python/fixtures/gpt2*; do
    [ -f "$d/config.json" ] && model_dir="$d" && break
  done
fi

echo "== 1. Export a decoder with torch (opset 17, $seq tokens)"
if [ -n "$model_dir" ]; then
  echo "model: $model_dir"
  $py -m umbra_models.export --model "$model_dir" --seq "$seq" \
    --out "$out/model.onnx" --dump-dir "$out/torch" \
    --text-file "$here/scripts/demo_prompt.txt"
else
  echo "model: random GPT-2-style decoder (no trained fixture found)"
  $py -m umbra_models.export --preset gpt2-tiny --seq "$seq" \
    --out "$out/model.onnx" --dump-dir "$out/torch"
fi

echo
echo "== 2. Compile (mpc-compile: import, tfm-fuse, convert-tfm-to-mpc, export)"
start=$(date +%s%N)
"$bin/mpc-compile" "$out/model.onnx" --compile-to=mpc -o "$out/model.mpc.mlir"
"$bin/mpc-compile" "$out/model.onnx" -o "$out/model.umbra" --leakage-report
end=$(date +%s%N)
echo "compiled in $(( (end - start) / 1000000 )) ms (both stages);" \
  "artifact $(stat -c %s "$out/model.umbra") bytes"
"$bin/mpc-opt" "$out/model.mpc.mlir" --print-op-stats -o /dev/null 2>&1 |
  sed -n '/mpc\./p'
"$bin/mpc-compile" "$out/model.onnx" -o "$out/model.umbra" --cost-report
# What the artifact holds: every slot, instruction, reveal and weight blob
# (the reveals are the whole leakage; the full listing is model.dump.txt).
"$run" "$out/model.umbra" --dump > "$out/model.dump.txt"
sed -n '/^reveals:/,/^weights:/p' "$out/model.dump.txt"
echo "(full listing: $out/model.dump.txt)"

echo
echo "== 3. Secure inference: dealer, P0 and P1 as processes on loopback"
"$run" "$out/model.umbra" --local -i "input_ids=$out/torch/input_ids.npy" \
  -o "$out/mpc" --stats "$out/stats.json"

echo
echo "== 4. Results"
$py "$here/scripts/demo_report.py" --model-dir "$model_dir" \
  --dump-dir "$out/torch" --mpc-logits "$out/mpc/logits.npy" \
  --stats "$out/stats.p0.json" --dealer-stats "$out/stats.dealer.json"
echo
echo "== 5. Private generation: the prompt's continuation under MPC"
# The prefill and the decode step (one token against the key/value cache)
# in one artifact; the cache stays secret-shared between the steps and each
# token is revealed to the client (P0) alone, streamed as it comes.
gen=16
prompt_len=16
gen_dir="$out/generation"
if [ -n "$model_dir" ]; then
  $py -m umbra_models.generate --model "$model_dir" --prompt-len "$prompt_len" \
    --tokens "$gen" --out-dir "$gen_dir" --text-file "$here/scripts/demo_prompt.txt" \
    > "$gen_dir.log"
  tok=(--tokenizer "$model_dir/tokenizer.json")
else
  $py -m umbra_models.generate --preset gpt2-tiny --prompt-len "$prompt_len" \
    --tokens "$gen" --out-dir "$gen_dir" > "$gen_dir.log"
  tok=()
fi
"$bin/mpc-compile" "$gen_dir/prefill.onnx" --decode-step "$gen_dir/decode.onnx" \
  --max-seq $((prompt_len + gen)) -o "$gen_dir/gen.umbra" --leakage-report |
  grep -E "^== |reveal #|reason"
"$run" "$gen_dir/gen.umbra" --local --generate "$gen" "${tok[@]}" \
  -i "input_ids=$gen_dir/prompt_ids.npy" -o "$gen_dir/mpc" \
  --stats "$gen_dir/stats.json" 2> "$gen_dir/run.log"
$py "$here/scripts/demo_report.py" --generation "$gen_dir" \
  ${model_dir:+--model-dir "$model_dir"}

echo
echo "Artifacts in $out"
