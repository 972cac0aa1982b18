#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The agent's Kubernetes layer against the test API server (tests/lib/kubeapi.py),
# on real traffic: a node namespace with two pods (as tests/lib/common.sh
# makes them); the API server runs in the node namespace. The agent watches
# pods, services, EndpointSlices, namespaces and nodes; every segment's events
# start with the whole state (the pods with their workload and container ids);
# a pod deleted and another one taking its IP a second later are k8s records
# stamped between the requests before and after; a 410 gives a sync record;
# `tapvault dissect` of the buffer names both ends from the agent's own
# events (no --k8s file), each by who held the address at that moment (the
# requests before the swap name api-1, those after api-2), with workload,
# node and the service whose EndpointSlice listed the pod; `tapvault pcap
# --pod/--namespace/--workload` keeps exactly the packets tshark selects by
# address and time; the metrics show the watches.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/kubeapi.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
need_root
need_cmd ip nginx curl python3 openssl zstd
tv_tmpdir
cd "$TV_TMP"
N=tvkn$$ A=tvka$$ B=tvkb$$
node_with_pods "$N" "$A" "$B"
mkdir -p www && echo hello > www/index.html
start_nginx "$B" "$TV_TMP" 10.215.0.3 80
cat > cluster.json <<'JSON'
{"kind": "List", "items": [
 {"kind": "Namespace", "metadata": {"name": "shop"}},
 {"kind": "Node", "metadata": {"name": "n1"}, "spec": {"podCIDR": "10.215.0.0/24"},
  "status": {"addresses": [{"type": "InternalIP", "address": "192.168.7.11"}]}},
 {"kind": "Pod", "metadata": {"name": "web-5d2a9-x1", "namespace": "shop", "uid": "pod-web",
   "labels": {"app": "web", "pod-template-hash": "5d2a9"},
   "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d2a9", "uid": "rs", "controller": true}]},
  "spec": {"nodeName": "n1", "containers": [{"name": "curl", "image": "curl"}]},
  "status": {"phase": "Running", "podIP": "10.215.0.2", "podIPs": [{"ip": "10.215.0.2"}],
   "containerStatuses": [{"name": "curl", "ready": true, "restartCount": 0, "image": "curl", "imageID": "",
     "containerID": "containerd://aaaa"}]}},
 {"kind": "Pod", "metadata": {"name": "api-1", "namespace": "shop", "uid": "pod-api-1"},
  "spec": {"nodeName": "n1", "containers": [{"name": "nginx", "image": "nginx"}]},
  "status": {"phase": "Running", "podIP": "10.215.0.3", "podIPs": [{"ip": "10.215.0.3"}]}},
 {"kind": "Service", "metadata": {"name": "api", "namespace": "shop"},
  "spec": {"clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"], "ports": [{"port": 80, "protocol": "TCP"}]}},
 {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
  "metadata": {"name": "api-x7k2p", "namespace": "shop", "labels": {"kubernetes.io/service-name": "api"}},
  "addressType": "IPv4", "ports": [{"port": 80, "protocol": "TCP"}],
  "endpoints": [{"addresses": ["10.215.0.3"], "conditions": {"ready": true},
                 "targetRef": {"kind": "Pod", "name": "api-1", "namespace": "shop"}}]}
]}
JSON
node "$HERE/../k8s/validate.js" cluster.json >/dev/null || fail "fixtures do not validate"
KUBEAPI_EXEC="ip netns exec $N"
kubeapi_start cluster.json

note "the agent, watching the API"
bg ip netns exec "$N" "$AGENT" -n n1 -i vh-a -i vh-b -b "$TV_TMP/buf" --seal-interval 1s --storage-size 1Gi \
    --kubeconfig "$TV_TMP/kubeconfig" --kubernetes require --metrics-addr 127.0.0.1:9119 --log-level info 2>agent.log
AG=$BG_PID
metric() { ip netns exec "$N" curl -sf http://127.0.0.1:9119/metrics | awk -v n="$1" '$1 == n {print $2}'; }
wait_for 10 sh -c "[ \"\$(ip netns exec $N curl -sf http://127.0.0.1:9119/metrics | awk '\$1 == \"tapvault_k8s_watching{resource=\\\"pods\\\"}\" {print \$2}')\" = 1 ]" ||
    fail "the agent does not watch pods: $(tail -5 agent.log)"

note "requests to api-1, then api-1 deleted and api-2 given its IP, then requests again"
for i in 1 2 3; do ip netns exec "$A" curl -sf -o /dev/null http://10.215.0.3/index.html || fail curl; done
t_before=$(date +%s%N)
sleep 1.2
control DELETE /objects/Pod/shop/api-1 >/dev/null || fail "delete api-1"
# the EndpointSlice controller takes the pod out of its service
control POST /objects '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"api-x7k2p","namespace":"shop","labels":{"kubernetes.io/service-name":"api"}},"addressType":"IPv4","endpoints":[]}' >/dev/null ||
    fail "update the slice"
sleep 0.5
control POST /objects '{"kind":"Pod","metadata":{"name":"api-2","namespace":"shop","uid":"pod-api-2"},"spec":{"nodeName":"n1","containers":[{"name":"nginx","image":"nginx"}]},"status":{"phase":"Running","podIP":"10.215.0.3","podIPs":[{"ip":"10.215.0.3"}]}}' >/dev/null ||
    fail "create api-2"
sleep 1.2
t_after=$(date +%s%N)
for i in 1 2 3; do ip netns exec "$A" curl -sf -o /dev/null http://10.215.0.3/index.html || fail curl; done
note "a 410 mid-watch"
control POST /fault/expire >/dev/null
sleep 2.5
[ "$(metric 'tapvault_k8s_relists_410_total{resource="pods"}')" -ge 1 ] || fail "no 410 relist counted"
[ "$(metric 'tapvault_k8s_objects{resource="pods"}')" = 2 ] || fail "pods cached: $(metric 'tapvault_k8s_objects{resource="pods"}')"
kill -TERM "$AG"; wait "$AG" || fail "agent: $(tail -5 agent.log)"

note "what the segments' events say"
for f in $(find buf/v1/nodes -name '*.events.jsonl.zst' | sort); do zstd -dcq "$f"; echo "#END"; done > events.txt
python3 - events.txt "$t_before" "$t_after" <<'PY' || fail "events: see above"
import json, sys
segs, cur = [], []
for line in open(sys.argv[1]):
    if line.startswith("#END"):
        segs.append(cur); cur = []
    else:
        cur.append(json.loads(line))
t_before, t_after = int(sys.argv[2]), int(sys.argv[3])
assert len(segs) >= 4, "expected several segments, got %d" % len(segs)
for s in segs:
    assert s[0]["type"] == "state", s[0]
    names = {o["name"] for r in s if r["type"] == "state" for o in r["objects"]}
    assert {"web-5d2a9-x1", "api", "shop", "n1"} <= names, "state without the cluster: %s" % sorted(names)
first = [o for r in segs[0] if r["type"] == "state" for o in r["objects"]]
web = next(o for o in first if o["name"] == "web-5d2a9-x1")
assert web["workload"] == {"kind": "Deployment", "name": "web"}, web
assert web["containers"] == ["containerd://aaaa"] and web["node"] == "n1" and web["uid"] == "pod-web", web
recs = [r for s in segs for r in s if r["type"] == "k8s"]
dele = [r for r in recs if r["action"] == "deleted" and r["object"]["name"] == "api-1"]
add = [r for r in recs if r["action"] == "added" and r["object"]["name"] == "api-2"]
assert dele and add, "no deleted api-1 / added api-2 records: %s" % [(r["action"], r["object"]["name"]) for r in recs]
assert t_before < dele[0]["ts"] < add[0]["ts"] < t_after, (t_before, dele[0]["ts"], add[0]["ts"], t_after)
syncs = [r for s in segs for r in s if r["type"] == "sync" and r["why"] == "relist"]
assert any(r["resource"] == "pods" for r in syncs), "no sync record for the pods' relist"
print("events: %d segments, every one with the whole state; api-1 deleted and api-2 added between the requests; %d relist sync records" % (len(segs), len(syncs)))
PY

note "dissect names both ends from the agent's own events"
"$TV" dissect --store "file://$TV_TMP/buf" --from 0 --to now -o entries.jsonl 2>dissect.log || fail "dissect: $(cat dissect.log)"
python3 - entries.jsonl "$t_before" "$t_after" <<'PY' || fail "entries"
import json, sys
t_before, t_after = int(sys.argv[2]), int(sys.argv[3])
es = sorted((json.loads(l) for l in open(sys.argv[1])), key=lambda e: e["timestamp"])
http = [e for e in es if e["protocol"]["name"] == "http"]
assert len(http) == 6, "expected 6 HTTP entries, got %d" % len(http)
for e in http:
    assert (e["src"].get("name"), e["src"].get("namespace")) == ("web-5d2a9-x1", "shop"), e["src"]
    before = e["timestamp"] * 1000000 < t_before
    want = "api-1" if before else "api-2"
    assert e["src"].get("workload") == {"kind": "Deployment", "name": "web"} and e["src"].get("node") == "n1", e["src"]
    assert e["dst"].get("name") == want, "entry at %d named %s, expected %s (the pod holding 10.215.0.3 then)" % (
        e["timestamp"], e["dst"].get("name"), want)
    # the slice listed api-1 as the service's endpoint; api-2 was never added to it
    assert e["dst"].get("service") == ("api" if before else None), e["dst"]
print("dissect: 6 HTTP entries; the 3 before the swap name api-1 (service api), the 3 after api-2 (same IP)")
PY

note "pcap --pod/--namespace/--workload: only those pods' packets, judged at each packet's time"
t_delete=$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    if l.startswith("#"): continue
    r = json.loads(l)
    if r["type"] == "k8s" and r["action"] == "deleted" and r["object"]["name"] == "api-1": print(r["ts"]); break' events.txt)
"$TV" pcap --store "file://$TV_TMP/buf" --from 0 --to now -o all.pcap 2>/dev/null || fail "pcap"
count() { tshark -r "$1" -Y "$2" 2>/dev/null | wc -l; }
# the reference: tshark's own selection of the same packets from the whole window
t_del_s=$(python3 -c "print('%d.%09d' % divmod($t_delete, 10**9))")
want_api1=$(count all.pcap "ip.addr==10.215.0.3 && frame.time_epoch < $t_del_s")
want_api2=$(count all.pcap "ip.addr==10.215.0.3 && frame.time_epoch >= $t_del_s")
want_web=$(count all.pcap "ip.addr==10.215.0.2")
[ "$want_api1" -gt 10 ] && [ "$want_api2" -gt 10 ] || fail "too few packets to judge: $want_api1 / $want_api2"
"$TV" pcap --store "file://$TV_TMP/buf" --from 0 --to now --pod '^api-1$' -o api1.pcap 2>pcap.log || fail "pcap --pod: $(cat pcap.log)"
"$TV" pcap --store "file://$TV_TMP/buf" --from 0 --to now --namespace shop --pod 'api-2' -o api2.pcap 2>>pcap.log || fail "pcap --namespace --pod"
"$TV" pcap --store "file://$TV_TMP/buf" --from 0 --to now --workload Deployment/web -o web.pcap 2>>pcap.log || fail "pcap --workload"
got_api1=$(count api1.pcap ""); got_api2=$(count api2.pcap ""); got_web=$(count web.pcap "")
[ "$got_api1" = "$want_api1" ] || fail "--pod ^api-1\$: $got_api1 packets, tshark finds $want_api1 to/from 10.215.0.3 before the deletion"
[ "$got_api2" = "$want_api2" ] || fail "--pod api-2: $got_api2 packets, tshark finds $want_api2 after the deletion"
[ "$got_web" = "$want_web" ] || fail "--workload Deployment/web: $got_web packets, tshark finds $want_web"
[ "$(count api1.pcap "frame.time_epoch >= $t_del_s")" = 0 ] || fail "--pod api-1 kept packets after api-1 was deleted"
"$TV" pcap --store "file://$TV_TMP/buf" --from 0 --to now --namespace nowhere -o none.pcap 2>none.log || fail "pcap --namespace nowhere"
grep -q "0 packets written (of the selected pods and processes)" none.log || fail "an empty selection is not reported: $(cat none.log)"
"$TV" pcap --store "file://$TV_TMP/buf" --from 0 --to now --pod '([' -o bad.pcap 2>bad.log; [ $? = 2 ] || fail "a bad --pod regex is not a usage error"
note "pcap: --pod api-1 $got_api1 packets, api-2 $got_api2, --workload web $got_web (= tshark on the whole window)"
note "the snapshot's manifest says who held each address over its window"
"$TV" snapshot create k8s-window --store "file://$TV_TMP/buf" --from 0 --to now 2>snap.log || fail "snapshot: $(cat snap.log)"
tar -xOf "$(find buf/v1/snapshots -name 'k8s-window.tar')" manifest.json > manifest.json || fail "no manifest"
python3 - manifest.json "$t_delete" <<'PY' || fail "manifest identities"
import json, sys, datetime
m = json.load(open(sys.argv[1])); t_delete = int(sys.argv[2])
ids = [i for i in m["identities"] if i["ip"] == "10.215.0.3"]
assert [i["name"] for i in ids] == ["api-1", "api-2"], ids
def ns(t):
    d = datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
    return int(d.timestamp()) * 10**9 + int(t.split(".")[1].rstrip("Z").ljust(9, "0")[:9]) if "." in t else int(d.timestamp()) * 10**9
assert abs(ns(ids[0]["to"]) - t_delete) < 10**6, (ids[0], t_delete)
web = [i for i in m["identities"] if i["name"] == "web-5d2a9-x1"]
assert web and web[0]["workload"] == {"kind": "Deployment", "name": "web"} and web[0]["node"] == "n1", web
node = [i for i in m["identities"] if i["kind"] == "node"]
assert node and node[0]["ip"] == "192.168.7.11", node
print("manifest: 10.215.0.3 held by api-1 until its deletion, then by api-2; web with its workload; node n1")
PY
echo "PASS: agent Kubernetes layer"
