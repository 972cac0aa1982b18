#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tapvault-agent against tcpdump on real traffic. A "node" namespace with two
# "pods" joined to it by veths (as a CNI does); the agent and tcpdump capture
# the node-side veths. Traffic: curl <-> nginx, dig <-> dnsmasq (UDP, TCP,
# NXDOMAIN), iperf3 TCP and UDP. Guards: every packet tcpdump saw is in the
# agent's segments (bytes, original length, timestamp), no kernel drops, the
# metrics endpoint answers, SIGTERM seals and exits 0 within 2 s.
# STREAMS=N runs the agent with agent.streams=N: each flow in one stream,
# filed under node-a, node-a_s1, ...; then every stream must hold segments,
# each verify as its own chain, and a window over node-a must hold them all.
set -u
STREAMS=${STREAMS:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
need_root
need_cmd ip nginx curl tcpdump dig dnsmasq iperf3 python3
tv_tmpdir
cd "$TV_TMP"
N=tvn$$ A=tva$$ B=tvb$$
node_with_pods "$N" "$A" "$B"
mkdir -p www && echo hello > www/index.html && head -c 3000000 /dev/urandom > www/blob.bin
python3 -c "import json; print(json.dumps([{'id': i} for i in range(20000)]))" > www/items.json
start_nginx "$A" "$TV_TMP" 10.215.0.2 80
bg ip netns exec "$A" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=10.215.0.2 --bind-interfaces \
    --address=/svc.test/10.9.8.7 --pid-file="$TV_TMP/dnsmasq.pid" --log-facility=- -q 2>dnsmasq.log
bg ip netns exec "$A" iperf3 -s -B 10.215.0.2 -p 5201 >iperf-server.log 2>&1
wait_for 10 ip netns exec "$B" bash -c "exec 3<>/dev/tcp/10.215.0.2/5201" || fail "iperf3 server"

note "agent (first) and tcpdump (second) on the node-side veths"
bg ip netns exec "$N" "$AGENT" -n node-a -i vh-a -i vh-b -b "$TV_TMP/buf" --seal-interval 2s --storage-size 8Gi \
    --metrics-addr 127.0.0.1:9109 --log-level info --set agent.streams="$STREAMS" 2>agent.log
AGENT_PID=$BG_PID
wait_for 10 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9109/metrics || fail "agent metrics: $(cat agent.log)"
bg ip netns exec "$N" tcpdump -i vh-a -s 0 --time-stamp-precision=nano -w ref-a.pcap -U 2>ref-a.log
TA=$BG_PID
bg ip netns exec "$N" tcpdump -i vh-b -s 0 --time-stamp-precision=nano -w ref-b.pcap -U 2>ref-b.log
TB=$BG_PID
wait_for 10 grep -q "listening on" ref-a.log && wait_for 10 grep -q "listening on" ref-b.log || fail tcpdump

note "traffic"
for i in 1 2 3; do
    ip netns exec "$B" curl -sf -o /dev/null -o /dev/null -o /dev/null http://10.215.0.2/index.html \
        http://10.215.0.2/items.json http://10.215.0.2/blob.bin || fail curl
done
ip netns exec "$B" curl -s -o /dev/null http://10.215.0.2/missing
[ "$(ip netns exec "$B" dig +short @10.215.0.2 a.svc.test)" = 10.9.8.7 ] || fail "dig UDP"
[ "$(ip netns exec "$B" dig +short +tcp @10.215.0.2 b.svc.test)" = 10.9.8.7 ] || fail "dig TCP"
ip netns exec "$B" dig @10.215.0.2 nothing.invalid | grep -q "status: REFUSED\|status: NXDOMAIN" || fail "dig NXDOMAIN"
ip netns exec "$B" timeout 20 iperf3 -c 10.215.0.2 -b 500M -t 3 >iperf-tcp.log 2>&1 || fail "iperf3 TCP: $(tail -3 iperf-tcp.log)"
ip netns exec "$B" timeout 20 iperf3 -c 10.215.0.2 -u -b 50M -t 2 >iperf-udp.log 2>&1 || fail "iperf3 UDP: $(tail -3 iperf-udp.log)"
sleep 0.5

note "stop tcpdump, then the agent (SIGTERM)"
stop_pid "$TA"; stop_pid "$TB"
t0=$(date +%s%N)
kill -TERM "$AGENT_PID"; wait "$AGENT_PID"; rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$rc" = 0 ] || fail "agent exited $rc: $(tail -5 agent.log)"
[ "$ms" -le 2000 ] || fail "agent took $ms ms to seal and exit (limit 2000)"
note "agent sealed and exited 0 in $ms ms"
[ -z "$(ls buf/open)" ] || fail "open/ not empty after a clean exit: $(ls buf/open)"

note "every packet tcpdump saw is in the segments"
"$TV" segment list --store buf > segs.txt
[ "$(wc -l < segs.txt)" -ge 3 ] || fail "expected several sealed segments"
i=0
while read -r stem _; do
    "$TV" segment cat --store buf -o "$(printf s%05d.pcapng "$i")" "$stem" || fail "segment cat $stem"
    i=$((i + 1))
done < segs.txt
mergecap -a -w agent.pcapng s*.pcapng || fail mergecap
note "index counters"
drops=0
while read -r stem _; do
    d=$("$TV" segment info --store buf "$stem" | python3 -c 'import json,sys; print(sum(i["drops_kernel"] for i in json.load(sys.stdin)["interfaces"]))')
    drops=$((drops + d))
done < segs.txt
# When a packet carries no timestamp yet, the kernel stamps each packet
# socket's copy separately as it delivers it, so the agent's and tcpdump's
# timestamps of one packet differ by the time between two deliveries: tens of
# microseconds here, more when a VM's vCPU is descheduled in between (CI saw a
# miss at the former 1 ms limit). The bytes must still match exactly; the
# closest timestamp wins among identical copies. Allow 20 ms and print the
# worst difference seen.
python3 "$HERE/../lib/pcaps.py" contains ref-a.pcap agent.pcapng vh-a 20000 || fail "(kernel drops recorded: $drops; tcpdump: $(grep -h dropped ref-?.log | tr '\n' ' '))"
python3 "$HERE/../lib/pcaps.py" contains ref-b.pcap agent.pcapng vh-b 20000 || fail "(kernel drops recorded: $drops; tcpdump: $(grep -h dropped ref-?.log | tr '\n' ' '))"

[ "$drops" = 0 ] || fail "kernel drops recorded: $drops"
if [ "$STREAMS" -gt 1 ]; then
    note "$STREAMS streams: each has segments and its own intact chain; a window over node-a holds them all"
    for k in $(seq 1 $((STREAMS - 1))); do
        grep -q "node-a_s$k" segs.txt || fail "no segments of stream $k: $(cut -d' ' -f1 segs.txt | head)"
    done
    "$TV" verify --store buf >verify.txt 2>&1 || fail "verify: $(tail -5 verify.txt)"
    "$TV" pcap --store buf --from 2000-01-01T00:00:00Z --to 2100-01-01T00:00:00Z --node node-a --no-dedup -o window.pcapng ||
        fail "pcap --node node-a"
    [ "$(capinfos -Mc window.pcapng | awk -F': *' '/packets/ {print $2}')" = \
      "$(capinfos -Mc agent.pcapng | awk -F': *' '/packets/ {print $2}')" ] || fail "the window over node-a misses packets of its streams"
fi
grep -q "dropped every capability but CAP_NET_RAW" agent.log || fail "capabilities were not dropped"
echo "PASS: agent ($STREAMS stream(s)) captured every reference packet on 2 interfaces, $(wc -l < segs.txt) segments, 0 drops, exit in $ms ms"
