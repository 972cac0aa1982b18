#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds one build type into build/ (Dev) or build-<type>/ (Asan, Release, Fuzz).
#   scripts/build.sh [Dev|Asan|Release|Fuzz]
set -euo pipefail
cd "$(dirname "$0")/.."
type=${1:-Dev}
dir=build
[ "$type" = Dev ] || dir=build-$(echo "$type" | tr '[:upper:]' '[:lower:]')
extra=()
[ "$type" = Fuzz ] && extra=(-DCMAKE_C_COMPILER=clang)
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE="$type" "${extra[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "build: $type in $dir/"
