#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's test command: installs what is needed, builds, runs the whole
# suite under CTest (unit, fuzz-corpus replays, CLI, format, integration in
# network namespaces; root-only tests skip with a reason when not root).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh Dev
cd build
ctest --output-on-failure --timeout 900 "$@"
