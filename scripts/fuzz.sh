#!/usr/bin/env bash
# Coverage-guided fuzzing campaigns with libFuzzer (docs/fuzzing.md).
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#
# Configures a separate clang build (build-fuzz/, or $UMBRA_FUZZ_BUILD) of
# the fuzz targets with -fsanitize=fuzzer,address,undefined (UBSan findings
# are fatal), builds only the targets and the libraries they need, and runs
# each TARGET (default: onnx artifact npy frame) for SECONDS (default 600)
# on a copy of its committed corpus (fuzz/corpus/<target>) with its
# dictionary (fuzz/dict/<target>.dict). Prints executions, exec/s, coverage
# (cov: edges, ft: features) and failing inputs per target, with one line
# per distinct finding; exits non-zero when any target failed. A campaign
# runs in libFuzzer's fork mode and keeps going after a crash, so it
# reports every finding in its time (UMBRA_FUZZ_FORK=0: stop at the first).
# Failing inputs are kept as build-fuzz/fuzz-work/<target>/crash-*;
# minimise one with
#   build-fuzz/bin/fuzz-<target> -minimize_crash=1 -runs=10000 CRASH
# and commit it to fuzz/corpus/<target>/ so ctest replays it.
#
# Environment: UMBRA_FUZZ_JOBS (targets run at once, default 1),
# UMBRA_FUZZ_NICE (niceness, default 10), UMBRA_FUZZ_RSS_MB (memory limit
# per target, default 2048), UMBRA_FUZZ_REPORT_ONLY=1 (print the table of
# the last campaign again, from its logs). Needs clang-22 and libclang-rt-22-dev from
# Debian; when run as root it installs the missing ones with apt-get.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-600}
[[ $# -gt 0 ]] && shift
targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(onnx artifact npy frame)
build=${UMBRA_FUZZ_BUILD:-$root/build-fuzz}
jobs=${UMBRA_FUZZ_JOBS:-1}
niceness=${UMBRA_FUZZ_NICE:-10}
rss=${UMBRA_FUZZ_RSS_MB:-2048}
fork=${UMBRA_FUZZ_FORK:-1}
report_only=${UMBRA_FUZZ_REPORT_ONLY:-0}
llvm=/usr/lib/llvm-22

if ! [[ $secs =~ ^[0-9]+$ ]] || [[ $secs -eq 0 ]]; then
  echo "fuzz.sh: SECONDS must be a positive integer, got '$secs'" >&2
  exit 2
fi
for t in "${targets[@]}"; do
  if [[ ! -d $root/fuzz/corpus/$t ]]; then
    echo "fuzz.sh: unknown target '$t' (no fuzz/corpus/$t)" >&2
    exit 2
  fi
done

# The toolchain: clang-22 and its libFuzzer/sanitizer runtimes.
missing=()
command -v clang++-22 >/dev/null || missing+=(clang-22)
compgen -G "$llvm/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" \
  >/dev/null || missing+=(libclang-rt-22-dev)
if [[ ${#missing[@]} -gt 0 ]]; then
  if [[ $(id -u) -ne 0 ]]; then
    echo "fuzz.sh: missing ${missing[*]}; install them with" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 2
  fi
  echo "fuzz.sh: installing ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

# Our code is instrumented; the system libraries (MLIR, protobuf, ONNX,
# OpenSSL) are Debian's GCC builds and are linked as they are.
# shellcheck source=sanitizer-flags.sh
source "$root/scripts/sanitizer-flags.sh"
flags=$UMBRA_ASAN_FLAGS
if [[ ! -f $build/build.ninja ]]; then
  mkdir -p "$build"
  cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
    -DCMAKE_C_FLAGS_RELEASE="$flags -DNDEBUG" \
    -DCMAKE_CXX_FLAGS_RELEASE="$flags -DNDEBUG" \
    -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
    -DUMBRA_LIBFUZZER=ON >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log" >&2; exit 1; }
fi
[[ $report_only == 1 ]] ||
  nice -n "$niceness" ninja -C "$build" -j"${UMBRA_FUZZ_BUILD_JOBS:-2}" \
    "${targets[@]/#/fuzz-}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-$UMBRA_ASAN_OPTIONS}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_SYMBOLIZER_PATH=$llvm/bin/llvm-symbolizer

work=$build/fuzz-work
run_target() {
  local t=$1 dir=$work/$1
  rm -rf "$dir"
  mkdir -p "$dir/corpus"
  local opts=(-max_total_time="$secs" -rss_limit_mb="$rss" -timeout=30
    -artifact_prefix="$dir/")
  [[ -f $root/fuzz/dict/$t.dict ]] && opts+=(-dict="$root/fuzz/dict/$t.dict")
  # Fork mode keeps fuzzing after a crash (each distinct input is kept), so
  # one campaign reports every finding in its time, not just the first.
  if [[ $fork == 1 ]]; then
    opts+=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
  else
    opts+=(-print_final_stats=1)
  fi
  # The first directory receives new inputs; the committed seeds stay as
  # they are.
  nice -n "$niceness" "$build/bin/fuzz-$t" "${opts[@]}" \
    "$dir/corpus" "$root/fuzz/corpus/$t" >"$dir/log" 2>&1 || true
}

# One line naming what an input does to the target: the sanitizer's or
# the uncaught exception's message and the first frame in our code.
signature() {
  local out what where
  if out=$("$build/bin/fuzz-$1" "$2" 2>&1); then
    echo "passes now"
    return
  fi
  what=$(grep -m1 -oE 'runtime error: .*|ERROR: (AddressSanitizer|LeakSanitizer): [a-z-]+|terminate called after throwing .*|what\(\): .*|ERROR: libFuzzer: [a-z-]+' <<<"$out" | head -1)
  # The first frame in our sources, wherever the checkout is.
  where=$(grep -oE '/(lib|runtime|fuzz)/[^ :]+:[0-9]+(:[0-9]+)?' <<<"$out" |
    head -1 | grep -oE '[^ /]+/[^ /]+:[0-9]+(:[0-9]+)?$' || true)
  # Addresses and values differ between inputs of one finding.
  what=$(sed -E 's/0x[0-9a-f]+/0x…/g; s/-?[0-9]{3,}/N/g' <<<"${what:-?}")
  echo "$what at ${where:-?}"
}

if [[ $report_only != 1 ]]; then
  echo "fuzz.sh: ${targets[*]} for $secs s each, $jobs at a time (logs in $work/<target>/log)"
  running=0
  for t in "${targets[@]}"; do
    run_target "$t" &
    running=$((running + 1))
    if [[ $running -ge $jobs ]]; then
      wait -n
      running=$((running - 1))
    fi
  done
  wait
fi

status=0
printf '%-9s %8s %12s %9s %7s %7s %7s %s\n' target seconds executions "exec/s" cov ft corpus crashes
for t in "${targets[@]}"; do
  log=$work/$t/log
  # Status lines: "#N: cov: X ft: Y corp: Z ..." (fork mode) or
  # "#N  DONE cov: X ft: Y corp: Z/.." (plain mode).
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  elapsed=$(sed -n 's/^INFO: exiting: .* time: \([0-9]*\)s.*/\1/p' "$log" | tail -1)
  [[ -z $elapsed ]] && elapsed=$secs
  rate=?
  [[ -n $execs && $elapsed -gt 0 ]] && rate=$((execs / elapsed))
  mapfile -t found < <(find "$work/$t" -maxdepth 1 -type f \( -name 'crash-*' \
    -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | sort)
  printf '%-9s %8s %12s %9s %7s %7s %7s %s\n' "$t" "$elapsed" "${execs:-?}" \
    "$rate" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${#found[@]}"
  if [[ -z $execs ]]; then
    status=1
    echo "--- $t did not run: $log" >&2
    tail -20 "$log" >&2
  fi
  if [[ ${#found[@]} -gt 0 ]]; then
    status=1
    echo "--- $t: ${#found[@]} failing inputs in $work/$t; distinct findings:" >&2
    for f in "${found[@]:0:40}"; do
      echo "$(signature "$t" "$f")	$(basename "$f")"
    done | sort -t"	" -k1,1 -u | sed 's/^/    /' >&2
  fi
done
exit $status
