#!/bin/sh
# Import benchmark: a GPT-2-small-shaped decoder (12 layers, hidden 768,
# 12 heads, FFN 3072, vocab 50257, 1024 positions, seq 32, random weights,
# torch 1.13, opset 17) through `mpc-translate --import-onnx`.
#
# Usage: bench/import/run.sh [BUILD_DIR] [WORK_DIR]
#   BUILD_DIR  build tree with bin/mpc-translate (default: ./build)
#   WORK_DIR   where the exported model goes (default: BUILD_DIR/bench-import;
#              never committed, ~650 MB)
#
# Measures wall seconds and peak RSS (GNU time) of import + verify without
# printing (`--import-only`), and of import + printing the module to
# /dev/null (blobs in full, then elided), and prints peak RSS / weight bytes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
work=${2:-$build/bench-import}
tool=$build/bin/mpc-translate
mkdir -p "$work"
model=$work/gpt2-small-opset17.onnx
if [ ! -f "$model" ]; then
  echo "exporting $model ..."
  PYTHONPATH="$root/python" /usr/bin/python3 -m umbra_models.zoo "$work" \
    --layers 12 --hidden 768 --heads 12 --ffn 3072 --vocab 50257 \
    --positions 1024 --seq 32 --only gpt2-opset17 2>/dev/null
  mv "$work/gpt2-opset17.onnx" "$model"
fi
weights=$(/usr/bin/python3 "$here/weight_bytes.py" "$model")
file_bytes=$(stat -c %s "$model")

measure() {
  label=$1; shift
  /usr/bin/time -v "$@" > /dev/null 2> "$work/time.log" || {
    cat "$work/time.log"; exit 1; }
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.log")
  rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.log")
  /usr/bin/python3 - "$label" "$wall" "$rss_kb" "$weights" <<'PY'
import sys
label, wall, rss_kb, weights = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
parts = [float(p) for p in wall.split(":")]
secs = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
rss = rss_kb * 1024
print(f"{label:<28} wall {secs:6.2f} s   peak RSS {rss / 2**20:7.1f} MiB   "
      f"RSS/weights {rss / weights:4.2f}")
PY
}

echo "model: $model"
echo "file size: $((file_bytes / 1048576)) MiB; weights: $((weights / 1048576)) MiB ($weights bytes)"
measure "import+verify (--import-only)" "$tool" --import-onnx --import-only "$model"
measure "import+verify+print (full)" "$tool" --import-onnx "$model"
measure "import+verify+print (elided)" "$tool" --import-onnx \
  --mlir-elide-resource-strings-if-larger=64 "$model"
