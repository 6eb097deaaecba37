#!/usr/bin/env bash
# The Umbra demo: set up, export a decoder with torch, import it into the
# tfm dialect, raise exporter idioms (tfm-fuse), show who may see each value,
# lower it to the mpc dialect, and summarise each stage.
#
#   ./scripts/demo.sh [model-dir]   (default: the committed GPT-2-style fixture,
#                                   or a small random GPT-2-style model)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
build="${UMBRA_BUILD_DIR:-$here/build}"
bin="$build/bin"
out="$build/demo"
mkdir -p "$out"
py=/usr/bin/python3
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"

model_dir="${1:-}"
if [ -z "$model_dir" ]; then
  for d in "$here"/python/fixtures/gpt2*; do
    [ -f "$d/config.json" ] && model_dir="$d" && break
  done
fi
seq=32
echo "== 1. Export a decoder with torch $($py -c 'import torch; print(torch.__version__)') (opset 17)"
if [ -n "$model_dir" ]; then
  echo "model: $model_dir"
  $py -m umbra_models.export --model "$model_dir" --seq "$seq" --out "$out/model.onnx"
else
  echo "model: random GPT-2-style decoder (no trained fixture found)"
  $py -m umbra_models.export --preset gpt2-tiny --seq "$seq" --out "$out/model.onnx"
fi

echo
echo "== 2. Import into the tfm dialect (mpc-translate --import-onnx)"
"$bin/mpc-translate" --import-onnx "$out/model.onnx" -o "$out/model.tfm.mlir"
"$bin/mpc-opt" "$out/model.tfm.mlir" --print-op-stats -o /dev/null 2>&1 | sed -n '/tfm\./p'

echo
echo "== 3. Raise exporter idioms to semantic ops (mpc-opt --tfm-fuse)"
"$bin/mpc-opt" "$out/model.tfm.mlir" --tfm-fuse --canonicalize \
  -o "$out/model.fused.mlir"
"$bin/mpc-opt" "$out/model.fused.mlir" --print-op-stats -o /dev/null 2>&1 | sed -n '/tfm\./p'
echo "-- the first transformer block (weights elided):"
"$bin/mpc-opt" "$out/model.fused.mlir" --mlir-elide-elementsattrs-if-larger=4 \
  --mlir-elide-resource-strings-if-larger=4 | grep -m 24 -E 'tfm\.' | cut -c1-160

echo
echo "== 4. Who may see each value (mpc-opt --mpc-annotate-visibility)"
"$bin/mpc-opt" "$out/model.fused.mlir" --mpc-annotate-visibility \
  --mlir-elide-elementsattrs-if-larger=4 --mlir-elide-resource-strings-if-larger=4 |
  grep -o 'mpc.visibility = #mpc.visibility<[a-z]*>' | sort | uniq -c |
  sed 's/mpc.visibility = #mpc.visibility</values: /; s/>$//'

echo
echo "== 5. Lower to fixed-point MPC (mpc-opt --convert-tfm-to-mpc)"
"$bin/mpc-opt" "$out/model.fused.mlir" --convert-tfm-to-mpc --cse \
  -o "$out/model.mpc.mlir"
"$bin/mpc-opt" "$out/model.mpc.mlir" --print-op-stats -o /dev/null 2>&1 | sed -n '/mpc\./p'
echo "-- reveals (the leakage of this program):"
grep -o 'mpc.reveal .*reason = "[^"]*", to = #mpc.reveal_target<[a-z]*>' "$out/model.mpc.mlir" |
  sed 's/.*reason = /  reason = /'

echo
echo "Artifacts in $out: model.onnx, model.tfm.mlir, model.fused.mlir, model.mpc.mlir"
