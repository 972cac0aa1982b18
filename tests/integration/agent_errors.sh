#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tapvault-agent bad input and control: a missing interface, a bad config,
# an unusable buffer directory and missing privileges each give a clear error
# and a non-zero exit; a full disk is logged and counted while the agent keeps
# running (no crash loop) and the buffer stays readable; SIGHUP with
# tap.capture.stopped pauses and resumes capture; --read replays a capture
# through the pipeline with every packet and timestamp kept; a pod's veth
# deleted and created again is reopened and captured again.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
need_root
need_cmd ip curl setpriv python3 tcpdump
tv_tmpdir
cd "$TV_TMP"
MNT=""
cleanup_mount() { [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; tv_cleanup; }
trap cleanup_mount EXIT

expect_exit() { # CODE PATTERN CMD...
    local code=$1 pattern=$2; shift 2
    "$@" >out.txt 2>&1; local got=$?
    [ "$got" = "$code" ] || fail "'$*' exited $got, expected $code: $(tail -3 out.txt)"
    grep -qE -- "$pattern" out.txt || fail "'$*': no /$pattern/ in: $(tail -3 out.txt)"
}

note "bad input exits with a clear error"
expect_exit 1 "interface no-such-if0: .*(No such device|doesn't exist)" "$AGENT" -n n1 -i no-such-if0 -b "$TV_TMP/b1"
printf 'agent:\n  sealBytes: huge\n' > bad.yaml
expect_exit 2 "bad.yaml:2:14: bad value 'huge' for agent.sealBytes" "$AGENT" -c bad.yaml -n n1
touch not-a-dir
expect_exit 1 "mkdir .*not-a-dir/buf: Not a directory" "$AGENT" -n n1 -i lo -b "$TV_TMP/not-a-dir/buf"
chmod 755 "$TV_TMP"; mkdir -p nobody-buf && chown nobody nobody-buf
expect_exit 1 "interface lo: .*(permission|Operation not permitted).*CAP_NET_RAW" \
    setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all --bounding-set=-all \
    "$AGENT" -n n1 -i lo -b "$TV_TMP/nobody-buf"

N=tvn$$ A=tva$$ B=tvb$$
node_with_pods "$N" "$A" "$B"
bg ip netns exec "$A" iperf3 -s -B 10.215.0.2 -p 5201 >iperf-server.log 2>&1
wait_for 10 ip netns exec "$B" bash -c "exec 3<>/dev/tcp/10.215.0.2/5201" || fail "iperf3 server"
metric() { ip netns exec "$N" curl -sf "http://127.0.0.1:$1/metrics" | awk -v k="$2" '$1 == k {print $2}'; }
paused_is() { [ "$(metric 9121 tapvault_capture_paused)" = "$1" ]; }

note "full disk: a 6 MiB tmpfs under a 64 MiB cap"
mkdir -p small && mount -t tmpfs -o size=6m tmpfs small && MNT=$TV_TMP/small
bg ip netns exec "$N" "$AGENT" -n n1 -i vh-a -b "$TV_TMP/small/buf" --storage-size 64Mi --seal-bytes 1Mi \
    --seal-interval 1s --metrics-addr 127.0.0.1:9120 2>full.log
AG=$BG_PID
wait_for 10 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9120/metrics || fail "agent did not start"
ip netns exec "$B" timeout 20 iperf3 -c 10.215.0.2 -b 100M -t 4 >/dev/null 2>&1
kill -0 "$AG" || fail "agent died on a full disk: $(tail -3 full.log)"
errors=$(metric 9120 tapvault_write_errors_total)
[ "${errors:-0}" -gt 0 ] || fail "no write error counted on a full disk"
grep -q "No space left on device" full.log || fail "full disk not logged: $(tail -3 full.log)"
kill -TERM "$AG"; wait "$AG"
"$TV" segment list --store small/buf > full-segs.txt || fail "buffer unreadable after a full disk"
note "full disk: agent alive, $errors write errors counted and logged, $(wc -l < full-segs.txt) segments readable"
umount "$MNT"; MNT=""

note "SIGHUP flips tap.capture.stopped"
printf 'tap:\n  capture:\n    stopped: true\n' > live.yaml
bg ip netns exec "$N" "$AGENT" -c "$TV_TMP/live.yaml" -n n1 -i vh-a -b "$TV_TMP/hup" \
    --metrics-addr 127.0.0.1:9121 2>hup.log
AG=$BG_PID
wait_for 10 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9121/metrics || fail "agent did not start"
wait_for 5 paused_is 1 || fail "not paused by the config"
ip netns exec "$B" ping -c 5 -i 0.1 -q 10.215.0.2 >/dev/null 2>&1 || ip netns exec "$B" curl -s -m 1 10.215.0.2:5201 >/dev/null 2>&1
[ "$(metric 9121 'tapvault_packets_total{interface="vh-a"}')" = 0 ] || fail "packets captured while stopped"
printf 'tap:\n  capture:\n    stopped: false\n' > live.yaml
kill -HUP "$AG"
wait_for 5 paused_is 0 || fail "SIGHUP did not resume capture"
ip netns exec "$B" timeout 10 iperf3 -c 10.215.0.2 -b 10M -t 1 >/dev/null 2>&1
n=$(metric 9121 'tapvault_packets_total{interface="vh-a"}')
[ "${n:-0}" -gt 20 ] || fail "capture did not resume (packets: $n)"
kill -TERM "$AG"; wait "$AG"
note "paused: 0 packets; resumed after SIGHUP: $n packets"

note "a pod's veth deleted and created again: lost, reopened, captured again; the agent stays up"
bg ip netns exec "$N" "$AGENT" -n n1 -i vh-a -i vh-b -b "$TV_TMP/reopen" --seal-interval 1s \
    --set 'agent.filter=udp port 9999' --metrics-addr 127.0.0.1:9122 2>reopen.log
AG=$BG_PID
wait_for 10 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9122/metrics || fail "agent did not start"
# every capability dropped but CAP_NET_RAW (bit 13), kept to reopen interfaces
grep -qE "^CapEff:\s+0000000000002000$" "/proc/$AG/status" || fail "capabilities: $(grep Cap "/proc/$AG/status")"
udp_to_a() { ip netns exec "$B" bash -c 'for i in $(seq 20); do echo x >/dev/udp/10.215.0.2/'"${1:-9999}"'; sleep 0.02; done'; }
udp_to_a || fail "traffic before"
ip -n "$N" link del vh-a # the pod is gone: its veth pair with it
metric_is() { [ "$(metric 9122 "$1")" = "$2" ]; } # for wait_for: read anew each try
wait_for 5 metric_is 'tapvault_interface_up{interface="vh-a"}' 0 || fail "loss not seen: $(tail -3 reopen.log)"
kill -0 "$AG" || fail "agent died when an interface vanished: $(tail -3 reopen.log)"
[ "$(metric 9122 'tapvault_interface_up{interface="vh-b"}')" = 1 ] || fail "the other interface stopped"
grep -q "interface vh-a: .*reopening it every second" reopen.log || fail "loss not logged: $(tail -3 reopen.log)"
sleep 2 # a few failed reopen attempts: quiet, no crash loop
before=$(metric 9122 'tapvault_packets_total{interface="vh-a"}')
ip -n "$N" link add vh-a type veth peer name eth0 netns "$A" # the pod again, same names
ip -n "$N" link set vh-a master br0 up
ip -n "$A" addr add 10.215.0.2/24 dev eth0
ip -n "$A" link set eth0 up
ip -n "$B" neigh flush dev eth0 # the new eth0 has a new MAC; B would wait a minute for its stale entry
wait_for 5 metric_is 'tapvault_interface_reopened_total{interface="vh-a"}' 1 || fail "not reopened: $(tail -3 reopen.log)"
udp_to_a || fail "traffic after"
udp_to_a 9998 || fail "traffic after" # not in the filter: the reopened interface keeps it
sleep 0.3
after=$(metric 9122 'tapvault_packets_total{interface="vh-a"}')
[ "$after" = $((before + 20)) ] || fail "vh-a after it came back: $before -> $after packets, want the 20 its filter (udp port 9999) passes"
[ "$(metric 9122 'tapvault_interface_lost_total{interface="vh-a"}')" = 1 ] || fail "lost count"
kill -TERM "$AG"; wait "$AG" || fail "agent exit status after a lost interface"
"$TV" verify --store reopen >verify.txt 2>&1 || fail "buffer not readable: $(tail -3 verify.txt)"
note "vh-a lost and reopened; $before -> $after packets on it; buffer verified"

note "--read replays a capture through the pipeline"
# a fresh server: the first one lost its address with the deleted veth
bg ip netns exec "$A" iperf3 -s -B 10.215.0.2 -p 5202 >iperf-server2.log 2>&1
wait_for 10 ip netns exec "$B" bash -c "exec 3<>/dev/tcp/10.215.0.2/5202" || fail "iperf3 server"
bg ip netns exec "$N" tcpdump -i vh-a -s 0 --time-stamp-precision=nano -w replay-src.pcap 2>replay-src.log
TD=$BG_PID
wait_for 10 grep -q "listening on" replay-src.log || fail tcpdump
ip netns exec "$B" timeout 10 iperf3 -c 10.215.0.2 -p 5202 -b 50M -t 2 >iperf-replay.log 2>&1 || fail "iperf3: $(tail -2 iperf-replay.log)"
stop_pid "$TD"
"$AGENT" -n replay-node -r replay-src.pcap -b "$TV_TMP/replay" --seal-interval 200ms 2>replay.log || fail "replay: $(tail -3 replay.log)"
i=0
while read -r stem _; do
    "$TV" segment cat --store replay -o "$(printf r%05d.pcapng "$i")" "$stem" || fail "segment cat"
    i=$((i + 1))
done < <("$TV" segment list --store replay)
[ "$i" -ge 2 ] || fail "replay produced $i segments"
mergecap -a -w replayed.pcapng r*.pcapng
python3 -c "
import sys; sys.path.insert(0, '$HERE/../lib'); import pcaps
a = [(t, o, d) for _, t, o, d in pcaps.read('replay-src.pcap')]
b = [(t, o, d) for _, t, o, d in pcaps.read('replayed.pcapng')]
assert len(a) >= 100, f'only {len(a)} packets in the source capture'
assert a == b, f'{len(a)} source packets, {len(b)} replayed, first difference at {next((i for i,(x,y) in enumerate(zip(a,b)) if x!=y), min(len(a),len(b)))}'
print(f'replay: {len(a)} packets identical, timestamps kept')
" || fail "replay differs from its source"
note "--read of a truncated capture: what precedes the cut is sealed, then a clear error"
size=$(stat -c %s replay-src.pcap)
head -c $((size / 2 + 7)) replay-src.pcap > cut.pcap
# whole records before the cut (classic pcap: 24-byte file header, 16-byte record headers)
read -r whole kept < <(python3 -c "
import struct
d = open('replay-src.pcap', 'rb').read()
cut = len(d) // 2 + 7  # mid-record, almost surely
pos, n, k = 24, 0, 0
while pos + 16 <= len(d):
    end = pos + 16 + struct.unpack_from('<I', d, pos + 8)[0]
    n += 1
    k += end <= cut
    pos = end
print(n, k)")
rc=0; timeout 20 "$AGENT" -n cut-node -r cut.pcap -b "$TV_TMP/cut" 2>cut.log || rc=$?
[ "$rc" = 1 ] || fail "truncated replay: exit $rc, expected 1 (124 = it hung): $(tail -3 cut.log)"
grep -q "truncated" cut.log || fail "truncated replay: no clear error: $(tail -3 cut.log)"
got=$("$TV" ls --store cut | awk '$1 == "cut-node" {print $3}')
[ "$kept" -gt 0 ] && [ "$kept" -lt "$whole" ] || fail "bad cut: $kept of $whole"
[ "$got" = "$kept" ] || fail "truncated replay kept $got packets, expected the $kept of $whole before the cut"
"$TV" verify --store cut >/dev/null || fail "truncated replay: buffer does not verify"
note "truncated replay: exit 1, $got of $whole packets sealed and verified"
echo "PASS: agent errors, full disk, SIGHUP, replay"
