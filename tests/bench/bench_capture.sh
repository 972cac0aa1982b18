#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# What the agent's packet path costs, against what a user would run instead,
# side by side in one run (root; figures only, no pass/fail):
#
# 1. Pipeline, no traffic generator: `tapvault-agent --read` of four recorded
#    traffic types (tests/bench/make_captures.sh: HTTP API, the dissection
#    tests' mixed protocols, TLS-like random payloads, small datagrams) from
#    tmpfs to the disk, pinned to cpu1, beside `tcpdump -r X -w - | zstd -1
#    -T1` plus `sha256sum` of its output (what an archive must at least do),
#    pinned the same way. CPU s per captured GB (user + sys of the whole
#    process tree), GB/s per core, bytes on disk per captured byte.
#    Rounds alternate the tools; the best round counts (this VM is noisy).
# 1b. Streams: the same replays with agent.streams 1 and 2 (each flow in one
#    stream, a writer thread per stream), wall time on both cores.
# 2. Live, pinned: iperf3 client and server in two pod namespaces on cpu0,
#    the capturing tool on cpu1, on the node-side veth, unthrottled and at
#    fixed rates, TRIALS trials each (default 5), the tools alternating with
#    a run without capture. A trial is lossless when the archive holds every
#    packet the veth passed (interface counters) and the kernel dropped none;
#    the cap never recycles. CPU counted over the traffic window only: the
#    tool's own, and the node-wide delta against the run without capture
#    (softirq and writeback that per-process accounting misses). The
#    sender's rate against the run without capture says how much the tool
#    slows it.
#
#   TRIALS=5 SECONDS_EACH=5 tests/bench/bench_capture.sh [RATES...]   (default: max 3G 5G)
#   CAPTURES=DIR reuses recorded captures (make_captures.sh DIR); PARTS="pipeline streams live" picks parts.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
AGENT=${BENCH_AGENT:-$ROOT/build-release/nodeagent/tapvault-agent}
TV=${BENCH_TV:-$ROOT/build-release/dissector/tapvault}
[ -x "$AGENT" ] && [ -x "$TV" ] || "$ROOT/scripts/build.sh" Release >/dev/null
. "$ROOT/tests/lib/common.sh"
need_root
need_cmd tcpdump zstd sha256sum iperf3 taskset capinfos python3
[ "$(nproc)" -ge 2 ] || skip "needs 2 cores (generator and tool pinned apart)"
tv_tmpdir
cd "$TV_TMP"
RATES=("$@"); [ ${#RATES[@]} -gt 0 ] || RATES=(max 3G 5G)
TRIALS=${TRIALS:-5}
SECS=${SECONDS_EACH:-5}
PARTS=${PARTS:-pipeline streams live}
HZ=$(getconf CLK_TCK)
OUT=$TV_TMP/disk # on the disk the buffer would be on, not tmpfs
mkdir -p "$OUT"

# CPU seconds of a process and its waited-for children, from /proc (all threads).
cpu_of() { awk -v hz="$HZ" '{print ($14 + $15 + $16 + $17) / hz}' "/proc/$1/stat"; }
node_busy() { awk -v hz="$HZ" '/^cpu / {print ($2 + $3 + $4 + $7 + $8) / hz}' /proc/stat; }
best() { sort -g | head -1; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# ---- 1. pipeline ----
pipeline() {
    local caps=${CAPTURES:-/dev/shm/tv-bench-captures}
    "$ROOT/tests/bench/make_captures.sh" "$caps" 5 >/dev/null || fail "recording the captures"
    note "pipeline: --read from tmpfs ($caps) to disk, pinned to cpu1; best of 3 alternating rounds"
    printf '%-6s %9s | %-34s | %-34s | %s\n' traffic "MB" "tapvault-agent: s/GB  GB/s  disk" \
        "tcpdump|zstd -1|sha256sum: s/GB  GB/s  disk" "agent/reference CPU, disk"
    local t
    for t in http mixed tls small; do
        local f=$caps/$t.pcap
        [ -s "$f" ] || continue
        local size; size=$(stat -c %s "$f")
        cat "$f" >/dev/null # in the page cache (tmpfs anyway)
        local ac=() rc=() ad rd
        for round in 1 2 3; do
            rm -rf "$OUT"/*; sync
            ac+=("$(/usr/bin/time -f '%U %S' taskset -c 1 "$AGENT" --kubernetes off -n bench -r "$f" \
                -b "$OUT/buf" -s 64Gi --log-level error 2>&1 >/dev/null | tail -1 | awk '{print $1 + $2}')")
            ad=$(du -sb "$OUT/buf/v1" | cut -f1)
            rm -rf "$OUT"/*; sync
            rc+=("$(/usr/bin/time -f '%U %S' taskset -c 1 sh -c \
                "tcpdump -r '$f' -w - 2>/dev/null | zstd -1 -T1 -q -o '$OUT/ref.zst' && sha256sum '$OUT/ref.zst' >/dev/null" \
                2>&1 | tail -1 | awk '{print $1 + $2}')")
            rd=$(stat -c %s "$OUT/ref.zst")
        done
        local a r
        a=$(printf '%s\n' "${ac[@]}" | best); r=$(printf '%s\n' "${rc[@]}" | best)
        awk -v t="$t" -v s="$size" -v a="$a" -v r="$r" -v ad="$ad" -v rd="$rd" 'BEGIN {
            g = s / 1e9
            printf "%-6s %9.0f | %10.2f %6.2f %8.3f       | %10.2f %6.2f %8.3f       | %.2fx, %.3fx\n",
                t, s / 1e6, a / g, g / a, ad / s, r / g, g / r, rd / s, a / r, ad / rd }'
    done
}

# ---- 1b. streams: the same replay with 1 and 2 segment streams (agent.streams), wall time ----
streams() {
    local caps=${CAPTURES:-/dev/shm/tv-bench-captures}
    "$ROOT/tests/bench/make_captures.sh" "$caps" 5 >/dev/null || fail "recording the captures"
    note "streams: --read with agent.streams=1 and =2, unpinned (2 cores), wall time, best of 3 alternating rounds"
    printf '%-6s | %-10s | %-10s | %s\n' traffic "1 stream" "2 streams" speed-up
    local t
    for t in http mixed tls small; do
        local f=$caps/$t.pcap
        [ -s "$f" ] || continue
        local w1=() w2=() n
        for round in 1 2 3; do
            for n in 1 2; do
                rm -rf "$OUT"/*; sync
                local w; w=$(/usr/bin/time -f '%e' "$AGENT" --kubernetes off -n bench -r "$f" -b "$OUT/buf" -s 64Gi \
                    --log-level error --set agent.streams=$n 2>&1 >/dev/null | tail -1)
                if [ "$n" = 1 ]; then w1+=("$w"); else w2+=("$w"); fi
            done
        done
        local a b; a=$(printf '%s\n' "${w1[@]}" | best); b=$(printf '%s\n' "${w2[@]}" | best)
        awk -v t="$t" -v a="$a" -v b="$b" 'BEGIN {printf "%-6s | %8.2f s | %8.2f s | %.2fx\n", t, a, b, a / b}'
    done
}

# ---- 2. live ----
N=tvbn$$ A=tvba$$ B=tvbb$$
live_setup() {
    node_with_pods "$N" "$A" "$B"
    bg ip netns exec "$A" taskset -c 0 iperf3 -s -B 10.215.0.2 -p 5201 >iperf3-server.log 2>&1
    wait_for 10 ip netns exec "$B" bash -c "exec 3<>/dev/tcp/10.215.0.2/5201" || fail "iperf3 server"
}
ifpackets() { ip netns exec "$N" sh -c 'echo $(( $(cat /sys/class/net/vh-a/statistics/rx_packets) + $(cat /sys/class/net/vh-a/statistics/tx_packets) ))'; }

# traffic RATE -> "gbit/s": iperf3 on cpu0 for SECS seconds
traffic() {
    local bw=(); [ "$1" = max ] || bw=(-b "$1")
    ip netns exec "$B" taskset -c 0 timeout $((SECS + 20)) iperf3 -c 10.215.0.2 -t "$SECS" "${bw[@]}" -J 2>/dev/null |
        python3 -c 'import json, sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_sent"]["bits_per_second"] / 1e9))'
}

# Each trial prints: "sent_gbps lost_packets drops tool_cpu_s node_cpu_s captured_GB".
trial_none() {
    local n0 c0; n0=$(node_busy)
    local g; g=$(traffic "$1")
    c0=$(node_busy)
    echo "$g 0 0 0 $(awk -v a="$n0" -v b="$c0" 'BEGIN {print b - a}') 0"
}

trial_agent() {
    rm -rf "$OUT"/*; sync
    bg ip netns exec "$N" taskset -c 1 "$AGENT" --kubernetes off -n bench -i vh-a -b "$OUT/buf" -s 64Gi \
        --metrics-addr 127.0.0.1:9130 --log-level warn 2>>agent.log
    local pid=$BG_PID
    wait_for 15 ip netns exec "$N" curl -sf -o /dev/null http://127.0.0.1:9130/metrics || fail "agent did not start"
    sleep 0.5 # past the start's page touching
    local p0 t0 n0 g
    p0=$(ifpackets); t0=$(cpu_of "$pid"); n0=$(node_busy)
    g=$(traffic "$1")
    sleep 0.3 # the ring's last block (its 100 ms timeout) and the writer's flush
    local t1 n1 p1 m
    t1=$(cpu_of "$pid"); n1=$(node_busy); p1=$(ifpackets)
    m=$(ip netns exec "$N" curl -sf http://127.0.0.1:9130/metrics)
    kill -TERM "$pid"; wait "$pid"
    local drops bytes archived
    drops=$(echo "$m" | awk '$1 ~ /^tapvault_kernel_drops_total/ {s += $2} END {print s + 0}')
    bytes=$(echo "$m" | awk '$1 ~ /^tapvault_bytes_total/ {s += $2} END {print s + 0}')
    archived=$("$TV" ls --store "file://$OUT/buf" --json | python3 -c 'import json, sys; print(sum(n["packets"] for n in json.load(sys.stdin)["nodes"]))')
    echo "$g $(( (p1 - p0) - archived )) $drops $(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}') $(awk -v a="$n0" -v b="$n1" 'BEGIN {print b - a}') $(awk -v b="$bytes" 'BEGIN {print b / 1e9}')"
}

trial_tcpdump() {
    rm -rf "$OUT"/*; sync
    bg ip netns exec "$N" taskset -c 1 tcpdump -i vh-a -s 0 -B 65536 -w "$OUT/td.pcap" 2>td.log
    local pid=$BG_PID
    wait_for 10 grep -q "listening on" td.log || fail tcpdump
    local p0 t0 n0 g
    p0=$(ifpackets); t0=$(cpu_of "$pid"); n0=$(node_busy)
    g=$(traffic "$1")
    sleep 0.3
    local t1 n1 p1
    t1=$(cpu_of "$pid"); n1=$(node_busy); p1=$(ifpackets)
    kill -INT "$pid"; wait "$pid"
    local drops got gb
    drops=$(awk '/dropped by kernel/ {print $1}' td.log)
    got=$(capinfos -Mc "$OUT/td.pcap" | awk -F': *' '/packets/ {print $2}')
    gb=$(capinfos -Md "$OUT/td.pcap" | awk -F': *' '/Data size/ {print $2 / 1e9}')
    echo "$g $(( (p1 - p0) - got )) ${drops:-0} $(awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}') $(awk -v a="$n0" -v b="$n1" 'BEGIN {print b - a}') $gb"
}

live() {
    live_setup
    note "live: iperf3 (client and server) on cpu0, the tool on cpu1, vh-a, ${SECS}s per trial, $TRIALS trials"
    printf '%-5s | %-8s | %-24s | %-10s | %-16s | %-15s | %s\n' rate tool "lost pkts/drops per trial" \
        "sent Gb/s" "tool CPU s/GB" "node CPU +s/GB" "lossless trials"
    local r
    for r in "${RATES[@]}"; do
        declare -A sent lost cpu node gbs ok
        local tool
        for tool in none agent tcpdump; do sent[$tool]=""; lost[$tool]=""; cpu[$tool]=""; node[$tool]=""; ok[$tool]=0; done
        for t in $(seq 1 "$TRIALS"); do
            for tool in none agent tcpdump; do
                read -r g l d c nd gb < <("trial_$tool" "$r")
                echo "  $r $tool trial $t: ${g}Gb/s lost=$l drops=$d cpu=${c}s node=${nd}s captured=${gb}GB" >>trials.log
                sent[$tool]+="$g "
                lost[$tool]+="$l/$d "
                [ "$l" -le 0 ] && [ "$d" = 0 ] && ok[$tool]=$((ok[$tool] + 1))
                if [ "$tool" != none ]; then
                    cpu[$tool]+="$(awk -v c="$c" -v b="$gb" 'BEGIN {print (b > 0 ? c / b : 0)}') "
                    gbs[$tool]=$gb
                fi
                node[$tool]+="$nd:$gb "
            done
        done
        local base; base=$(echo "${node[none]}" | tr ' ' '\n' | grep . | cut -d: -f1 | median)
        local base_g; base_g=$(echo "${sent[none]}" | tr ' ' '\n' | grep . | median)
        for tool in agent tcpdump; do
            local sg cs nds
            sg=$(echo "${sent[$tool]}" | tr ' ' '\n' | grep . | median)
            cs=$(echo "${cpu[$tool]}" | tr ' ' '\n' | grep . | median)
            nds=$(echo "${node[$tool]}" | tr ' ' '\n' | grep . | awk -F: -v b="$base" '{print ($2 > 0 ? ($1 - b) / $2 : 0)}' | median)
            printf '%-5s | %-8s | %-24s | %4s (%4s) | %16.2f | %15.2f | %d/%d\n' "$r" "$tool" "${lost[$tool]}" \
                "$sg" "$base_g" "$cs" "$nds" "${ok[$tool]}" "$TRIALS"
        done
        unset sent lost cpu node gbs ok
    done
    echo "(lost = packets the veth passed minus packets archived; sent = iperf3's rate with the tool (without any))"
    [ -n "${VERBOSE:-}" ] && cat trials.log
}

for part in $PARTS; do "$part"; done
