#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's main job, end to end on the embedded default (a file:// store):
#   1. a "node" network namespace with two "pods" joined to it by veths, as a
#      CNI does; nginx and dnsmasq in one pod, curl and dig in the other;
#   2. tapvault-agent captures the node-side veths into its rolling buffer
#      (a file:// store with the object-store key layout), tcpdump alongside
#      as the reference;
#   3. the buffer is listed, a segment inspected and opened with tshark, and
#      every packet tcpdump saw is checked to be in the agent's segments;
#   4. tcpdump's capture is also imported as a second "node" with
#      `tapvault import`, showing the path for existing captures;
#   5. `tapvault ls`, `verify` and a cluster-wide `pcap` window over both
#      nodes (the same packets seen twice are kept once);
#   6. `tapvault dissect` turns that window into API entries (HTTP, DNS), the
#      two pods named from Kubernetes objects given with --k8s.
# Alongside the agent, tapvault-uploader ships every sealed segment from the
# buffer to the archive store, which steps 4-5 then read:
#   scripts/demo.sh                          archive: file:///var/tmp/tapvault-demo/archive
#   TAPVAULT_DEMO_STORE=rgw scripts/demo.sh  archive: a Ceph RGW started on loopback
#                                            (scripts/rgw.sh), s3://tapvault/demo
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh Release
BIN=$PWD/build-release
TV=$BIN/dissector/tapvault
AGENT=$BIN/nodeagent/tapvault-agent
UPLOADER=$BIN/uploader/tapvault-uploader
OUT=${TAPVAULT_DEMO_DIR:-/var/tmp/tapvault-demo}
STORE="file://$OUT/buffer"
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root to create network namespaces (run with sudo)"; exit 1; }

. tests/lib/common.sh
[ -d "$OUT/rgw" ] && scripts/rgw.sh stop "$OUT/rgw" >/dev/null 2>&1
rm -rf "$OUT"; mkdir -p "$OUT"
if [ "${TAPVAULT_DEMO_STORE:-file}" = rgw ]; then
    echo "demo: starting a Ceph RADOS Gateway on loopback (scripts/rgw.sh, ~15 s)"
    scripts/rgw.sh start "$OUT/rgw"
    eval "$(scripts/rgw.sh env "$OUT/rgw")"
    export AWS_CONFIG_FILE=$OUT/rgw/aws-config AWS_SHARED_CREDENTIALS_FILE=$OUT/rgw/aws-config
    ARCHIVE="s3://$RGW_BUCKET/demo"
    trap 'tv_cleanup; scripts/rgw.sh stop "$OUT/rgw" >/dev/null 2>&1' EXIT
else
    ARCHIVE="file://$OUT/archive"
fi
TV_TMP=$(mktemp -d /tmp/tv-demo.XXXXXX)
N=tvdemo-node A=tvdemo-web B=tvdemo-client
for ns in "$N" "$A" "$B"; do ip netns del "$ns" 2>/dev/null || true; done
node_with_pods "$N" "$A" "$B"
mkdir -p "$TV_TMP/www"; echo hello > "$TV_TMP/www/index.html"
python3 -c "import json; print(json.dumps([{'id': i, 'name': 'item %d' % i} for i in range(20000)]))" > "$TV_TMP/www/items.json"
start_nginx "$A" "$TV_TMP" 10.215.0.2 80
bg ip netns exec "$A" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=10.215.0.2 --bind-interfaces \
    --address=/svc.demo/10.215.0.2 --pid-file="$TV_TMP/dnsmasq.pid" -q 2>"$TV_TMP/dnsmasq.log"

echo "demo: starting tapvault-agent on the node-side veths (buffer $OUT/buffer)"
bg ip netns exec "$N" "$AGENT" --node demo-node -i vh-a -i vh-b -b "$OUT/buffer" --seal-interval 2s \
    --metrics-addr 127.0.0.1:9100 2>"$OUT/agent.log"
AGENT_PID=$BG_PID
wait_for 10 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9100/metrics || { cat "$OUT/agent.log"; exit 1; }
echo "demo: starting tapvault-uploader: $OUT/buffer -> $ARCHIVE"
bg "$UPLOADER" --buffer "$OUT/buffer" --store "$ARCHIVE" --metrics-addr 127.0.0.1:9101 2>"$OUT/uploader.log"
UPLOADER_PID=$BG_PID
wait_for 10 curl -sf -o /dev/null http://127.0.0.1:9101/metrics || { cat "$OUT/uploader.log"; exit 1; }
bg ip netns exec "$N" tcpdump -i vh-a -s 0 --time-stamp-precision=nano -w "$OUT/tcpdump-vh-a.pcap" 2>"$TV_TMP/td.log"
TD=$BG_PID
wait_for 10 grep -q "listening on" "$TV_TMP/td.log"

echo "demo: traffic for ~6 s (curl -> nginx, dig -> dnsmasq) from pod $B to pod $A"
end=$((SECONDS + 6))
while [ $SECONDS -lt $end ]; do
    ip netns exec "$B" curl -s -o /dev/null -o /dev/null http://10.215.0.2/index.html http://10.215.0.2/items.json
    ip netns exec "$B" curl -s -o /dev/null http://10.215.0.2/missing
    ip netns exec "$B" dig +short @10.215.0.2 api.svc.demo >/dev/null
done
sleep 0.3
stop_pid "$TD"
echo "demo: agent metrics:"
ip netns exec "$N" curl -sf http://127.0.0.1:9100/metrics | grep -E '^tapvault_(packets_total|kernel_drops_total|segments_sealed_total|compression_ratio)'
kill -TERM "$AGENT_PID"; wait "$AGENT_PID"
wait_for 60 all_marked "$OUT/buffer" || { echo "demo: the uploader did not drain its backlog"; tail "$OUT/uploader.log"; exit 1; }
echo "demo: uploader metrics (everything sealed is in $ARCHIVE):"
curl -sf http://127.0.0.1:9101/metrics | grep -E '^tapvault_uploader_(segments_uploaded_total|bytes_uploaded_total|backlog_segments|retries_total)'
kill -TERM "$UPLOADER_PID"; wait "$UPLOADER_PID"

echo "demo: sealed segments in the buffer (stem, start, end, packets, bytes):"
"$TV" segment list --store "$STORE" | tee "$OUT/segments.txt"
first=$(sed -n 2p "$OUT/segments.txt" | cut -f1)
echo "demo: Wireshark's tshark opens a compressed segment directly ($first):"
tshark -r "$OUT/buffer/$first.pcapng.zst" -c 5 2>/dev/null
echo "demo: one conversation out of that segment, decompressing only its frames:"
flow=$("$TV" segment info --flows --store "$STORE" "$first" | python3 -c '
import json, sys
flows = [f for f in json.load(sys.stdin)["flows"] if f["flow"].startswith("tcp")]
print(max(flows, key=lambda f: f["bytes"])["flow"])')
echo "  $flow"
"$TV" segment cat --store "$STORE" --flow "$flow" -o "$OUT/one-flow.pcapng" "$first"
capinfos -c "$OUT/one-flow.pcapng" | tail -1

echo "demo: checking that every packet tcpdump saw on vh-a is in the agent's segments"
i=0
while read -r stem _; do
    "$TV" segment cat --store "$STORE" -o "$TV_TMP/$(printf s%05d.pcapng "$i")" "$stem"; i=$((i + 1))
done < "$OUT/segments.txt"
mergecap -a -w "$OUT/agent-all.pcapng" "$TV_TMP"/s*.pcapng
python3 tests/lib/pcaps.py contains "$OUT/tcpdump-vh-a.pcap" "$OUT/agent-all.pcapng" vh-a 20000

echo "demo: importing tcpdump's capture as node 'tcpdump-node' into the archive"
"$TV" import -q --store "$ARCHIVE" --node tcpdump-node "$OUT/tcpdump-vh-a.pcap"
echo "demo: the archive now (tapvault ls --store $ARCHIVE):"
"$TV" ls --store "$ARCHIVE"
echo "demo: verifying every object and the hash chains (tapvault verify):"
"$TV" verify --store "$ARCHIVE" | tail -1
from=$(sed -n 2p "$OUT/segments.txt" | cut -f2); to=$(sed -n 3p "$OUT/segments.txt" | cut -f2)
echo "demo: the window $from .. $to across both nodes, merged and deduplicated (tapvault pcap):"
"$TV" pcap --stats --store "$ARCHIVE" --from "$from" --to "$to" -o "$OUT/window.pcapng"
# The agent records no Kubernetes objects yet: the two "pods" are named from
# the objects `kubectl get pods,services -A -o json` would print for them.
cat >"$OUT/k8s.json" <<'JSON'
{"kind": "List", "items": [
 {"kind": "Pod", "metadata": {"name": "api-7f9c", "namespace": "demo"}, "spec": {"nodeName": "demo-node"},
  "status": {"podIP": "10.215.0.2"}},
 {"kind": "Pod", "metadata": {"name": "web-5d2a", "namespace": "demo"}, "spec": {"nodeName": "demo-node"},
  "status": {"podIP": "10.215.0.3"}}]}
JSON
echo "demo: the API calls in that window (tapvault dissect, JSON Lines, one entry per request/response):"
"$TV" dissect --stats --store "$ARCHIVE" --from "$from" --to "$to" --node demo-node --k8s "$OUT/k8s.json" \
    -o "$OUT/api.jsonl"
python3 - "$OUT/api.jsonl" <<'PY'
import collections, json, sys
entries = [json.loads(l) for l in open(sys.argv[1])]
print("  entries by protocol:", dict(collections.Counter(e["protocol"]["name"] for e in entries)))
for e in entries[:4]:
    r, s = e["request"] or {}, e["response"] or {}
    what = f'{r.get("method")} {r.get("path")} -> {s.get("status")}' if e["protocol"]["name"] == "http" else \
        f'{r["questions"][0]["name"]} {r["questions"][0]["type"]} -> {s.get("rcode")} {[a["data"] for a in s.get("answers", [])]}'
    who = lambda p: f'{p["namespace"]}/{p["name"]}' if p["name"] else p["ip"]
    print(f'  {e["startTime"]} {who(e["src"])}:{e["src"]["port"]} > {who(e["dst"])}:{e["dst"]["port"]} {e["protocol"]["name"]}: {what} ({e["elapsedTime"]:.3f} ms)')
PY
cap=$(stat -c %s "$OUT/tcpdump-vh-a.pcap")
agent_bytes=$(du -sb "$OUT/buffer/v1/nodes/demo-node" | cut -f1)
echo "demo: OK - tcpdump wrote $cap bytes for one interface; the agent stored both interfaces in $agent_bytes bytes"
echo "demo: buffer at $OUT/buffer, archive at $ARCHIVE (try: $TV ls --store $ARCHIVE)"
