#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `tapvault mcp` and `tapvault serve --mcp` against real MCP clients from npm:
# the official SDK (tests/mcp/mcp_sdk.mjs: every tool, outputSchema
# validation, paging, cancellation, bad input) and the conformance suite's
# scenarios that apply to a server of domain tools (server-initialize,
# tools-list; the rest call the reference "everything" server's own tools:
# test_simple_text, prompts, resources, which a packet archive has not).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
ROOT=$(cd "$HERE/../.." && pwd)
need_cmd node python3
[ -d "$ROOT/node_modules/@modelcontextprotocol/sdk" ] || fail "the MCP SDK is missing: run scripts/install-deps.sh"
tv_tmpdir
cd "$TV_TMP"
mkdir -p export cache

note "a store of 300 HTTP exchanges and 300 DNS queries between named pods"
python3 "$HERE/make_store.py" s.pcap k8s.json 300 || fail "make_store"
"$TV" import -q --store "file://$TV_TMP/store" --node n1 --seal-interval 60s --k8s k8s.json s.pcap || fail import
note "a larger one for the cancelled export (600k packets)"
python3 "$HERE/../lib/mkpcap.py" big.pcap 600000 200 1790000000000000000 1000000 7 || fail mkpcap
"$TV" import -q --store "file://$TV_TMP/big" --node n1 --seal-interval 20s big.pcap || fail "import big"
rm -f big.pcap

note "serve (read-only) for Streamable HTTP"
"$TV" serve --store "file://$TV_TMP/store" --listen 127.0.0.1:0 --cache-dir "$TV_TMP/cache" 2>serve.log &
SV=$!
TV_PIDS+=("$SV")
wait_for 10 grep -q "listening on" serve.log || fail "serve did not start: $(cat serve.log)"
URL=$(sed -n 's/.*listening on //p' serve.log)

note "the SDK's client"
(cd "$ROOT" && node tests/mcp/mcp_sdk.mjs "$TV" "file://$TV_TMP/store" "file://$TV_TMP/big" "$TV_TMP/export" \
    "$TV_TMP/cache" "$URL") || fail "mcp_sdk.mjs"

note "conformance scenarios"
for sc in server-initialize tools-list; do
    (cd "$TV_TMP" && node "$ROOT/node_modules/@modelcontextprotocol/conformance/dist/index.mjs" server \
        --url "${URL}mcp" --scenario "$sc") >conf-$sc.log 2>&1 || fail "conformance $sc: $(tail -20 conf-$sc.log)"
    grep -E "^Passed:" conf-$sc.log
    grep -qE "^Passed: ([1-9][0-9]*)/\1, 0 failed" conf-$sc.log || fail "conformance $sc: $(tail -20 conf-$sc.log)"
done
kill -TERM "$SV"; wait "$SV" || fail "serve did not exit cleanly on SIGTERM"
echo "PASS: MCP over stdio and HTTP with the SDK; conformance server-initialize, tools-list"
