#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# archive/kube's reflector (through tests/k8s/kube_watch) against the test API
# server: the node's pods listed (resourceVersion=0, fieldSelector), changes
# watched; a 410 while a pod was deleted -> relist, that pod reported DELETED
# "at relist" and a SYNC record; 429 + Retry-After honoured; the token file
# rotated -> re-read after the 401; a stream cut inside a chunk and a stalled
# stream -> watched again without a gap; the API server down 10 s -> no busy
# loop (CPU counted), then relisted with the changes made meanwhile.
#   tests/k8s/reflector.sh path/to/kube_watch
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/kubeapi.sh"
WATCH=$(realpath "${1:?usage: $0 path/to/kube_watch}")
need_cmd python3 openssl curl
tv_tmpdir
cd "$TV_TMP"
kubeapi_start "$HERE/fixtures/cluster.json"
log() { control GET /log; }
bg "$WATCH" --kubeconfig kubeconfig /api/v1/pods spec.nodeName=n1 3 > w.out 2> w.err
W=$BG_PID
seen() { wait_for "${2:-10}" grep -qE -- "$1" w.out || fail "kube_watch: no /$1/ in: $(cat w.out w.err)"; }

note "the node's pods listed, then watched"
seen "^ADDED shop/web-5d2a-x1 "
seen "^ADDED kube-system/kube-proxy-n1 "
seen "^SYNC start"
grep -q api-7f9c-y2 w.out && fail "a pod of another node came through the field selector"
log | grep -q 'pods fieldSelector=spec.nodeName%3Dn1&limit=500&resourceVersion=0' || fail "first list: $(log)"
control POST /objects "$(pod p1 n1 Pending)" >/dev/null
seen "^ADDED shop/p1 [0-9]+$"
control POST /objects "$(pod p1 n1 Running ready)" >/dev/null
seen "^MODIFIED shop/p1 [0-9]+$"

note "410 while the client is held off (429s): a pod deleted meanwhile is reported at relist"
control POST '/fault/throttle?n=2' >/dev/null
control POST /fault/expire >/dev/null
control DELETE /objects/Pod/shop/p1 >/dev/null
control POST /objects "$(pod p2 n1 Pending)" >/dev/null
seen "^DELETED shop/p1 [0-9]+ relist$" 15
seen "^ADDED shop/p2 [0-9]+ relist$"
seen "^SYNC relist"
[ "$(log | grep -c ' 429\|pods fieldSelector=spec.nodeName%3Dn1&limit=500&resourceVersion=[1-9]')" -ge 1 ] ||
    fail "no relist at the last resourceVersion: $(log | tail -5)"

note "the token rotated: the client re-reads it after the 401"
echo "token-two" > token
control POST /objects "$(pod p3 n1 Pending)" >/dev/null
control POST '/fault/cut?n=1' >/dev/null
seen "^ADDED shop/p3 " 15

note "a stream cut inside a chunk, then a stalled one: watched again, nothing lost"
control POST '/fault/cut?n=1' >/dev/null
control POST '/fault/stall?n=1' >/dev/null
sleep 0.5
control POST /objects "$(pod p4 n1 Pending)" >/dev/null
seen "^ADDED shop/p4 " 20

note "the API server down 10 s: no busy loop, then relisted"
ticks() { awk '{print $14 + $15}' "/proc/$W/stat"; }
rv=$(control POST /objects "$(pod p5 n1 Pending)" | tr -d ' \n')
seen "^ADDED shop/p5 "
kill "$KUBEAPI_PID"; wait "$KUBEAPI_PID" 2>/dev/null
t0=$(ticks); sleep 10; t1=$(ticks)
cpu=$(awk "BEGIN{print ($t1 - $t0) / $(getconf CLK_TCK)}")
echo "kube_watch CPU during a 10 s outage: $cpu s"
awk "BEGIN{exit !($cpu < 0.2)}" || fail "busy loop while the API server was down: $cpu s in 10 s"
# the server comes back without p5 and with p6, resourceVersions going on
python3 - "$HERE/fixtures/cluster.json" > after.json <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["items"].append({"kind": "Pod", "metadata": {"name": "p6", "namespace": "shop"},
                     "spec": {"nodeName": "n1", "containers": [{"name": "c", "image": "x"}]}})
print(json.dumps(doc))
PY
sed -i "s|https://127.0.0.1:[0-9]*|https://127.0.0.1:$API|" kubeconfig
kubeapi_start after.json --port "$API" --rv-start $((rv + 100))
seen "^DELETED shop/p5 [0-9]+ relist$" 20
seen "^ADDED shop/p6 [0-9]+ relist$"
[ "$(grep -c '^SYNC relist' w.out)" -ge 2 ] || fail "no SYNC record after the outage: $(cat w.out)"

kill -TERM "$W"; wait "$W" || fail "kube_watch: $(cat w.err)"
cat w.err
grep -qE 'stats .*relists_410=[1-9]' w.err || fail "no 410 relist counted: $(cat w.err)"
note "an exec credential plugin (as EKS/GKE/AKS kubeconfigs use): run for the token, again after a 401"
cat > plugin.sh <<'SH'
#!/bin/sh
echo run >> "$RUNS"
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"%s"}}' "$(cat "$TOKEN_FILE")"
SH
chmod +x plugin.sh
cp token plugin-token
sed -e "s|tokenFile: .*}}]|exec: {apiVersion: client.authentication.k8s.io/v1, command: ./plugin.sh, env: [{name: TOKEN_FILE, value: $TV_TMP/plugin-token}, {name: RUNS, value: $TV_TMP/runs}]}}}]|" \
    kubeconfig > kubeconfig-exec
grep -q 'exec:' kubeconfig-exec || fail "kubeconfig-exec: $(cat kubeconfig-exec)"
bg "$WATCH" --kubeconfig kubeconfig-exec /api/v1/pods spec.nodeName=n1 1 > x.out 2> x.err
X=$BG_PID
wait_for 10 grep -q "^ADDED shop/p6 " x.out || fail "exec plugin: no list: $(cat x.err)"
[ "$(wc -l < runs)" = 1 ] || fail "the plugin ran $(wc -l < runs) times, want 1"
echo "token-three" > token; echo "token-three" > plugin-token
control POST /fault/expire >/dev/null # the watch ends: the relist meets the rotated token
control POST /objects "$(pod p7 n1 Pending)" >/dev/null
wait_for 15 sh -c '[ "$(wc -l < runs)" -ge 2 ]' || fail "the plugin was not run again after the 401: $(cat x.err)"
control POST /objects "$(pod p8 n1 Pending)" >/dev/null
wait_for 15 grep -q "^ADDED shop/p8 " x.out || fail "exec plugin: nothing after the 401: $(cat x.err)"
kill -TERM "$X"; wait "$X" || fail "kube_watch (exec): $(cat x.err)"
echo "exec plugin: run $(wc -l < runs) times (start, after the token was rotated)"

echo "PASS: reflector ($(grep -c . w.out) events and sync records)"
