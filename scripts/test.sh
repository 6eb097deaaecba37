#!/usr/bin/env bash
# Sets up (see setup.sh), builds, and runs the whole test suite through ctest.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
build="${UMBRA_BUILD_DIR:-$here/build}"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
