#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Agent + uploader + real RGW, end to end, live. Run through with_rgw.sh.
# 1. The agent captures curl <-> nginx in pod namespaces; the uploader watches
#    the buffer and ships to RGW. After the agent stops and the backlog drains:
#    every segment object is in the bucket byte-identical to the buffer, each
#    segment's index was stored after its data and events, every segment is
#    marked uploaded, `tapvault verify` and `tapvault pcap` work on s3://.
# 2. The store goes down (radosgw stopped) while the agent fills a small
#    buffer with iperf3 traffic: the buffer never exceeds its cap, the oldest
#    segments are dropped and counted; radosgw back up, the uploader drains
#    what is left and marks nothing it did not store.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/s3.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
UPLOADER=$(dirname "$TV")/../uploader/tapvault-uploader
need_root
need_rgw
need_cmd ip nginx curl iperf3 python3 /usr/bin/aws
tv_tmpdir
cd "$TV_TMP"
PREFIX=e2e-$$
STORE=s3://$RGW_BUCKET/$PREFIX
N=tun$$ A=tua$$ B=tub$$
node_with_pods "$N" "$A" "$B"
mkdir -p www && head -c 2000000 /dev/urandom > www/blob.bin && echo hi > www/index.html
start_nginx "$A" "$TV_TMP" 10.215.0.2 80
bg ip netns exec "$A" iperf3 -s -B 10.215.0.2 -p 5201 >iperf-server.log 2>&1
wait_for 10 ip netns exec "$B" bash -c "exec 3<>/dev/tcp/10.215.0.2/5201" || fail "iperf3 server"

uploader_metric() { curl -sf "http://127.0.0.1:$UPORT/metrics" | metric_value "$1"; }
agent_metric() { ip netns exec "$N" curl -sf http://127.0.0.1:9110/metrics | metric_value "$1"; }
start_agent() { # CAP
    bg ip netns exec "$N" "$AGENT" -n node-e2e -i vh-a -i vh-b -b "$TV_TMP/buf" --seal-interval 1s --seal-bytes 4Mi \
        --storage-size "$1" --metrics-addr 127.0.0.1:9110 --log-level info 2>>agent.log
    AGENT_PID=$BG_PID
    wait_for 10 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9110/metrics || fail "agent: $(tail -3 agent.log)"
}
stop_agent() { kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || fail "agent exited non-zero: $(tail -3 agent.log)"; }

UPORT=$(free_port)
note "phase 1: agent + live uploader"
start_agent 256Mi
bg "$UPLOADER" --buffer "$TV_TMP/buf" --store "$STORE" --metrics-addr 127.0.0.1:$UPORT --rescan 2s \
    --log-level debug 2>uploader.log
UPLOADER_PID=$BG_PID
for i in $(seq 1 6); do
    ip netns exec "$B" curl -sf -o /dev/null http://10.215.0.2/blob.bin -o /dev/null http://10.215.0.2/index.html || fail curl
    sleep 0.4
done
stop_agent
wait_for 60 all_marked buf || fail "backlog did not drain: $(tail -5 uploader.log)"
same_as_buffer buf "$PREFIX"
sealed=$(find buf/v1 -name '*.idx' | wc -l)
marked=$(find buf/.uploaded -type f | wc -l)
[ "$sealed" -ge 3 ] && [ "$marked" = "$sealed" ] || fail "$sealed sealed segments, $marked marked uploaded"
# index last: per segment, its .idx was stored after its data and events
python3 - uploader.log <<'PY' || fail "an index was stored before its data or events"
import re, sys
order = {}
for n, line in enumerate(open(sys.argv[1])):
    m = re.search(r"stored (\S+?)(\.pcapng\.zst|\.events\.jsonl\.zst|\.idx)$", line.strip())
    if m:
        order.setdefault(m.group(1), {})[m.group(2)] = n
bad = [s for s, o in order.items() if ".idx" not in o or any(o[k] > o[".idx"] for k in o if k != ".idx")]
print(f"{len(order)} segments stored, index last in each" if not bad else f"bad: {bad[:3]}")
sys.exit(1 if bad or not order else 0)
PY
"$TV" verify --store "$STORE" >verify.txt || fail "verify on s3: $(cat verify.txt)"
grep -q '^INTACT' verify.txt || fail "verify: $(cat verify.txt)"
"$TV" pcap --store "$STORE" --from 0 --to now -o from-s3.pcapng 2>/dev/null || fail "pcap from s3"
"$TV" pcap --store buf --from 0 --to now -o from-buf.pcapng 2>/dev/null || fail "pcap from buffer"
cmp from-s3.pcapng from-buf.pcapng || fail "the window read from s3 differs from the buffer's"
note "phase 1 ok: $sealed segments shipped, $(capinfos -c -M from-s3.pcapng | awk '/Number/ {print $NF}') packets read back from s3"

note "phase 2: store down, small buffer filled by iperf3"
"$HERE/../../scripts/rgw.sh" stop-rgw "$RGW_DIR"
CAP=$((24 * 1024 * 1024))
start_agent 24Mi
peak=0
sample() {
    local b
    b=$(find buf -type f -not -path 'buf/.uploaded/*' -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    [ "$b" -gt "$peak" ] && peak=$b
}
ip netns exec "$B" timeout 20 iperf3 -c 10.215.0.2 -b 400M -t 4 >iperf.log 2>&1 &
IPERF=$!
while kill -0 $IPERF 2>/dev/null; do sample; sleep 0.1; done
wait $IPERF || fail "iperf3: $(tail -3 iperf.log)"
sleep 1.5
sample
lost=$(agent_metric tapvault_segments_lost_total)
stop_agent
sample
echo "buffer peak $peak bytes, cap $CAP; segments lost before upload: $lost"
[ "$peak" -le "$CAP" ] || fail "buffer reached $peak bytes, above its cap of $CAP"
[ "${lost:-0}" -gt 0 ] || fail "expected the agent to drop segments before upload (lost=$lost)"
grep -q "before upload" agent.log || fail "the agent did not log the lost segments"
[ "$(uploader_metric tapvault_uploader_backlog_segments)" -gt 0 ] || fail "no backlog while the store is down"
errs=$(uploader_metric 'tapvault_uploader_errors_total{class="transient"}')
[ "${errs:-0}" -gt 0 ] || fail "the uploader counted no transient errors while the store was down"

note "store back: the backlog drains"
"$HERE/../../scripts/rgw.sh" start-rgw "$RGW_DIR"
wait_for 120 all_marked buf || fail "backlog did not drain after the store came back: $(tail -5 uploader.log)"
# every segment still in the buffer is in the bucket, identical; all are marked
for f in $(cd buf && find v1 -type f); do
    awscli s3 cp --quiet "s3://$RGW_BUCKET/$PREFIX/$f" got.tmp || fail "missing in bucket: $f"
    cmp -s got.tmp "buf/$f" || fail "differs in bucket: $f"
done
sealed=$(find buf/v1 -name '*.idx' | wc -l)
marked=0
for idx in $(cd buf && find v1 -name '*.idx'); do
    [ -e "buf/.uploaded/${idx%.idx}" ] && marked=$((marked + 1))
done
[ "$marked" = "$sealed" ] || fail "$sealed segments in the buffer, $marked marked uploaded"
kill -TERM "$UPLOADER_PID"; wait "$UPLOADER_PID" || fail "uploader exited non-zero"
echo "PASS: live upload identical and index-last; cap held at $peak <= $CAP with $lost lost; backlog of $sealed drained after the outage"
