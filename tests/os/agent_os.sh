#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's OS layer end to end: nginx in one pod, curl in another, the
# agent on the node capturing the server pod's veth with agent.osEvents=auto.
# The segments' events hold `os` records naming curl as the connecting
# process and nginx as the accepting one, with the flow the packets carry;
# every capture record says "os":"on"; the metrics count the records and 0
# ring drops. Clients run in cgroups named as the kubelet names them (systemd
# driver, a Burstable pod under containerd; cgroupfs driver, a Guaranteed
# pod): their records carry that container id and pod UID.
# Then the agent without CAP_BPF/CAP_PERFMON/CAP_SYS_ADMIN: every
# packet still captured, "os":"off: ..." in the segments, the metric at 0,
# one warning in the log.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
need_root
need_cmd ip nginx curl zstd setpriv python3 findmnt
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

CG=$(findmnt -t cgroup2 -n -o TARGET | head -1)
[ -n "$CG" ] || skip "no cgroup2 mount"
ID1=$(printf 'c1%.0s' {1..32}) ID2=$(printf 'e2%.0s' {1..32})
U1=1b4e28ba-2fa1-11d2-883f-0016d3cca427 U2=6f1c0d7e-0a3b-4c55-9e1d-2b8f3a4c5d6e
P1="$CG/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${U1//-/_}.slice/cri-containerd-$ID1.scope"
P2="$CG/kubepods/pod$U2/$ID2"
mkdir -p "$P1" "$P2" || fail "cannot make cgroups under $CG"
cleanup_cgroups() { for p in "$P1" "$P2"; do d=$p; while [ "$d" != "$CG" ]; do rmdir "$d" 2>/dev/null; d=$(dirname "$d"); done; done; }
# the agent runs under `ip netns exec`, which remounts /sys: it reads the
# host's tree where the chart would mount it, a path of its own
# (read-only, as the chart mounts it: nothing here can change the host's tree)
mkdir -p "$TV_TMP/hostcg" && mount --bind "$CG" "$TV_TMP/hostcg" && mount -o remount,bind,ro "$TV_TMP/hostcg" ||
    fail "bind mount of $CG"
trap 'umount "$TV_TMP/hostcg"; cleanup_cgroups; tv_cleanup' EXIT
in_cgroup() { local cg=$1; shift; sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }

note "agent with the OS layer"
run_agent buf
grep -q "OS layer on" buf.log || {
    grep -q "OS layer off" buf.log && skip "no BPF here: $(grep 'OS layer' buf.log)"
    fail "no word of the OS layer: $(cat buf.log)"; }
start_nginx "$A" "$TV_TMP" 10.215.0.2 80 # after the agent: its listen() is seen
for i in 1 2 3; do ip netns exec "$B" curl -sf -o /dev/null http://10.215.0.2/index.html || fail curl; done
in_cgroup "$P1" ip netns exec "$B" curl -sf -o /dev/null http://10.215.0.2/index.html || fail "curl in $P1"
in_cgroup "$P2" ip netns exec "$B" curl -sf -o /dev/null http://10.215.0.2/index.html || fail "curl in $P2"
sleep 1.5
records=$(metric tapvault_os_records_total); drops=$(metric tapvault_os_ring_drops_total)
[ "$(metric tapvault_os_layer_enabled)" = 1 ] || fail "tapvault_os_layer_enabled is not 1"
kill -TERM "$AGENT_PID"; wait "$AGENT_PID" || fail "agent exit: $(tail -3 buf.log)"
events buf > events.jsonl
python3 - events.jsonl "$records" "$drops" "$ID1" "$U1" "$ID2" "$U2" <<'PY' || fail "OS records"
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
os_recs = [r for r in recs if r["type"] == "os"]
caps = [r for r in recs if r["type"] == "capture"]
assert caps and all(c.get("os") == "on" for c in caps), [c.get("os") for c in caps]
def flow(r): return r.get("flow") or {}
conn = [r for r in os_recs if r["event"] == "connect" and r["comm"] == "curl" and flow(r).get("dst") == "10.215.0.3" or
        r["event"] == "connect" and r["comm"] == "curl" and flow(r).get("dport") == 80]
acc = [r for r in os_recs if r["event"] == "accept" and r["comm"] == "nginx"]
assert len(conn) >= 3, ("curl connects", [ (r["event"], r["comm"], flow(r)) for r in os_recs if r["event"] != "exec"][:20])
assert len(acc) >= 3, ("nginx accepts", [(r["event"], r["comm"], flow(r)) for r in os_recs][:20])
ports = {flow(r)["sport"] for r in conn}
assert ports <= {flow(r)["dport"] for r in acc}, "every curl connection accepted by nginx"
# the metric was read before the last records (closes, exits at the stop) came
assert int(sys.argv[2]) > 0 and len(os_recs) > 0 and sys.argv[3] == "0", (sys.argv[2], len(os_recs), sys.argv[3])
for cid, uid in ((sys.argv[4], sys.argv[5]), (sys.argv[6], sys.argv[7])):
    mine = [r for r in conn if r.get("container_id") == cid]
    assert len(mine) == 1 and mine[0].get("pod_uid") == uid, ("container", cid, [(r.get("container_id"), r.get("pod_uid")) for r in conn])
assert len([r for r in conn if "container_id" in r]) == 2, "only the two clients in pod cgroups are named by one"
print("os records:", len(os_recs), "connects by curl:", len(conn), "accepts by nginx:", len(acc), "named by container: 2")
PY

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
echo "PASS: OS records name curl and nginx on every connection; without CAP_BPF $packets packets captured, the fallback in every segment"
