#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# charts/tapvault with helm 3.17 (from the npm package the install script
# unpacks into .tools/bin): `helm lint --strict` and `helm template` of five
# values files (default, eBPF, namespaces filter, custom tolerations, IRSA);
# every rendered object validated offline against the Kubernetes API
# schemas (tests/k8s/validate.js; the ServiceMonitor, a CRD, by its shape);
# the ConfigMap's file read by the agent and the uploader (--print-config:
# each refuses an unknown key) and by `tapvault snapshot --config`, and
# every key it renders found in one of those three tables; capabilities,
# mounts and credentials per values file; bad values refused by
# values.schema.json naming the key; NOTES.txt rendered; and the Indexed
# Job `tapvault dissect --job --values` prints validated the same way.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
ROOT=$(cd "$HERE/../.." && pwd)
BIN=$(cd "$(dirname "${1:?usage: $0 path/to/tapvault}")" && pwd)
TV=$BIN/tapvault
AGENT=$(realpath "$BIN/../nodeagent/tapvault-agent")
UPLOADER=$(realpath "$BIN/../uploader/tapvault-uploader")
HELM=$ROOT/.tools/bin/helm
CHART=$ROOT/charts/tapvault
[ -x "$HELM" ] || fail "helm missing: run scripts/install-deps.sh"
need_cmd node python3
PY3=/usr/bin/python3
$PY3 -c 'import yaml' || fail "python3-yaml missing"
tv_tmpdir
cd "$TV_TMP"
"$HELM" version --short

for v in default ebpf namespaces tolerations irsa; do
    note "values $v"
    vals=$HERE/values/$v.yaml
    "$HELM" lint --strict "$CHART" -f "$vals" >lint.log 2>&1 || { cat lint.log; fail "helm lint --strict ($v)"; }
    "$HELM" template tv "$CHART" -n tapvault -f "$vals" >"$v.yaml" 2>err.log || fail "helm template ($v): $(cat err.log)"
    # one JSON file per object, for the validator; the ConfigMap's file
    $PY3 - "$v" <<'PY' || fail "rendered objects of $v"
import json, sys, yaml
v = sys.argv[1]
docs = [d for d in yaml.safe_load_all(open(v + ".yaml")) if d]
kinds = sorted(d["kind"] for d in docs)
for i, d in enumerate(docs):
    if d["kind"] == "ServiceMonitor":
        s = d["spec"]
        assert d["apiVersion"] == "monitoring.coreos.com/v1" and s["selector"]["matchLabels"], d
        assert {e["port"] for e in s["endpoints"]} == {"metrics-agent", "metrics-upload"}, s
        continue
    json.dump(d, open(f"{v}-{i}.json", "w"))
cm = [d for d in docs if d["kind"] == "ConfigMap"][0]
open(v + "-tapvault.yaml", "w").write(cm["data"]["tapvault.yaml"])
print(" ".join(kinds))
PY
    node "$ROOT/tests/k8s/validate.js" "$v"-*.json || fail "$v: an object does not validate"

    # the programs read the rendered file: each refuses a key it does not know
    "$AGENT" --config "$v-tapvault.yaml" --print-config >agent.cfg 2>err.log || fail "agent refuses $v's ConfigMap: $(cat err.log)"
    "$UPLOADER" --config "$v-tapvault.yaml" --print-config >uploader.cfg 2>err.log ||
        fail "uploader refuses $v's ConfigMap: $(cat err.log)"
    "$TV" snapshot create x --config "$v-tapvault.yaml" --print-config >snapshot.cfg 2>err.log ||
        fail "snapshot --config refuses $v's ConfigMap: $(cat err.log)"
    $PY3 - "$v" <<'PY' || fail "$v: a rendered key is in no program's table"
import sys, yaml
def keys(doc, pre=""):
    for k, val in (doc or {}).items():
        if isinstance(val, dict):
            yield from keys(val, pre + k + ".")
        else:
            yield pre + k
v = sys.argv[1]
rendered = set(keys(yaml.safe_load(open(v + "-tapvault.yaml"))))
def printed_keys(path):
    # --print-config prints one mapping per table part, so a top-level key
    # (store:) can come twice: read it line by line, by indentation
    stack = []
    for line in open(path):
        body = line.split("  #")[0].rstrip()
        if not body.strip() or body.lstrip().startswith("#") or body.lstrip().startswith("- "):
            continue
        depth = (len(body) - len(body.lstrip())) // 2
        k, _, val = body.strip().partition(":")
        stack[depth:] = [k]
        if val.strip():
            yield ".".join(stack)
known = set()
for f in ("agent.cfg", "uploader.cfg", "snapshot.cfg"):
    known |= set(printed_keys(f))
missing = rendered - known
assert not missing, f"unknown to every table: {sorted(missing)}"
print(f"{len(rendered)} keys rendered, all in the agent's, uploader's or snapshot's table")
PY
done

note "what each values file asks for is what was rendered"
$PY3 - <<'PY' || fail "rendered objects are not what the values asked for"
import yaml
def load(v):
    return {d["kind"] + "/" + d["metadata"]["name"]: d for d in yaml.safe_load_all(open(v + ".yaml")) if d}
def ds(objs):
    return [d for d in objs.values() if d["kind"] == "DaemonSet"][0]["spec"]["template"]["spec"]
def container(spec, name):
    return [c for c in spec["containers"] if c["name"] == name][0]
def caps(spec):
    return set(container(spec, "agent")["securityContext"]["capabilities"]["add"])
D, E, N, T, I = (load(v) for v in ("default", "ebpf", "namespaces", "tolerations", "irsa"))
d = ds(D)
assert d["hostNetwork"] is True and d["tolerations"] == [{"operator": "Exists"}]
assert caps(d) == {"NET_RAW", "NET_ADMIN", "BPF", "PERFMON", "SYS_PTRACE", "SYS_RESOURCE"}, caps(d)
for c in d["containers"]:
    sc = c["securityContext"]
    assert sc["capabilities"]["drop"] == ["ALL"] and sc["readOnlyRootFilesystem"] and not sc["allowPrivilegeEscalation"]
assert "add" not in container(d, "uploader")["securityContext"]["capabilities"]
vols = {v["name"]: v for v in d["volumes"]}
assert vols["buffer"]["hostPath"]["path"] == "/var/lib/tapvault", vols
assert vols["host-cgroup"]["hostPath"]["path"] == "/sys/fs/cgroup" and vols["host-proc"]["hostPath"]["path"] == "/proc"
mounts = {m["name"]: m for m in container(d, "agent")["volumeMounts"]}
assert mounts["host-cgroup"]["readOnly"] and mounts["host-proc"]["readOnly"] and not mounts["buffer"].get("readOnly")
assert not any("emptyDir" in v and v["name"] == "buffer" for v in d["volumes"])
env = {e["name"] for e in container(d, "uploader").get("env", [])}
assert "AWS_ACCESS_KEY_ID" not in env, "default: no static keys"
role = [o for o in D.values() if o["kind"] == "ClusterRole"][0]["rules"]
res = {(g, r) for rule in role for g in rule["apiGroups"] for r in rule["resources"]}
assert res == {("", "pods"), ("", "services"), ("", "namespaces"), ("", "nodes"), ("discovery.k8s.io", "endpointslices")}, res
assert all(set(rule["verbs"]) == {"get", "list", "watch"} for rule in role)
# eBPF required, a Secret, a CA, a ServiceMonitor
e = ds(E)
env = {x["name"]: x for x in container(e, "uploader")["env"]}
assert env["AWS_SECRET_ACCESS_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "tapvault-store"
assert any(v["name"] == "ca" and v["configMap"]["name"] == "rgw-ca" for v in e["volumes"])
assert any(k.startswith("ServiceMonitor/") for k in E)
# OS layer off: no BPF capabilities, no host /proc or cgroup mounts
n = ds(N)
assert caps(n) == {"NET_RAW", "NET_ADMIN"}, caps(n)
assert not {"host-cgroup", "host-proc"} & {v["name"] for v in n["volumes"]}
cfg = yaml.safe_load([o for o in N.values() if o["kind"] == "ConfigMap"][0]["data"]["tapvault.yaml"])
assert cfg["tap"]["namespaces"] == ["shop", "payments"] and cfg["tap"]["excludedNamespaces"] == ["kube-system"]
assert cfg["tap"]["capture"]["stopped"] is True and cfg["agent"]["interfaces"] == ["eth0", "cni0"]
assert "hostProcRoot" not in cfg["agent"]
# only the taints asked for, a priority class
t = ds(T)
assert t["tolerations"] == [{"key": "dedicated", "operator": "Equal", "value": "capture", "effect": "NoSchedule"}]
assert t["priorityClassName"] == "system-node-critical" and t["nodeSelector"] == {"kubernetes.io/os": "linux"}
# IRSA: the role on the ServiceAccount, no keys anywhere
sa = I["ServiceAccount/tapvault-irsa"]
assert sa["metadata"]["annotations"]["eks.amazonaws.com/role-arn"] == "arn:aws:iam::123456789012:role/tapvault-uploader"
i = ds(I)
assert i["serviceAccountName"] == "tapvault-irsa"
assert not any(x["name"].startswith("AWS_") for c in i["containers"] for x in c.get("env", []))
print("capabilities, mounts, tolerations, credentials: as asked")
PY

note "values.schema.json refuses bad values, naming the key"
bad() { # KEY=VALUE WORD: helm refuses, its message names WORD
    "$HELM" template tv "$CHART" -f "$HERE/values/default.yaml" --set "$1" >/dev/null 2>bad.log &&
        fail "--set $1 was accepted"
    grep -q "$2" bad.log || fail "--set $1: the error does not name $2: $(cat bad.log)"
}
bad tap.packetCapture=pf_ring packetCapture
bad agent.osEvents=maybe osEvents
bad tap.capture.raw.storageSize=lots storageSize
bad store.url=http://wrong url
bad uploader.parallel=0 parallel
bad tap.regexp=x regexp
bad store.roleArn=admin roleArn
"$HELM" template tv "$CHART" >/dev/null 2>bad.log && fail "a chart without store.url rendered"
grep -q "url" bad.log || fail "missing store.url not named: $(cat bad.log)"

note "NOTES.txt"
# helm renders NOTES only on install, which needs a cluster; a copy of the
# chart with NOTES.txt under another name renders it offline
# (through tpl, as helm install renders it, into a ConfigMap helm can print)
cp -r "$CHART" notes-chart && mv notes-chart/templates/NOTES.txt notes-chart/NOTES.txt
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: notes}\ndata:\n  notes: |\n{{ tpl (.Files.Get "NOTES.txt") . | indent 4 }}\n' \
    >notes-chart/templates/notes.yaml
"$HELM" template tv notes-chart -n tapvault -f "$HERE/values/irsa.yaml" --show-only templates/notes.yaml >notes.yaml 2>err.log ||
    fail "NOTES.txt does not render: $(cat err.log)"
$PY3 -c 'import yaml; print(yaml.safe_load(open("notes.yaml"))["data"]["notes"])' | tee notes.txt
grep -q "IRSA role arn:aws:iam::123456789012:role/tapvault-uploader" notes.txt || fail "NOTES do not say the credentials"
grep -q "tapvault pcap --store s3://tapvault-prod-eu/cluster-b" notes.txt || fail "NOTES do not say how to read back"

note "the Indexed Job from the chart's values"
[ "tapvault $(awk '/^appVersion:/ {gsub(/"/, "", $2); print $2}' "$CHART/Chart.yaml")" = "$("$TV" --version)" ] ||
    fail "Chart.yaml's appVersion is not the binaries' version"
"$TV" dissect --job --values "$CHART/values.yaml" --values "$HERE/values/irsa.yaml" --shards 4 --from 2026-12-01T00:00:00Z \
    --to 2026-12-01T01:00:00Z --name incident-42 --namespace tapvault >job.yaml || fail "dissect --job --values"
$PY3 - <<'PY' || fail "the Job"
import json, yaml
j = yaml.safe_load(open("job.yaml"))
c = j["spec"]["template"]["spec"]["containers"][0]
assert j["spec"]["template"]["spec"]["serviceAccountName"] == "tapvault-irsa"
assert c["image"] == "tapvault:0.1.0", c["image"]
assert j["spec"]["backoffLimitPerIndex"] == 2 and j["spec"]["completions"] == 4
a = c["args"]
assert a[a.index("--store") + 1] == "s3://tapvault-prod-eu/cluster-b" and a[a.index("--region") + 1] == "eu-west-1"
assert c["resources"]["requests"] == {"cpu": "1", "memory": "2Gi"}
json.dump(j, open("job.json", "w"))
PY
node "$ROOT/tests/k8s/validate.js" job.json || fail "the Job does not validate"
echo PASS
