#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tapvault-agent under stress. (1) The buffer cap holds under sustained
# traffic: the bytes on disk, sampled every 100 ms, never exceed
# tap.capture.raw.storageSize, and segments dropped before upload are counted
# and logged. (2) 20 kill -9 under traffic leave only readable segments: every
# sealed segment reads back without a damaged frame, the hash chain links
# consecutive segments across restarts, and nothing is left half-sealed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
need_root
need_cmd ip iperf3 curl python3
tv_tmpdir
cd "$TV_TMP"
N=tvn$$ A=tva$$ B=tvb$$
node_with_pods "$N" "$A" "$B"
bg ip netns exec "$A" iperf3 -s -B 10.215.0.2 -p 5201 >iperf-server.log 2>&1
wait_for 10 ip netns exec "$B" bash -c "exec 3<>/dev/tcp/10.215.0.2/5201" || fail "iperf3 server"
buffer_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

note "(1) cap 8 MiB under ~200 Mbit/s of incompressible traffic for 6 s"
CAP=$((8 << 20))
bg ip netns exec "$N" "$AGENT" -n node-a -i vh-a -b "$TV_TMP/cap" --storage-size 8Mi --seal-bytes 1Mi \
    --seal-interval 1s --metrics-addr 127.0.0.1:9110 2>cap-agent.log
AG=$BG_PID
wait_for 10 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9110/metrics || fail "agent did not start"
bg ip netns exec "$B" iperf3 -c 10.215.0.2 -b 200M -t 6
IP=$BG_PID
max=0
while kill -0 "$IP" 2>/dev/null; do
    b=$(buffer_bytes cap)
    [ "$b" -gt "$max" ] && max=$b
    [ "$b" -le "$CAP" ] || fail "buffer holds $b bytes, above the cap $CAP"
    sleep 0.1
done
lost=$(ip netns exec "$N" curl -sf http://127.0.0.1:9110/metrics | awk '$1 == "tapvault_segments_lost_total" {print $2}')
kill -TERM "$AG"; wait "$AG" || fail "agent exit status"
[ "$(buffer_bytes cap)" -le "$CAP" ] || fail "buffer above the cap after exit"
[ "${lost:-0}" -gt 0 ] || fail "no segment was counted lost although nothing uploads"
grep -q "dropping .* before upload (segments_lost_total now" cap-agent.log || fail "losses not logged"
note "cap held: at most $max of $CAP bytes; $lost segments dropped before upload, each logged"

note "(2) 20 x kill -9 under traffic"
bg ip netns exec "$B" iperf3 -c 10.215.0.2 -b 100M -t 60
IP=$BG_PID
# Each kill lands 0.2-1.0 s after that run began capturing: the agent's
# start (BPF load, queue memory warmed up front) takes 0.5-2 s on a busy
# 2-core machine, and a kill before the first packet would test nothing.
for i in $(seq 1 20); do
    ip netns exec "$N" "$AGENT" -n node-a -i vh-a -b "$TV_TMP/crash" --seal-interval 300ms 2>run.log &
    pid=$!
    wait_for 15 grep -q "capturing on" run.log || fail "run $i did not start capturing: $(tail -3 run.log)"
    sleep "0.$((RANDOM % 9 + 2))"
    kill -9 "$pid"; wait "$pid" 2>/dev/null
    cat run.log >> crash-agent.log
done
kill "$IP"; wait "$IP" 2>/dev/null
# a last, clean run salvages what the last kill left
ip netns exec "$N" "$AGENT" -n node-a -i vh-a -b "$TV_TMP/crash" --seal-interval 300ms 2>>crash-agent.log &
pid=$!
sleep 1; kill -TERM "$pid"; wait "$pid" || fail "final clean run failed: $(tail -3 crash-agent.log)"
[ -z "$(ls crash/open)" ] || fail "open/ not empty: $(ls crash/open)"
salvaged=$(grep -c "salvage: recovered" crash-agent.log)
"$TV" segment list --store crash > segs.txt || fail "segment list"
n=$(wc -l < segs.txt)
[ "$n" -ge 20 ] || fail "only $n segments after 21 runs"
while read -r stem _; do
    "$TV" segment cat --store crash -o /dev/null "$stem" 2>cat.err || fail "$stem unreadable: $(cat cat.err)"
done < segs.txt
# every data object has its index (nothing half-sealed)
find crash/v1 -name '*.pcapng.zst' | while read -r f; do
    [ -f "${f%.pcapng.zst}.idx" ] || fail "data without index: $f"
done || exit 1
python3 - "$TV" <<'PY' || fail "hash chain broken"
import hashlib, json, subprocess, sys
tv = sys.argv[1]
stems = [l.split("\t")[0] for l in open("segs.txt")]
seqs = {}
for s in stems:
    info = json.loads(subprocess.check_output([tv, "segment", "info", "--store", "crash", s]))
    raw = open(f"crash/{s}.idx", "rb").read()
    seqs[info["seq"]] = (hashlib.sha256(raw).hexdigest(), info["prev_index_sha256"])
links = 0
for seq, (sha, prev) in seqs.items():
    if seq - 1 in seqs:
        assert prev == seqs[seq - 1][0], f"segment {seq} does not link to {seq - 1}"
        links += 1
print(f"hash chain: {links} links verified over {len(seqs)} segments")
PY
echo "PASS: cap held (max $max/$CAP, $lost lost and logged); 20 kill -9: $n readable segments, $salvaged salvaged"
