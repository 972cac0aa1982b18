#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What the OS layer (agent.osEvents) costs (root; figures only): the agent on
# a pod's veth with the layer on and off, alternating, ROUNDS rounds each,
# under (a) RATE new TCP connections a second (connect, close) from a client
# pod to nginx for SECS seconds, (b) one iperf3 flow at 2 Gbit/s, (c) one
# iperf3 UDP flow of 1400-byte datagrams at 500 Mbit/s (the cgroup_skb
# programs run for every packet of every local socket). Counted:
# the agent process's CPU over the traffic window, and the kernel side of the
# programs exactly (kernel.bpf_stats_enabled: run time and runs of each
# program, which per-process accounting cannot see: they run in the
# connecting process and in softirq).
# The client closes with a reset (SO_LINGER 0) so that its ports last.
#   ROUNDS=3 RATE=1000 SECS=10 tests/bench/bench_os.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT=${BENCH_AGENT:-$ROOT/build-release/nodeagent/tapvault-agent}
[ -x "$AGENT" ] || "$ROOT/scripts/build.sh" Release >/dev/null
. "$ROOT/tests/lib/common.sh"
need_root
need_cmd nginx iperf3 bpftool python3 taskset findmnt
tv_tmpdir
cd "$TV_TMP"
ROUNDS=${ROUNDS:-3} RATE=${RATE:-1000} SECS=${SECS:-10}
HZ=$(getconf CLK_TCK)
N=tvon$$ A=tvoa$$ B=tvob$$
node_with_pods "$N" "$A" "$B"
mkdir -p www && echo hello > www/index.html
start_nginx "$A" "$TV_TMP" 10.215.0.2 80
bg ip netns exec "$A" iperf3 -s -B 10.215.0.2 -p 5201 >/dev/null 2>&1
wait_for 10 ip netns exec "$B" bash -c "exec 3<>/dev/tcp/10.215.0.2/5201" || fail "iperf3 server"
old_stats=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
# the host's cgroup2 tree for the container lookups and the UDP programs
host_cgroup_view "$TV_TMP/hostcg" || fail "no cgroup2 mount: the UDP programs cannot attach"
trap 'umount -l "$TV_TMP/hostcg"; sysctl -qw kernel.bpf_stats_enabled=$old_stats; tv_cleanup' EXIT
cpu_of() { awk -v hz="$HZ" '{print ($14 + $15) / hz}' "/proc/$1/stat"; }
# run time (ns) and runs of the agent's programs
bpf_ns() { bpftool prog show --json | python3 -c '
import json, sys
p = [x for x in json.load(sys.stdin)
     if x.get("name", "") in ("on_sock_state", "on_exec", "on_exit") or x.get("name", "").startswith("udp_")]
print(sum(x.get("run_time_ns", 0) for x in p), sum(x.get("run_cnt", 0) for x in p))'; }

connections() { # RATE SECS: connect + close to nginx, paced, on cpu0
    ip netns exec "$B" taskset -c 0 python3 - "$1" "$2" <<'PY'
import socket, struct, sys, time
rate, secs = int(sys.argv[1]), float(sys.argv[2])
t0 = time.monotonic(); n = 0
while time.monotonic() - t0 < secs:
    s = socket.create_connection(("10.215.0.2", 80))
    # closed with a reset: no TIME_WAIT, so the client's ports last the run
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close(); n += 1
    ahead = n / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
print(n)
PY
}

trial() { # MODE(auto|off) LOAD(conn|iperf) -> "agent_cpu_s bpf_ns bpf_runs units"
    bg ip netns exec "$N" taskset -c 1 "$AGENT" --kubernetes off -n bench -i vh-a -b "$TV_TMP/buf" -s 16Gi \
        --set agent.osEvents="$1" --set agent.hostCgroupRoot="$TV_TMP/hostcg" \
        --metrics-addr 127.0.0.1:9132 --log-level warn 2>agent.log
    local pid=$BG_PID
    wait_for 15 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9132/metrics || fail "agent: $(cat agent.log)"
    ! grep -q "not followed\|OS layer off" agent.log || [ "$1" = off ] || fail "the OS layer is not whole: $(cat agent.log)"
    sleep 0.5
    local c0 b0 r0 units c1 b1 r1
    c0=$(cpu_of "$pid"); read -r b0 r0 < <(bpf_ns)
    if [ "$2" = conn ]; then
        units=$(connections "$RATE" "$SECS")
    elif [ "$2" = iperf ]; then
        ip netns exec "$B" taskset -c 0 iperf3 -c 10.215.0.2 -t "$SECS" -b 2G >/dev/null 2>&1; units=2
    else # datagrams sent, from iperf3's report
        units=$(ip netns exec "$B" taskset -c 0 iperf3 -c 10.215.0.2 -u -l 1400 -t "$SECS" -b 500M --json 2>/dev/null |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["end"]["sum"]["packets"])')
    fi
    c1=$(cpu_of "$pid"); read -r b1 r1 < <(bpf_ns)
    kill -TERM "$pid"; wait "$pid"; rm -rf "$TV_TMP/buf"
    echo "$(awk -v a="$c0" -v b="$c1" 'BEGIN {print b - a}') $((b1 - b0)) $((r1 - r0)) $units"
}

for load in conn iperf udp; do
    on=() off=() bns=() runs=() units=0
    for r in $(seq 1 "$ROUNDS"); do
        read -r c b n u < <(trial auto "$load"); on+=("$c"); bns+=("$b"); runs+=("$n"); units=$u
        read -r c _ _ _ < <(trial off "$load"); off+=("$c")
    done
    med() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
    m_on=$(med "${on[@]}") m_off=$(med "${off[@]}") m_b=$(med "${bns[@]}") m_r=$(med "${runs[@]}")
    if [ "$load" = conn ]; then
        awk -v on="$m_on" -v off="$m_off" -v b="$m_b" -v r="$m_r" -v n="$units" -v s="$SECS" 'BEGIN {
            rate = n / s
            printf "%d connections in %d s (%.0f/s): agent CPU %.3f s with the OS layer, %.3f s without;\n", n, s, rate, on, off
            printf "  kernel side %.1f ms (%d program runs, %.0f ns each); per 1,000 connections/s: agent +%.2f %% of a core, kernel %.2f %%\n",
                b / 1e6, r, r ? b / r : 0, (on - off) / s * 100 * 1000 / rate, b / 1e9 / s * 100 * 1000 / rate }'
    elif [ "$load" = udp ]; then
        awk -v on="$m_on" -v off="$m_off" -v b="$m_b" -v r="$m_r" -v n="$units" -v s="$SECS" 'BEGIN {
            pps = n / s
            printf "one iperf3 UDP flow, %d datagrams of 1400 bytes in %d s (%.0f/s): agent CPU %.3f s with the OS layer, %.3f s without\n", n, s, pps, on, off
            printf "  kernel side %.1f ms (%d runs, %.0f ns each); per 100,000 UDP packets/s: agent %+.2f %% of a core, kernel %.2f %%\n",
                b / 1e6, r, r ? b / r : 0, (on - off) / s * 100 * 1e5 / pps, b / 1e9 / s * 100 * 1e5 / pps }'
    else
        awk -v on="$m_on" -v off="$m_off" -v b="$m_b" -v r="$m_r" -v s="$SECS" 'BEGIN {
            printf "one iperf3 flow at 2 Gbit/s for %d s: agent CPU %.3f s with the OS layer, %.3f s without; kernel side %.3f ms (%d runs)\n",
                s, on, off, b / 1e6, r
            printf "  per Gbit/s: agent %+.2f %% of a core, kernel %.4f %% (the TCP programs run per connection; cgroup_skb per packet, returning at once for TCP)\n",
                (on - off) / s / 2 * 100, b / 1e9 / s / 2 * 100 }'
    fi
done
