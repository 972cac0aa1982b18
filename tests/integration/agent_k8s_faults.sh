#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's Kubernetes layer under faults, while it captures real traffic
# (pings between two pods of a node namespace, 20 a second, for the whole
# test): watch streams with garbage (not JSON, an event without an object, a
# pod without a name, an unknown kind), a 10,000-label pod, a 410, a cut
# stream, a rotated token, stalled watches, then the API server down 60 s and back with a pod
# deleted and another added meanwhile. Capture never stops (every ping is
# archived), bad input is counted and logged once a minute, huge objects are
# cut, the outage costs almost no CPU (printed), and the events recover with
# sync records and the deletion reported at relist.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/kubeapi.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
need_root
need_cmd ip curl python3 openssl zstd tshark ping
tv_tmpdir
cd "$TV_TMP"
N=tvfn$$ A=tvfa$$ B=tvfb$$
node_with_pods "$N" "$A" "$B"
podj() { # NAME IP [LABELS-JSON]
    printf '{"kind":"Pod","metadata":{"name":"%s","namespace":"shop","uid":"uid-%s","labels":%s},"spec":{"nodeName":"n1","containers":[{"name":"c","image":"x"}]},"status":{"phase":"Running","podIP":"%s","podIPs":[{"ip":"%s"}]}}' \
        "$1" "$1" "${3:-{\}}" "$2" "$2"
}
cat > cluster.json <<JSON
{"kind": "List", "items": [
 {"kind": "Namespace", "metadata": {"name": "shop"}},
 $(podj pa 10.215.0.2), $(podj pb 10.215.0.3), $(podj old 10.215.0.9)
]}
JSON
KUBEAPI_EXEC="ip netns exec $N"
kubeapi_start cluster.json

bg ip netns exec "$N" "$AGENT" -n n1 -i vh-a -i vh-b -b "$TV_TMP/buf" --seal-interval 2s --storage-size 1Gi \
    --kubeconfig "$TV_TMP/kubeconfig" --kubernetes require --set agent.kubernetesStallTimeout=3s \
    --metrics-addr 127.0.0.1:9124 --log-level info 2>agent.log
AG=$BG_PID
metric() { ip netns exec "$N" curl -sf http://127.0.0.1:9124/metrics | awk -v n="$1" '$1 == n {print $2}'; }
wait_for 10 sh -c "ip netns exec $N curl -sf http://127.0.0.1:9124/metrics | grep -q 'tapvault_k8s_watching{resource=\"pods\"} 1'" ||
    fail "not watching: $(tail -5 agent.log)"
PINGS=1700 # 85 s at 20 a second: the whole test
ip netns exec "$A" ping -c $PINGS -i 0.05 -q 10.215.0.3 > ping.out 2>&1 & PING=$!; TV_PIDS+=("$PING")

note "garbage on the watch streams, a 10,000-label pod"
control POST '/fault/garbage?n=5' >/dev/null
control POST /fault/expire >/dev/null # every watch ends: the next ones get the garbage
python3 -c 'import json; print(json.dumps({"l%05d" % i: "v" * 40 for i in range(10000)}))' > labels.json
podj huge 10.215.0.7 "$(cat labels.json)" > huge.json
control POST /objects @huge.json >/dev/null || fail "huge pod" # curl reads the body from the file
wait_for 10 sh -c '[ "$(ip netns exec '"$N"' curl -sf http://127.0.0.1:9124/metrics | awk '"'"'$1 == "tapvault_k8s_objects_truncated_total" {print $2}'"'"')" -ge 1 ]' ||
    fail "the huge pod was not cut: $(tail -5 agent.log)"
wait_for 10 sh -c '[ "$(ip netns exec '"$N"' curl -sf http://127.0.0.1:9124/metrics | awk '"'"'$1 == "tapvault_k8s_objects_skipped_total" {print $2}'"'"')" -ge 1 ]' ||
    fail "the nameless pod was not counted as skipped"
[ "$(metric 'tapvault_k8s_errors_total{resource="pods"}')" -ge 1 ] || fail "garbage lines not counted"
[ "$(grep -c 'not an event' agent.log)" -le 5 ] || fail "garbage logged more than once a minute per resource: $(grep -c 'not an event' agent.log)"

note "a cut stream, a 410, a rotated token"
control POST '/fault/cut?n=5' >/dev/null
control POST /fault/expire >/dev/null
sleep 2
echo "token-two" > token
control POST /fault/expire >/dev/null
control POST /objects "$(podj pc 10.215.0.5)" >/dev/null
wait_for 15 sh -c '[ "$(ip netns exec '"$N"' curl -sf http://127.0.0.1:9124/metrics | awk '"'"'$1 == "tapvault_k8s_objects{resource=\"pods\"}" {print $2}'"'"')" = 5 ]' ||
    fail "pc not seen after the rotation: $(tail -5 agent.log)"

note "stalled watches (nothing sent, not even bookmarks): cut after agent.kubernetesStallTimeout (3 s), watched again"
errs0=$(metric 'tapvault_k8s_errors_total{resource="pods"}')
control POST '/fault/stall?n=5' >/dev/null
control POST /fault/expire >/dev/null # the relisted resources' next watches stall
sleep 1
control POST /objects "$(podj pf 10.215.0.4)" >/dev/null
wait_for 20 sh -c '[ "$(ip netns exec '"$N"' curl -sf http://127.0.0.1:9124/metrics | awk '"'"'$1 == "tapvault_k8s_objects{resource=\"pods\"}" {print $2}'"'"')" = 6 ]' ||
    fail "pf not seen after the stall: $(tail -5 agent.log)"
wait_for 10 sh -c '[ "$(ip netns exec '"$N"' curl -sf http://127.0.0.1:9124/metrics | awk '"'"'$1 == "tapvault_k8s_errors_total{resource=\"pods\"}" {print $2}'"'"')" -gt '"$errs0"' ]' ||
    fail "no stalled watch was cut (pods errors stayed $errs0)"

note "the API server down 60 s"
rv=$(control POST /objects "$(podj pd 10.215.0.6)" | tr -d ' \n')
sleep 1
kill "$KUBEAPI_PID"; wait "$KUBEAPI_PID" 2>/dev/null
ticks() { awk '{print $14 + $15}' "/proc/$AG/stat"; }
t0=$(ticks); t_down=$(date +%s%N); sleep 60; t1=$(ticks)
cpu=$(awk "BEGIN{print ($t1 - $t0) / $(getconf CLK_TCK)}")
note "agent CPU during the 60 s outage (capturing 40 packets/s meanwhile): $cpu s"
awk "BEGIN{exit !($cpu < 1.5)}" || fail "busy loop while the API server was down: $cpu s in 60 s"
python3 - cluster.json > after.json <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["items"] = [o for o in doc["items"] if o["metadata"]["name"] != "old"]  # deleted during the outage
doc["items"].append({"kind": "Pod", "metadata": {"name": "pe", "namespace": "shop", "uid": "uid-pe"},
                     "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]},
                     "status": {"phase": "Running", "podIP": "10.215.0.8", "podIPs": [{"ip": "10.215.0.8"}]}})
print(json.dumps(doc))
PY
sed -i "s|https://127.0.0.1:[0-9]*|https://127.0.0.1:$API|" kubeconfig
kubeapi_start after.json --port "$API" --rv-start $((rv + 100))
t_up=$(date +%s%N)
wait_for 45 sh -c "ip netns exec $N curl -sf http://127.0.0.1:9124/metrics | grep -q 'tapvault_k8s_watching{resource=\"pods\"} 1'" ||
    fail "not watching again after the outage: $(tail -5 agent.log)"
wait "$PING"
kill -TERM "$AG"; wait "$AG" || fail "agent: $(tail -5 agent.log)"
grep -q "$PINGS packets transmitted" ping.out || fail "ping: $(cat ping.out)"

note "capture never stopped: every ping archived"
"$TV" pcap --store "file://$TV_TMP/buf" --from 0 --to now --no-dedup -o all.pcapng 2>/dev/null || fail "pcap"
req=$(tshark -r all.pcapng -Y 'frame.interface_name == "n1/vh-a" && icmp.type == 8' 2>/dev/null | wc -l)
[ "$req" = "$PINGS" ] || fail "vh-a: $req echo requests archived, ping sent $PINGS"
note "vh-a: all $req echo requests archived"

note "the events recovered: sync records, the pod deleted meanwhile reported at relist"
for f in $(find buf/v1/nodes -name '*.events.jsonl.zst' | sort); do zstd -dcq "$f"; done > events.txt
python3 - events.txt "$t_down" "$t_up" <<'PY' || fail "events"
import json, sys
t_down, t_up = int(sys.argv[2]), int(sys.argv[3])
recs = [json.loads(l) for l in open(sys.argv[1])]
k8s = [r for r in recs if r["type"] == "k8s" and r["object"]["kind"] == "pod"]
old = [r for r in k8s if r["object"]["name"] == "old" and r["action"] == "deleted"]
assert old and old[0].get("at_relist") and old[0]["ts"] >= t_up, old
assert any(r["object"]["name"] == "pe" and r["action"] == "added" for r in k8s), "pe never added"
huge = [r for r in k8s if r["object"]["name"] == "huge"]
assert huge and huge[0]["object"].get("truncated") and huge[0]["object"]["labels"] == {}, huge[:1]
syncs = [r for r in recs if r["type"] == "sync" and r["resource"] == "pods" and r["why"] == "relist"]
gap = [s for s in syncs if s["from"] <= t_down + 2 * 10**9 and s["to"] >= t_up]
assert gap, "no sync record covering the outage: %s" % [(s["from"], s["to"]) for s in syncs]
print("events: %d pod records, %d relist sync records (one covering the %.0f s outage), old deleted at relist, huge cut" % (
    len(k8s), len(syncs), (gap[0]["to"] - gap[0]["from"]) / 1e9))
PY
echo "PASS: agent Kubernetes faults"
