#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `tapvault serve --allow-write` in Debian's chromium, driven by playwright-core
# from npm (tests/web/dashboard.mjs). Screenshots of every page are kept in
# ARTIFACT_DIR (default: build/artifacts/dashboard).
#   dashboard.sh path/to/tapvault [ARTIFACT_DIR]
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault [ARTIFACT_DIR]}")
ROOT=$(cd "$HERE/../.." && pwd)
ART=$(realpath -m "${2:-$(dirname "$TV")/artifacts/dashboard}")
need_cmd node python3
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "chromium is missing: run scripts/install-deps.sh"
[ -d "$ROOT/node_modules/playwright-core" ] || fail "playwright-core is missing: run scripts/install-deps.sh"
tv_tmpdir
cd "$TV_TMP"
mkdir -p cache "$ART"
rm -f "$ART"/*.png

T0=1790000000
note "a store of 300 HTTP exchanges and 300 DNS queries between named pods"
python3 "$HERE/../mcp/make_store.py" s.pcap k8s.json 300 $T0 || fail make_store
STORE="file://$TV_TMP/store"
"$TV" import -q --store "$STORE" --node n1 --seal-interval 60s --k8s k8s.json s.pcap || fail import

"$TV" serve --store "$STORE" --listen 127.0.0.1:0 --allow-write --cache-dir "$TV_TMP/cache" 2>serve.log &
SV=$!
TV_PIDS+=("$SV")
wait_for 10 grep -q "listening on" serve.log || fail "serve did not start: $(cat serve.log)"
URL=$(sed -n 's/.*listening on //p' serve.log)
STORE_RO="file://$TV_TMP/store"
"$TV" serve --store "$STORE_RO" --listen 127.0.0.1:0 --cache-dir "$TV_TMP/cache" 2>serve-ro.log &
RO=$!
TV_PIDS+=("$RO")
wait_for 10 grep -q "listening on" serve-ro.log || fail "read-only serve did not start: $(cat serve-ro.log)"
URL_RO=$(sed -n 's/.*listening on //p' serve-ro.log)
FROM=$(date -u -d @$((T0 - 10)) +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d @$((T0 + 310)) +%Y-%m-%dT%H:%M:%SZ)

note "chromium on $URL"
(cd "$ROOT" && CHROMIUM="$CHROMIUM" timeout 300 node tests/web/dashboard.mjs "$TV" "$STORE" "$URL" "$FROM" "$TO" "$ART" "$TV_TMP" "$URL_RO") ||
    fail "dashboard.mjs (serve log: $(tail -5 serve.log))"
ls "$ART"/*.png >/dev/null 2>&1 || fail "no screenshots in $ART"
kill -TERM "$SV" "$RO"; wait "$SV" && wait "$RO" || fail "serve did not exit cleanly on SIGTERM"
echo "PASS: dashboard in chromium; screenshots in $ART"
