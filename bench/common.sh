# Sourced by the benchmarks' run.sh after they set `here`, `build` and
# `work`: the provenance files report.py's footer reads
# (bench/reportlib.py) and the helpers every run uses.
mkdir -p "$work"
: > "$work/load.txt"
: > "$work/tools.txt"
load() { echo "$1: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$work/load.txt"; }
# Which build each step used (the tools may be rebuilt during a run).
tools() {
  echo "$1 $(sha256sum "$build/bin/mpc-compile" | cut -c1-12) $(sha256sum "$build/runtime/mpc-run" | cut -c1-12)" >> "$work/tools.txt"
}
git -C "$here" log -1 --format='%h %cd' --date=format:'%Y-%m-%d %H:%M' > "$work/commit.txt" 2>/dev/null || true
# The tools may be rebuilt under a long run: wait for them to be there.
need() {
  for _ in $(seq 60); do [ -x "$1" ] && return 0; sleep 5; done
  echo "missing $1" >&2; exit 1
}
