#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's OS layer end to end, as on a node: a server pod (nginx,
# redis-server, dnsmasq, a Python gRPC server) and two client pods (curl and
# redis-cli in one, dig and a Python gRPC client in the other), each pod's
# processes in a cgroup named as the kubelet names it (systemd driver: a
# Burstable client pod and the Guaranteed server pod, directly under
# kubepods; cgroupfs driver: a Guaranteed client pod), the agent capturing
# the server pod's veth with agent.osEvents=auto. redis-server is started
# before the agent (its listener found by the iterator at load).
# - The segments' events: `os` records name curl, redis-cli, dig (UDP) and
#   python3 as connecting, nginx, redis-server, dnsmasq and python3 as
#   accepting or serving, with their container ids and pod UIDs; the
#   segments' states list the live sockets; every capture record says
#   "os":"on"; the metrics count the records and 0 ring drops.
# - `tapvault dissect` of the store, with the pods' container statuses
#   (--k8s): every HTTP, Redis, DNS and gRPC entry names the client and the
#   server process on its two ends, with container id and container name.
# - `tapvault pcap --process / --container` keep those processes' packets
#   only; `--annotate` writes each packet's processes as its comment, which
#   tshark reads back.
# Then the agent without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: every
# packet still captured, "os":"off: ..." in the segments, the metric at 0,
# one warning in the log.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
need_root
need_cmd ip nginx curl zstd setpriv python3 findmnt redis-server redis-cli dnsmasq dig tshark
/usr/bin/python3 -c 'import grpc' 2>/dev/null || fail "python3-grpcio missing: run scripts/install-deps.sh"
tv_tmpdir
cd "$TV_TMP"
N=tvan$$ A=tvaa$$ B=tvab$$
node_with_pods "$N" "$A" "$B"
mkdir -p www && echo hello > www/index.html

run_agent() { # BUFFER [PREFIX...]: the agent on vh-a with metrics on :9131
    local buf=$1; shift
    bg ip netns exec "$N" "$@" "$AGENT" -n node-os -i vh-a -b "$TV_TMP/$buf" --seal-interval 2s --storage-size 4Gi \
        --kubernetes off --metrics-addr 127.0.0.1:9131 --log-level info \
        --set agent.hostCgroupRoot="$TV_TMP/hostcg" 2>"$buf.log"
    AGENT_PID=$BG_PID
    wait_for 10 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9131/metrics || fail "agent: $(cat "$buf.log")"
}
events() { find "$1" -name '*.events.jsonl.zst' -path '*/v1/*' -exec zstd -qdc {} + ; }
metric() { ip netns exec "$N" curl -sf http://127.0.0.1:9131/metrics | metric_value "$1"; }

host_cgroup_view "$TV_TMP/hostcg" || skip "no cgroup2 mount"
# (read-only, as the chart mounts it: nothing here can change the host's tree)
trap 'umount -l "$TV_TMP/hostcg"; tv_cleanup' EXIT
ID1=$(printf 'c1%.0s' {1..32}) ID2=$(printf 'e2%.0s' {1..32}) ID3=$(printf 'a3%.0s' {1..32})
U1=1b4e28ba-2fa1-11d2-883f-0016d3cca427 U2=6f1c0d7e-0a3b-4c55-9e1d-2b8f3a4c5d6e U3=3d6a8f0e-77b1-4c2a-9a55-0e8e2f1c9b10
P1="$CG/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${U1//-/_}.slice/cri-containerd-$ID1.scope"
P2="$CG/kubepods/pod$U2/$ID2"
P3="$CG/kubepods.slice/kubepods-pod${U3//-/_}.slice/cri-containerd-$ID3.scope"
mkdir -p "$P1" "$P2" "$P3" || fail "cannot make cgroups under $CG"
HOME_CG="$CG$(awk -F: '$1 == 0 {print $3}' /proc/$$/cgroup)" # this shell's own, to come back to
cleanup_cgroups() { # after tv_cleanup: its processes may take a moment to leave them
    echo $$ > "$HOME_CG/cgroup.procs" 2>/dev/null
    for try in 1 2 3 4 5 6 7 8 9 10; do
        for p in "$P1" "$P2" "$P3"; do d=$p; while [ "$d" != "$CG" ]; do rmdir "$d" 2>/dev/null; d=$(dirname "$d"); done; done
        [ -d "$P1" ] || [ -d "$P2" ] || [ -d "$P3" ] || break; sleep 0.2
    done; }
# unmounted first: the temp dir's removal must never reach into the host's tree
trap 'umount -l "$TV_TMP/hostcg"; tv_cleanup; cleanup_cgroups' EXIT
in_cgroup() { local cg=$1; shift; sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }
# what this shell starts from now on runs in cgroup $1 (shell functions too)
enter_cgroup() { echo $$ > "$1/cgroup.procs" || fail "cannot enter $1"; }

note "redis-server in the server pod, before the agent"
enter_cgroup "$P3"
bg ip netns exec "$A" redis-server --bind 10.215.0.2 --port 6379 --save "" --appendonly no --dir "$TV_TMP" \
    --protected-mode no >redis.log 2>&1
enter_cgroup "$HOME_CG"
wait_for 10 ip netns exec "$B" redis-cli -h 10.215.0.2 ping || fail "redis-server did not start"

note "agent with the OS layer"
run_agent buf
grep -q "OS layer on" buf.log || {
    grep -q "OS layer off" buf.log && skip "no BPF here: $(grep 'OS layer' buf.log)"
    fail "no word of the OS layer: $(cat buf.log)"; }
grep -q "UDP sockets are not followed" buf.log && fail "UDP not followed: $(grep 'OS layer' buf.log)"

note "servers in the server pod, after the agent: nginx, dnsmasq, gRPC"
enter_cgroup "$P3"
start_nginx "$A" "$TV_TMP" 10.215.0.2 80
bg ip netns exec "$A" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=10.215.0.2 --bind-interfaces \
    --address=/svc.test/10.9.8.7 --pid-file="$TV_TMP/dnsmasq.pid" -q 2>dnsmasq.log
bg ip netns exec "$A" env -u http_proxy -u https_proxy /usr/bin/python3 "$HERE/../lib/grpc_echo.py" server 10.215.0.2:50051 \
    >grpc.log 2>&1
enter_cgroup "$HOME_CG"
wait_for 20 ip netns exec "$B" bash -c "exec 3<>/dev/tcp/10.215.0.2/50051" || fail "gRPC server did not start: $(cat grpc.log)"

note "clients: curl and redis-cli in pod 1 (systemd), dig, gRPC and curl in pod 2 (cgroupfs), curl outside any pod"
for i in 1 2 3; do ip netns exec "$B" curl -sf -o /dev/null http://10.215.0.2/index.html || fail curl; done
in_cgroup "$P1" ip netns exec "$B" curl -sf -o /dev/null http://10.215.0.2/index.html || fail "curl in $P1"
in_cgroup "$P1" ip netns exec "$B" redis-cli -h 10.215.0.2 set greeting hello >/dev/null || fail "redis-cli in $P1"
[ "$(in_cgroup "$P2" ip netns exec "$B" dig +short +tries=1 @10.215.0.2 a.svc.test)" = 10.9.8.7 ] || fail "dig in $P2"
in_cgroup "$P2" ip netns exec "$B" env -u http_proxy -u https_proxy /usr/bin/python3 "$HERE/../lib/grpc_echo.py" \
    client 10.215.0.2:50051 || fail "gRPC client in $P2"
in_cgroup "$P2" ip netns exec "$B" curl -sf -o /dev/null http://10.215.0.2/index.html || fail "curl in $P2"
sleep 1.5
records=$(metric tapvault_os_records_total); drops=$(metric tapvault_os_ring_drops_total)
[ "$(metric tapvault_os_layer_enabled)" = 1 ] || fail "tapvault_os_layer_enabled is not 1"
sleep 2.5 # segments sealed after the connections: their states list the live ones
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || fail "agent exit: $(tail -3 buf.log)"
events buf > events.jsonl
python3 "$HERE/check_os_records.py" events.jsonl "$records" "$drops" "$ID1" "$U1" "$ID2" "$U2" "$ID3" "$U3" ||
    fail "OS records"

note "dissect: every entry names its two processes and containers"
cat > pods.json <<JSON
{"kind": "List", "items": [
 {"kind": "Pod", "metadata": {"name": "client-a", "namespace": "shop", "uid": "$U1"},
  "spec": {"nodeName": "node-os"}, "status": {"phase": "Running", "podIP": "10.215.0.3",
  "containerStatuses": [{"name": "app", "containerID": "containerd://$ID1"}]}},
 {"kind": "Pod", "metadata": {"name": "client-b", "namespace": "tools", "uid": "$U2"},
  "spec": {"nodeName": "node-os"}, "status": {"phase": "Running",
  "containerStatuses": [{"name": "toolbox", "containerID": "containerd://$ID2"}]}},
 {"kind": "Pod", "metadata": {"name": "server", "namespace": "shop", "uid": "$U3"},
  "spec": {"nodeName": "node-os"}, "status": {"phase": "Running", "podIP": "10.215.0.2",
  "containerStatuses": [{"name": "srv", "containerID": "containerd://$ID3"}]}}]}
JSON
"$TV" dissect --store "file://$TV_TMP/buf" --from 0 --to now --k8s pods.json -o entries.jsonl 2>dissect.log ||
    fail "dissect: $(cat dissect.log)"
python3 "$HERE/check_os_entries.py" entries.jsonl "$ID1" "$ID2" "$ID3" || fail "entries' processes"

note "pcap --process, --container, --annotate"
pcap() { "$TV" pcap --store "file://$TV_TMP/buf" --from 0 --to now --k8s pods.json "$@"; }
pcap --process redis-cli -o redis.pcap 2>pcap.log || fail "pcap --process: $(cat pcap.log)"
[ "$(tshark -r redis.pcap -Y 'tcp.port != 6379' 2>/dev/null | wc -l)" = 0 ] || fail "--process redis-cli kept other packets"
[ "$(tshark -r redis.pcap 2>/dev/null | wc -l)" -ge 6 ] || fail "--process redis-cli: too few packets"
pcap --container "${ID2:0:12}" -o c2.pcap 2>>pcap.log || fail "pcap --container"
ports=$(tshark -r c2.pcap -Y 'ip.src == 10.215.0.3' -T fields -e tcp.dstport -e udp.dstport 2>/dev/null |
    tr '\t' '\n' | grep . | sort -un | tr '\n' ' ')
[ "$ports" = "53 80 50051 " ] || fail "--container ${ID2:0:12}: destination ports '$ports', not dig's, curl's and gRPC's"
pcap --container toolbox -o c2name.pcap 2>>pcap.log || fail "pcap --container NAME"
cmp -s c2.pcap c2name.pcap || fail "--container by name and by id differ"
pcap --process nosuchprocess -o none.pcap 2>none.log || fail "pcap --process none"
grep -q "0 packets written" none.log || fail "an empty process selection is not reported: $(cat none.log)"
pcap --annotate -o ann.pcapng 2>>pcap.log || fail "pcap --annotate"
tshark -r ann.pcapng -Y 'tcp.dstport == 6379' -T fields -e frame.comment 2>/dev/null | head -1 >comment.txt
# (redis-cli's executable may be unknown: it exits before the agent reads /proc)
grep -q "src pod shop/client-a, process redis-cli\[[0-9]*\][^;]*, container app c1c1c1c1c1c1; dst pod shop/server, process redis-server\[[0-9]*\]" comment.txt ||
    fail "annotation: $(cat comment.txt)"
pcap --annotate --format pcap -o x.pcap 2>/dev/null; [ $? = 2 ] || fail "--annotate with classic pcap is not a usage error"

note "agent without CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN: packets as before, the fallback recorded"
run_agent buf2 setpriv --bounding-set -bpf,-perfmon,-sys_admin --inh-caps -bpf,-perfmon,-sys_admin
for i in 1 2 3; do ip netns exec "$B" curl -sf -o /dev/null http://10.215.0.2/index.html || fail curl; done
sleep 1.5
[ "$(metric tapvault_os_layer_enabled)" = 0 ] || fail "tapvault_os_layer_enabled is not 0 without CAP_BPF"
packets=$(ip netns exec "$N" curl -sf http://127.0.0.1:9131/metrics | awk '$1 ~ /^tapvault_packets_total/ {s += $2} END {print s + 0}')
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || fail "agent exit without CAP_BPF: $(tail -3 buf2.log)"
[ "$(grep -c 'OS layer off' buf2.log)" = 1 ] || fail "the fallback is not logged once: $(grep -c 'OS layer' buf2.log)"
[ "$packets" -ge 30 ] || fail "only $packets packets captured without CAP_BPF"
events buf2 | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
caps = [r for r in recs if r["type"] == "capture"]
assert caps and all(c.get("os", "").startswith("off: ") for c in caps), [c.get("os") for c in caps]
assert not [r for r in recs if r["type"] == "os"]
print("fallback:", caps[0]["os"])' || fail "fallback not recorded in the segments"
echo "PASS: OS records and entries name the process and container of both ends (HTTP, Redis, DNS, gRPC); pcap selects and annotates by process; without CAP_BPF $packets packets captured, the fallback in every segment"
