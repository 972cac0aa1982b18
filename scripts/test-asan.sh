#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Unit tests and fuzz-corpus replays under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh Asan
cd build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -L 'unit|fuzz|cli'
