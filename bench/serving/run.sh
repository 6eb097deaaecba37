#!/usr/bin/env bash
# Serving benchmark (issue 12, docs/serving.md): the trained GPT-2-style
# fixture (4 layers, hidden 256, vocabulary 1536) generating 16 tokens after
# a 16-token prompt, all roles on this machine, measured in one run:
#   * the two-party mode (mpc-run --local --generate: the client is P0);
#   * the outsourced mode, one thin client against serving P0, P1 and dealer
#     (--serve), then two clients at once against the same servers;
# each session's per-token statistics (P0's P0-P1 online bytes, rounds and
# seconds; the client's traffic) and wall times. bench/serving/report.py
# prints the table of docs/benchmarks.md.
#
#   bench/serving/run.sh [build-dir] [work-dir]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$here/build}"
work="${2:-/tmp/umbra-bench-serving}"
py=/usr/bin/python3
run="$build/runtime/mpc-run"
export PYTHONPATH="$here/python${PYTHONPATH:+:$PYTHONPATH}"
rm -rf "$work"
mkdir -p "$work"
T=16 N=16
$py - "$here/python/fixtures/gpt2-l4-d256" "$here/scripts/demo_prompt.txt" "$work" $T <<'PY'
import sys, numpy as np
from umbra_models.generate import export_generation
from umbra_models.model import load_model_dir
from umbra_models.tokenizer import tokenizer_of
d, prompt, work, T = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
ids = np.asarray(tokenizer_of(d).encode(open(prompt, "rb").read()), dtype=np.int64)
for k in range(2):
    np.save(f"{work}/prompt{k}.npy", ids[None, 40 * k:40 * k + T])
export_generation(load_model_dir(d), work, T)
PY
"$build/bin/mpc-compile" "$work/prefill.onnx" --decode-step "$work/decode.onnx" \
  --max-seq $((T + N)) -o "$work/gen.umbra"

secs() { $py -c 'import time; print(time.time())'; }
echo "== two-party mode"
t0=$(secs)
"$run" "$work/gen.umbra" --local --generate $N -i "input_ids=$work/prompt0.npy" \
  -o "$work/two-party" --stats "$work/two-party.json" > /dev/null
echo "wall $($py -c "print($(secs) - $t0)")" > "$work/two-party.wall"

port=$((20000 + RANDOM % 20000))
A="--p0 127.0.0.1:$port --dealer 127.0.0.1:$((port + 1)) --p1 127.0.0.1:$((port + 2))"
pids=()
for r in dealer p0 p1; do
  "$run" "$work/gen.umbra" --serve --role $r $A --sessions 3 \
    --stats "$work/serve.json" 2> "$work/$r.log" &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
until grep -q serving "$work/p0.log" && grep -q serving "$work/p1.log" && \
      grep -q serving "$work/dealer.log"; do sleep 0.2; done
client() { # TAG PROMPT
  "$run" "$work/gen.umbra" --role client $A --generate $N -i "input_ids=$work/$2.npy" \
    -o "$work/$1" --stats "$work/$1.json" > /dev/null 2> "$work/$1.log"
}
echo "== outsourced mode, one client"
t0=$(secs)
client one prompt0
echo "wall $($py -c "print($(secs) - $t0)")" > "$work/one.wall"
echo "== outsourced mode, two clients at once"
t0=$(secs)
client two-a prompt0 & a=$!
client two-b prompt1 & b=$!
wait $a $b
echo "wall $($py -c "print($(secs) - $t0)")" > "$work/two.wall"
wait "${pids[@]}"
trap - EXIT
$py "$here/bench/serving/report.py" "$work"
