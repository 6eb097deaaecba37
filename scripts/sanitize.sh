#!/usr/bin/env bash
# Sanitizer builds and their test runs (docs/fuzzing.md).
#
#   scripts/sanitize.sh [asan|tsan|all] [CTEST-REGEX]
#
# asan: build-asan/, everything (compiler, runtime, tools, tests, fuzz
#       replay targets) built by clang-22 with AddressSanitizer and
#       UndefinedBehaviorSanitizer (-fno-sanitize-recover=undefined: the
#       first UB report fails the test), then the whole ctest suite.
# tsan: build-tsan/, the runtime alone (UMBRA_ENABLE_COMPILER=OFF) with
#       ThreadSanitizer, then its tests (runtime gtests, process tests, the
#       runtime fuzz replays; not python-pytest, which runs no runtime code).
# all (default): both. CTEST-REGEX limits the tests run (ctest -R).
#
# The system libraries (MLIR, protobuf, ONNX, OpenSSL, libstdc++) are
# Debian's uninstrumented builds; our code is instrumented. The ASan tree
# is compiled with the fuzz build's flags (scripts/sanitizer-flags.sh), so
# ccache shares the objects of scripts/fuzz.sh's tree. Exits non-zero
# when a build or a test fails; a sanitizer report makes its test fail.
# Environment: UMBRA_SANITIZE_JOBS (build parallelism, default 2),
# UMBRA_SANITIZE_TEST_JOBS (ctest parallelism, default the same),
# UMBRA_SANITIZE_NICE (niceness, default 10).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
regex=${2:-}
jobs=${UMBRA_SANITIZE_JOBS:-2}
test_jobs=${UMBRA_SANITIZE_TEST_JOBS:-$jobs}
niceness=${UMBRA_SANITIZE_NICE:-10}
llvm=/usr/lib/llvm-22

case $what in
  asan | tsan | all) ;;
  *)
    echo "sanitize.sh: expected asan, tsan or all, got '$what'" >&2
    exit 2
    ;;
esac
if ! command -v clang++-22 >/dev/null; then
  echo "sanitize.sh: clang++-22 is missing; install it with" >&2
  echo "  apt-get update && apt-get install -y clang-22 libclang-rt-22-dev" >&2
  exit 2
fi

# Configures (once) and builds one sanitizer tree.
build_tree() {
  local dir=$1 flags=$2
  shift 2
  if [[ ! -f $dir/build.ninja ]]; then
    mkdir -p "$dir"
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DCMAKE_C_FLAGS_RELEASE="$flags -DNDEBUG" \
      -DCMAKE_CXX_FLAGS_RELEASE="$flags -DNDEBUG" \
      -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" \
      -DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache \
      "$@" >"$dir/configure.log" 2>&1 ||
      { cat "$dir/configure.log" >&2; return 1; }
  fi
  nice -n "$niceness" ninja -C "$dir" -j"$jobs"
}

run_tests() {
  local dir=$1
  shift
  local args=(--test-dir "$dir" -j"$test_jobs" --output-on-failure "$@")
  [[ -n $regex ]] && args+=(-R "$regex")
  nice -n "$niceness" ctest "${args[@]}"
}

export ASAN_SYMBOLIZER_PATH=$llvm/bin/llvm-symbolizer
export TSAN_SYMBOLIZER_PATH=$llvm/bin/llvm-symbolizer
# shellcheck source=sanitizer-flags.sh
source "$root/scripts/sanitizer-flags.sh"
status=0

if [[ $what == asan || $what == all ]]; then
  echo "== ASan+UBSan: build-asan"
  export ASAN_OPTIONS=${ASAN_OPTIONS:-$UMBRA_ASAN_OPTIONS:check_initialization_order=1:strict_init_order=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  build_tree "$root/build-asan" "$UMBRA_ASAN_FLAGS" || exit 1
  run_tests "$root/build-asan" || status=1
fi

if [[ $what == tsan || $what == all ]]; then
  echo "== TSan: build-tsan (runtime)"
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}
  build_tree "$root/build-tsan" "$UMBRA_TSAN_FLAGS" \
    -DUMBRA_ENABLE_COMPILER=OFF || exit 1
  # python-pytest is the model side (torch), no runtime code.
  run_tests "$root/build-tsan" -E '^python-pytest$' || status=1
fi

if [[ $status -ne 0 ]]; then
  echo "sanitize.sh: some tests failed (see above)" >&2
fi
exit $status
