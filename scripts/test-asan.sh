#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Unit tests and fuzz-corpus replays under AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh Asan
cd build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -L 'unit|fuzz|cli'
# The s3:// store against RGW too (its fixture starts and stops the server).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --output-on-failure -R '^s3_(rgw_start|store|rgw_stop)$'
