#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `--interface auto` and the capture filters, on a routed-CNI node (each pod
# a namespace with a veth, a /32 route to it on the node, proxy ARP, as
# Calico does) with the test API server in the node namespace:
#  1. no filter: a pod created after the agent started is captured within
#     1 s of its veth appearing, every packet of it (the same as tcpdump on
#     that veth), and let go of when it is deleted;
#  2. tap.namespaces [a, c] with tap.excludedNamespaces [c]: only pods of a
#     are archived (c: excluded wins), a new pod of a is captured within 1 s
#     of appearing in the API, and the events' capture records say which pods
#     were in scope when;
#  3. SIGHUP with tap.namespaces [b]: b's pod is captured within 1 s;
#     br0's ports (a bridged CNI) carry a BPF filter of the in-scope pod's
#     address: the out-of-scope pod's own traffic is not archived;
#  4. listed interfaces with a filter: a BPF filter of the in-scope pods'
#     addresses (the out-of-scope pod's own traffic is not archived).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/kubeapi.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
need_root
need_cmd ip curl python3 openssl tcpdump tshark ping
tv_tmpdir
cd "$TV_TMP"
N=tvan$$
NODE_IP=10.217.255.1

ip netns add "$N" || fail "ip netns add"; TV_NETNS+=("$N")
ip -n "$N" link set lo up
ip netns exec "$N" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
# the node's address, and the pods' gateway answered by ARP on every veth (a local address)
ip -n "$N" addr add $NODE_IP/32 dev lo && ip -n "$N" addr add 169.254.1.1/32 dev lo || fail "node addresses"

# routed_pod NAME IP: a pod namespace on its own veth vh-NAME, routed by /32
routed_pod() {
    local name=$1 ip=$2 ns=tvap$$-$1
    ip netns add "$ns" || fail "ip netns add $ns"; TV_NETNS+=("$ns")
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$N" link add "vh-$name" type veth peer name eth0 netns "$ns" || fail "veth $name"
    ip netns exec "$N" sysctl -qw "net.ipv4.conf.vh-$name.proxy_arp=1"
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$ip/32" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add 169.254.1.1 dev eth0 scope link
    ip -n "$ns" route add default via 169.254.1.1 dev eth0
    ip -n "$N" link set "vh-$name" up
    ip -n "$N" route add "$ip/32" dev "vh-$name"
}
pod_ns() { echo "tvap$$-$1"; }
# bridged_pod NAME IP: a pod on br0 (a bridged CNI) by its veth vb-NAME
bridged_pod() {
    local name=$1 ip=$2 ns=tvap$$-$1
    ip netns add "$ns" || fail "ip netns add $ns"; TV_NETNS+=("$ns")
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    ip -n "$N" link add "vb-$name" type veth peer name eth0 netns "$ns" || fail "veth $name"
    ip -n "$N" link set "vb-$name" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "$ip/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add default via 10.217.1.1 dev eth0
}
pod_json() { # NAME NAMESPACE IP
    printf '{"kind":"Pod","metadata":{"name":"%s","namespace":"%s","uid":"uid-%s"},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]},"status":{"phase":"Running","podIP":"%s","podIPs":[{"ip":"%s"}]}}' \
        "$1" "$2" "$1" "$3" "$3"
}
metrics() { ip netns exec "$N" curl -sf "http://127.0.0.1:$1/metrics"; }
iface_up() { metrics "$1" | awk -v n="tapvault_interface_up{interface=\"$2\"}" '$1 == n {print $2}'; }
# ms_until_up PORT IFACE: milliseconds until the agent captures IFACE (fails after 5 s)
ms_until_up() {
    local t0; t0=$(date +%s%N)
    for _ in $(seq 250); do
        [ "$(iface_up "$1" "$2")" = 1 ] && { echo $(( ($(date +%s%N) - t0) / 1000000 )); return 0; }
        sleep 0.02
    done
    return 1
}
stop_agent() { kill -TERM "$1"; wait "$1" || fail "agent: $(tail -5 "$2")"; }

routed_pod web 10.217.0.10
start_nginx "$(pod_ns web)" "$TV_TMP" 10.217.0.10 80
mkdir -p www && echo hello > www/index.html

note "1. --interface auto, no filter, no Kubernetes API"
bg ip netns exec "$N" "$AGENT" -n n1 -i auto -b "$TV_TMP/buf1" --seal-interval 1s --storage-size 1Gi \
    --kubernetes off --metrics-addr 127.0.0.1:9121 --log-level info 2>agent1.log
AG=$BG_PID
wait_for 10 sh -c "ip netns exec $N curl -sf http://127.0.0.1:9121/metrics | grep -q 'tapvault_interface_up{interface=\"vh-web\"} 1'" ||
    fail "vh-web not captured: $(tail -5 agent1.log)"
t_create=$(date +%s%N)
routed_pod new 10.217.0.20
ms=$(ms_until_up 9121 vh-new) || fail "vh-new not captured within 5 s: $(tail -5 agent1.log)"
note "vh-new captured ${ms} ms after it was created"
[ "$ms" -le 1000 ] || fail "vh-new captured only after $ms ms (want <= 1000)"
# --immediate-mode: without it tcpdump's ring hands packets over a block at
# a time, and the last pings were still in an unfinished block when it was
# stopped (the reference then lacked them, not the agent)
ip netns exec "$N" tcpdump -i vh-new --immediate-mode -w ref.pcap -U 2>tcpdump.log & TD=$!; TV_PIDS+=("$TD")
wait_for 5 grep -q listening tcpdump.log || fail "tcpdump did not start"
for i in $(seq 20); do ip netns exec "$(pod_ns new)" curl -sf -o /dev/null http://10.217.0.10/index.html || fail "curl $i"; done
ip netns exec "$(pod_ns new)" ping -c 5 -i 0.05 -q $NODE_IP >/dev/null || fail "ping the node"
sleep 0.5
kill -INT "$TD"; wait "$TD"
note "the pod deleted: its veth is let go of"
ip netns del "$(pod_ns new)"
wait_for 3 sh -c "! ip netns exec $N curl -sf http://127.0.0.1:9121/metrics | grep -q 'interface=\"vh-new\"'" ||
    fail "vh-new still captured after its deletion: $(tail -3 agent1.log)"
stop_agent "$AG" agent1.log
"$TV" pcap --store "file://$TV_TMP/buf1" --from 0 --to now --no-dedup -o auto.pcapng 2>/dev/null || fail "pcap"
got=$(tshark -r auto.pcapng -Y 'frame.interface_name == "n1/vh-new"' -T fields -e frame.len 2>/dev/null | sort | md5sum)
ref=$(tshark -r ref.pcap -T fields -e frame.len 2>/dev/null | sort | md5sum)
n_got=$(tshark -r auto.pcapng -Y 'frame.interface_name == "n1/vh-new"' 2>/dev/null | wc -l)
n_ref=$(tshark -r ref.pcap 2>/dev/null | wc -l)
[ "$n_ref" -gt 100 ] || fail "tcpdump saw only $n_ref packets"
[ "$n_got" = "$n_ref" ] && [ "$got" = "$ref" ] || fail "vh-new: the agent kept $n_got packets, tcpdump $n_ref"
note "vh-new: $n_got packets, the same as tcpdump on the veth"

note "2. tap.namespaces [a, c], tap.excludedNamespaces [c], with the API"
routed_pod a1 10.217.0.31; routed_pod b1 10.217.0.32; routed_pod c1 10.217.0.33
ip -n "$N" link add br0 type bridge && ip -n "$N" addr add 10.217.1.1/24 dev br0 && ip -n "$N" link set br0 up ||
    fail "br0"
bridged_pod a3 10.217.1.2; bridged_pod b3 10.217.1.3
cat > cluster.json <<JSON
{"kind": "List", "items": [
 {"kind": "Namespace", "metadata": {"name": "a"}}, {"kind": "Namespace", "metadata": {"name": "b"}},
 {"kind": "Namespace", "metadata": {"name": "c"}},
 {"kind": "Node", "metadata": {"name": "n1"}, "status": {"addresses": [{"type": "InternalIP", "address": "$NODE_IP"}]}},
 $(pod_json web web 10.217.0.10), $(pod_json a1 a 10.217.0.31), $(pod_json b1 b 10.217.0.32), $(pod_json c1 c 10.217.0.33),
 $(pod_json a3 a 10.217.1.2), $(pod_json b3 b 10.217.1.3)
]}
JSON
node "$HERE/../k8s/validate.js" cluster.json >/dev/null || fail "fixtures do not validate"
KUBEAPI_EXEC="ip netns exec $N"
kubeapi_start cluster.json
cat > agent.yaml <<YAML
tap:
  namespaces: [a, c]
  excludedNamespaces: [c]
YAML
bg ip netns exec "$N" "$AGENT" -n n1 -i auto -b "$TV_TMP/buf2" --seal-interval 1s --storage-size 1Gi --config agent.yaml \
    --kubeconfig "$TV_TMP/kubeconfig" --kubernetes require --metrics-addr 127.0.0.1:9122 --log-level info 2>agent2.log
AG=$BG_PID
wait_for 10 sh -c "ip netns exec $N curl -sf http://127.0.0.1:9122/metrics | grep -q 'tapvault_interface_up{interface=\"vh-a1\"} 1'" ||
    fail "vh-a1 not captured: $(tail -5 agent2.log)"
metrics 9122 | grep -q 'interface="vh-b1"\|interface="vh-c1"\|interface="vh-web"' && fail "out-of-scope veths captured: $(metrics 9122 | grep interface_up)"
[ "$(metrics 9122 | awk '$1 == "tapvault_tap_pods_matched" {print $2}')" = 2 ] || fail "pods matched: $(metrics 9122 | grep tap_)"
[ "$(iface_up 9122 vb-a3)" = 1 ] && [ "$(iface_up 9122 vb-b3)" = 1 ] || fail "br0's ports not captured: $(metrics 9122 | grep interface_up)"
for p in a1 b1 c1; do ip netns exec "$(pod_ns $p)" ping -c 5 -i 0.05 -q $NODE_IP >/dev/null || fail "ping from $p"; done
for p in a3 b3; do ip netns exec "$(pod_ns $p)" ping -c 5 -i 0.05 -q 10.217.1.1 >/dev/null || fail "ping from $p"; done
ip netns exec "$(pod_ns b3)" ping -c 5 -i 0.05 -q 10.217.1.2 >/dev/null || fail "ping b3 -> a3"
note "a new pod of namespace a"
routed_pod a2 10.217.0.34
sleep 0.3
t_api=$(date +%s%N)
control POST /objects "$(pod_json a2 a 10.217.0.34)" >/dev/null || fail "create a2"
ms=$(ms_until_up 9122 vh-a2) || fail "vh-a2 not captured within 5 s: $(tail -5 agent2.log)"
note "vh-a2 captured ${ms} ms after the pod appeared in the API"
[ "$ms" -le 1000 ] || fail "vh-a2 captured only after $ms ms (want <= 1000)"
ip netns exec "$(pod_ns a2)" ping -c 5 -i 0.05 -q $NODE_IP >/dev/null || fail "ping from a2"

note "3. SIGHUP with tap.namespaces [b]"
printf 'tap:\n  namespaces: [b]\n' > agent.yaml
kill -HUP "$AG"
ms=$(ms_until_up 9122 vh-b1) || fail "vh-b1 not captured within 5 s of SIGHUP: $(tail -5 agent2.log)"
note "vh-b1 captured ${ms} ms after SIGHUP"
[ "$ms" -le 1000 ] || fail "vh-b1 captured only after $ms ms"
ip netns exec "$(pod_ns b1)" ping -c 5 -i 0.05 -q $NODE_IP >/dev/null || fail "ping from b1"
sleep 0.3
stop_agent "$AG" agent2.log
"$TV" pcap --store "file://$TV_TMP/buf2" --from 0 --to now --no-dedup -o scoped.pcapng 2>/dev/null || fail "pcap"
count() { tshark -r scoped.pcapng -Y "$1" 2>/dev/null | wc -l; }
[ "$(count 'icmp && ip.src == 10.217.0.31')" = 5 ] || fail "a1's pings: $(count 'icmp && ip.src == 10.217.0.31'), want 5"
[ "$(count 'icmp && ip.src == 10.217.0.34')" = 5 ] || fail "a2's pings: $(count 'icmp && ip.src == 10.217.0.34'), want 5"
[ "$(count 'icmp && ip.src == 10.217.0.32')" = 5 ] || fail "b1's pings after SIGHUP: $(count 'icmp && ip.src == 10.217.0.32')"
[ "$(count 'ip.addr == 10.217.0.33')" = 0 ] || fail "c1 (excluded) archived"
# br0's ports carry a BPF filter of a3's address: b3's own traffic is not archived, b3 -> a3 is (on both ports)
[ "$(count 'icmp && ip.src == 10.217.1.2 && ip.dst == 10.217.1.1')" = 5 ] || fail "a3 -> node: $(count 'icmp && ip.src == 10.217.1.2 && ip.dst == 10.217.1.1'), want 5"
[ "$(count 'ip.src == 10.217.1.3 && ip.dst == 10.217.1.1')" = 0 ] || fail "b3 -> node archived though b is out of scope"
[ "$(count 'icmp && ip.src == 10.217.1.3 && ip.dst == 10.217.1.2')" = 10 ] || fail "b3 -> a3: $(count 'icmp && ip.src == 10.217.1.3 && ip.dst == 10.217.1.2'), want 10 (5 on each port)"
[ "$(count 'ip.addr == 10.217.0.32 && frame.time_epoch < '"$(python3 -c "print($t_api/1e9)")")" = 0 ] ||
    fail "b1 archived before it came into scope"
for f in $(find buf2/v1/nodes -name '*.events.jsonl.zst' | sort); do zstd -dcq "$f"; done > events2.txt
python3 - events2.txt <<'PY' || fail "capture records"
import json, sys
caps = [json.loads(l) for l in open(sys.argv[1]) if '"type":"capture"' in l]
assert caps, "no capture records"
scopes = [(c["scope"], tuple(c.get("pods", []))) for c in caps]
assert any(sorted(p) == ["a/a1", "a/a3"] for _, p in scopes), scopes
assert any(sorted(p) == ["a/a1", "a/a2", "a/a3"] for _, p in scopes), scopes
assert any(sorted(p) == ["b/b1", "b/b3"] for _, p in scopes), scopes
ports = [i for c in caps for i in c["interfaces"] if i["name"] == "vb-b3"]
assert ports and all("host 10.217.1." in (i.get("filter") or "") for i in ports), ports
assert all(c["rule"]["excluded_namespaces"] == ["c"] for c in caps if "a/a1" in c.get("pods", [])), caps[0]
print("capture records: %d, scopes %s" % (len(caps), sorted(set(scopes))))
PY

note "4. listed interfaces with tap.namespaces [a]: a BPF filter of a's addresses"
printf 'tap:\n  namespaces: [a]\n' > agent.yaml
bg ip netns exec "$N" "$AGENT" -n n1 -i vh-a1 -i vh-b1 -b "$TV_TMP/buf3" --seal-interval 1s --storage-size 1Gi --config agent.yaml \
    --kubeconfig "$TV_TMP/kubeconfig" --kubernetes require --metrics-addr 127.0.0.1:9123 --log-level info 2>agent3.log
AG=$BG_PID
wait_for 10 sh -c "ip netns exec $N curl -sf http://127.0.0.1:9123/metrics | grep -q 'tapvault_tap_pods_matched 3'" ||
    fail "pods not matched: $(tail -5 agent3.log)"
ip netns exec "$(pod_ns b1)" ping -c 5 -i 0.05 -q $NODE_IP >/dev/null || fail "ping from b1"
ip netns exec "$(pod_ns b1)" ping -c 5 -i 0.05 -q 10.217.0.31 >/dev/null || fail "ping b1 -> a1"
sleep 0.3
stop_agent "$AG" agent3.log
"$TV" pcap --store "file://$TV_TMP/buf3" --from 0 --to now --no-dedup -o listed.pcapng 2>/dev/null || fail "pcap"
b_node=$(tshark -r listed.pcapng -Y "ip.addr == 10.217.0.32 && ip.addr == $NODE_IP" 2>/dev/null | wc -l)
b_a=$(tshark -r listed.pcapng -Y "icmp && ip.src == 10.217.0.32 && ip.dst == 10.217.0.31" 2>/dev/null | wc -l)
[ "$b_node" = 0 ] || fail "b1 <-> node archived ($b_node packets) though b is out of scope"
[ "$b_a" = 10 ] || fail "b1 -> a1 pings: $b_a packets, want 10 (5 on each veth)"
note "listed: b1's own traffic filtered out, b1 -> a1 kept ($b_a packets)"
echo "PASS: agent --interface auto and capture filters"
