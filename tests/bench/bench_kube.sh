#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Kubernetes reflector at cluster scale against the test API server:
# 5,000 pods on 50 nodes and 1,000 services listed at start, then 100 pod
# changes per second for 60 s (bounded). Prints the watcher's CPU, peak RSS
# and API requests per minute, for every pod cluster-wide (what naming the far
# end of every connection needs) and for the node's own (fieldSelector), and
# for client-go itself (kubectl 1.32 `get pods -A -w`) as the reference,
# and for the whole agent (five resources, events written, capture scope).
#   tests/bench/bench_kube.sh [CHANGES_PER_S] [SECONDS]
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
. "$ROOT/tests/lib/kubeapi.sh"
WATCH=${BENCH_KUBE_WATCH:-$ROOT/build-release/tests/kube_watch}
RATE=${1:-100} SECS=${2:-60}
[ -x "$WATCH" ] || fail "no $WATCH (scripts/build.sh Release)"
tv_tmpdir
cd "$TV_TMP"
python3 - > cluster.json <<'PY'
import json
items = [{"kind": "Namespace", "metadata": {"name": "ns%d" % i}} for i in range(50)]
for i in range(5000):
    items.append({"kind": "Pod", "metadata": {"name": "pod-%d" % i, "namespace": "ns%d" % (i % 50),
                  "labels": {"app": "app%d" % (i % 200), "pod-template-hash": "5d2a%d" % i},
                  "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "app%d-5d2a" % (i % 200),
                                       "uid": "rs%d" % (i % 200), "controller": True}]},
                  "spec": {"nodeName": "n%d" % (i % 50), "containers": [{"name": "c", "image": "img:%d" % i,
                           "ports": [{"containerPort": 8080}]}]},
                  "status": {"phase": "Running", "podIP": "10.%d.%d.%d" % (i // 65536, i // 256 % 256, i % 256),
                             "podIPs": [{"ip": "10.%d.%d.%d" % (i // 65536, i // 256 % 256, i % 256)}],
                             "containerStatuses": [{"name": "c", "containerID": "containerd://%064x" % i,
                                                    "ready": True, "restartCount": 0, "image": "img", "imageID": ""}]}})
for i in range(1000):
    items.append({"kind": "Service", "metadata": {"name": "svc-%d" % i, "namespace": "ns%d" % (i % 50)},
                  "spec": {"clusterIP": "10.96.%d.%d" % (i // 256, i % 256), "ports": [{"port": 80}]}})
print(json.dumps({"kind": "List", "items": items}))
PY
kubeapi_start cluster.json

drive() { # RATE changes a second for SECS seconds through the control port
    python3 - "$CTL" "$RATE" "$SECS" <<'PY'
import http.client, json, sys, time
port, rate, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
import socket
c = http.client.HTTPConnection("127.0.0.1", port)
c.connect()
c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
end, i = time.time() + secs, 0
while time.time() < end:
    t = time.time()
    for _ in range(rate // 10):
        n = i % 5000
        body = json.dumps({"kind": "Pod", "metadata": {"name": "pod-%d" % n, "namespace": "ns%d" % (n % 50),
                           "labels": {"app": "app%d" % (n % 200), "gen": str(i)}},
                           "spec": {"nodeName": "n%d" % (n % 50), "containers": [{"name": "c", "image": "img"}]},
                           "status": {"phase": "Running", "podIP": "10.%d.%d.%d" % (n // 65536, n // 256 % 256, n % 256)}})
        c.request("POST", "/objects", body); c.getresponse().read(); i += 1
    time.sleep(max(0, 0.1 - (time.time() - t)))
print("drove %d changes in %.0f s" % (i, secs), file=sys.stderr)
PY
}

measure() { # NAME FIELD_SELECTOR [kubectl]
    local name=$1 sel=$2 ref=${3:-}
    if [ -n "$ref" ]; then # client-go itself: kubectl get -w, every change printed
        bg "$ROOT/.tools/bin/kubectl" --kubeconfig kubeconfig get pods -A -w -o name > "$name.out" 2> "$name.err"
    else
        bg "$WATCH" --kubeconfig kubeconfig /api/v1/pods "$sel" > "$name.out" 2> "$name.err"
    fi
    local w=$BG_PID t0 r0
    if [ -n "$ref" ]; then
        wait_for 60 sh -c "[ \$(wc -l < $name.out) -ge 5000 ]" || fail "kubectl: no initial list: $(cat "$name.err")"
    else
        wait_for 60 sh -c "grep -q '^SYNC start' $name.out" || fail "no initial list: $(cat "$name.err")"
    fi
    echo "$name: listed $(if [ -n "$ref" ]; then wc -l < "$name.out"; else grep -c '^ADDED' "$name.out"; fi) pods; after the list: CPU $(awk '{printf "%.2f", ($14 + $15) / '"$(getconf CLK_TCK)"'}' /proc/$w/stat) s, RSS $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$w/status)"
    t0=$(awk '{print $14 + $15}' /proc/$w/stat); r0=$(control GET /log | wc -l)
    drive
    local t1 r1 events
    sleep 1 # the last changes reach the watcher
    t1=$(awk '{print $14 + $15}' /proc/$w/stat); r1=$(control GET /log | wc -l)
    if [ -n "$ref" ]; then events=$(( $(wc -l < "$name.out") - 5000 )); else events=$(grep -c '^MODIFIED' "$name.out"); fi
    local hwm; hwm=$(awk '/VmHWM/ {print $2 / 1024 " MiB"}' /proc/$w/status)
    kill -TERM "$w"; wait "$w" 2>/dev/null
    echo "$name: $events changes seen in ${SECS} s; CPU $(awk "BEGIN{printf \"%.2f\", ($t1 - $t0) / $(getconf CLK_TCK)}") s ($(awk "BEGIN{printf \"%.1f\", 100 * ($t1 - $t0) / $(getconf CLK_TCK) / $SECS}") % of a core); peak RSS $hwm; API requests per minute $(awk "BEGIN{printf \"%.1f\", ($r1 - $r0) * 60 / $SECS}")"
}
measure cluster-wide ""
measure one-node "spec.nodeName=n7"
[ -x "$ROOT/.tools/bin/kubectl" ] && measure kubectl-get-w "" kubectl

# The whole agent (root: it captures lo, idle): five resources watched
# cluster-wide, every change written into its segments' events, the capture
# scope re-planned on every pod change of its node (tap.namespaces set).
AGENT=${BENCH_KUBE_AGENT:-$ROOT/build-release/nodeagent/tapvault-agent}
if [ "$(id -u)" = 0 ] && [ -x "$AGENT" ]; then
    printf 'tap:\n  namespaces: [ns7]\n' > agent.yaml
    bg "$AGENT" -n n7 -i lo -b "$TV_TMP/buf" --seal-interval 10s --storage-size 1Gi --config agent.yaml \
        --kubeconfig kubeconfig --kubernetes require --log-level warn 2> agent.err
    w=$BG_PID
    wait_for 60 sh -c "[ \$(curl -sf http://127.0.0.1:$CTL/log | grep -c 'watch=true') -ge 5 ]" ||
        fail "agent: not watching: $(cat agent.err)"
    echo "agent: after the lists: CPU $(awk '{printf "%.2f", ($14 + $15) / '"$(getconf CLK_TCK)"'}' /proc/$w/stat) s, RSS $(awk '/VmRSS/ {print $2 / 1024 " MiB"}' /proc/$w/status)"
    t0=$(awk '{print $14 + $15}' /proc/$w/stat); r0=$(control GET /log | wc -l)
    drive
    sleep 1
    t1=$(awk '{print $14 + $15}' /proc/$w/stat); r1=$(control GET /log | wc -l)
    hwm=$(awk '/VmHWM/ {print $2 / 1024 " MiB"}' /proc/$w/status)
    kill -TERM "$w"; wait "$w" 2>/dev/null
    recs=$(for f in $(find buf -name '*.events.jsonl.zst'); do zstd -dcq "$f"; done | grep -c '"type":"k8s"')
    echo "agent: $recs k8s records written in ${SECS} s; CPU $(awk "BEGIN{printf \"%.2f\", ($t1 - $t0) / $(getconf CLK_TCK)}") s ($(awk "BEGIN{printf \"%.1f\", 100 * ($t1 - $t0) / $(getconf CLK_TCK) / $SECS}") % of a core); peak RSS $hwm; API requests per minute $(awk "BEGIN{printf \"%.1f\", ($r1 - $r0) * 60 / $SECS}")"
else
    echo "agent: skipped (needs root and $AGENT)"
fi
