# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the shell tests: skipping, failing, temp dirs, network
# namespaces. Every process a test starts is recorded and ended by PID on exit;
# every namespace it makes is removed.

TV_PIDS=()
TV_NETNS=()
TV_TMP=""

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "== [${SECONDS}s] $*"; }

tv_cleanup() {
    set +e # runs from an EXIT trap: a dead PID must not stop the rest
    local pid ns
    for pid in "${TV_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${TV_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    for ns in "${TV_NETNS[@]}"; do ip netns del "$ns" 2>/dev/null; done
    if [ -n "$TV_TMP" ]; then [ -n "${TV_KEEP:-}" ] && echo "kept $TV_TMP" || rm -rf "$TV_TMP"; fi
}
trap tv_cleanup EXIT

tv_tmpdir() { TV_TMP=$(mktemp -d /tmp/tv-test.XXXXXX); }

need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"; }
need_cmd() { local c; for c in "$@"; do command -v "$c" >/dev/null || fail "missing $c: run scripts/install-deps.sh"; done; }

# metric_value NAME: the value of metric NAME in Prometheus text on stdin.
metric_value() { awk -v n="$1" '$1 == n { print $2 }'; }

# free_port: a TCP port nobody listens on at 127.0.0.1 right now.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# all_marked BUF: every sealed segment in buffer BUF is marked uploaded. Unlike
# the uploader's backlog metric, this cannot pass before a new segment is scanned.
all_marked() {
    local sealed marked
    sealed=$(find "$1/v1" -name '*.idx' 2>/dev/null | wc -l)
    marked=$(find "$1/.uploaded" -type f 2>/dev/null | wc -l)
    [ "$sealed" -gt 0 ] && [ "$marked" = "$sealed" ]
}

# bg CMD...: start in the background, remember the PID in $BG_PID.
bg() { "$@" & BG_PID=$!; TV_PIDS+=("$BG_PID"); }

# lo_traffic SECONDS: UDP datagrams to 127.0.0.1:9 (discard), 200 a second,
# in the background, so a capture on lo never depends on what else runs.
lo_traffic() {
    bg python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
end = time.time() + float(sys.argv[1])
while time.time() < end:
    s.sendto(b"tapvault test traffic " * 20, ("127.0.0.1", 9))
    time.sleep(0.005)
' "$1"
}

# wait_for SECONDS CMD...: poll CMD until it succeeds or the time is up.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -ge $deadline ] && return 1
        sleep 0.1
    done
}

# netns_pair NAME_A NAME_B IP_A IP_B: two namespaces joined by a veth pair
# (a<->b), /24 addresses, loopback up. Interfaces are named veth-a / veth-b.
netns_pair() {
    local a=$1 b=$2 ipa=$3 ipb=$4
    ip netns add "$a" || fail "ip netns add $a"; TV_NETNS+=("$a")
    ip netns add "$b" || fail "ip netns add $b"; TV_NETNS+=("$b")
    ip link add veth-a netns "$a" type veth peer name veth-b netns "$b" || fail "veth"
    ip -n "$a" addr add "$ipa/24" dev veth-a
    ip -n "$b" addr add "$ipb/24" dev veth-b
    ip -n "$a" link set veth-a up; ip -n "$a" link set lo up
    ip -n "$b" link set veth-b up; ip -n "$b" link set lo up
}

# start_nginx NS DIR IP PORT [MORE_PORTS...]: nginx in NS serving DIR on
# IP:PORT (and the other ports), gzip on.
start_nginx() {
    local ns=$1 dir=$2 ip=$3 port=$4 more="" p
    shift 4
    for p in "$@"; do more+=" listen $ip:$p;"; done
    cat > "$dir/nginx.conf" <<CONF
daemon off;
master_process off;
user root;
pid $dir/nginx.pid;
error_log $dir/nginx.err warn;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path $dir/tmp;
    gzip on; gzip_types text/plain application/json; gzip_min_length 100; gzip_proxied any;
    server {
        listen $ip:$port;$more
        root $dir/www;
        location /echo { client_max_body_size 10m; return 200 "ok\n"; }
        location /boom { return 500 "boom\n"; }
    }
}
CONF
    mkdir -p "$dir/tmp"
    bg ip netns exec "$ns" nginx -c "$dir/nginx.conf"
    wait_for 10 ip netns exec "$ns" bash -c "exec 3<>/dev/tcp/$ip/$port" || fail "nginx did not start"
}

# start_tcpdump NS IFACE FILE [FILTER...]: full-snaplen capture; waits until listening.
start_tcpdump() {
    local ns=$1 ifc=$2 file=$3; shift 3
    bg ip netns exec "$ns" tcpdump -i "$ifc" -s 0 -w "$file" -U "$@" 2>"$file.log"
    TCPDUMP_PID=$BG_PID
    wait_for 10 grep -q "listening on" "$file.log" || fail "tcpdump did not start: $(cat "$file.log")"
}

# host_cgroup_view DIR: the host's cgroup2 tree bind-mounted read-only at
# DIR, where the chart mounts it for the agent (`ip netns exec` hides
# /sys/fs/cgroup). Sets CG to the tree's mount point. The caller unmounts
# DIR (umount -l) before tv_cleanup removes the temp dir.
host_cgroup_view() {
    CG=$(findmnt -t cgroup2 -n -o TARGET | head -1)
    [ -n "$CG" ] || return 1
    mkdir -p "$1" && mount --bind "$CG" "$1" && mount -o remount,bind,ro "$1" || fail "bind mount of $CG"
}
stop_pid() { kill -INT "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

# node_with_pods NODE POD_A POD_B: a "node" namespace with a bridge br0 and
# two "pod" namespaces joined to it by veths, as a CNI joins pods to the
# node's root namespace. Pods get 10.215.0.2 and 10.215.0.3 on eth0; the
# node-side ends are vh-a and vh-b, where node agents capture.
node_with_pods() {
    local node=$1 a=$2 b=$3
    ip netns add "$node" || fail "ip netns add $node"; TV_NETNS+=("$node")
    ip -n "$node" link set lo up
    ip -n "$node" link add br0 type bridge
    ip -n "$node" link set br0 up
    local pod ip side
    for spec in "$a:10.215.0.2:vh-a" "$b:10.215.0.3:vh-b"; do
        IFS=: read -r pod ip side <<<"$spec"
        ip netns add "$pod" || fail "ip netns add $pod"; TV_NETNS+=("$pod")
        ip -n "$node" link add "$side" type veth peer name eth0 netns "$pod"
        ip -n "$node" link set "$side" master br0 up
        ip -n "$pod" addr add "$ip/24" dev eth0
        ip -n "$pod" link set eth0 up
        ip -n "$pod" link set lo up
    done
}
