#!/usr/bin/env bash
# Regenerates the dialect and pass reference pages into docs/generated/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="${UMBRA_BUILD_DIR:-$here/build}"
cmake --build "$build" --target mlir-doc
rm -rf "$here/docs/generated"
cp -r "$build/docs" "$here/docs/generated"
