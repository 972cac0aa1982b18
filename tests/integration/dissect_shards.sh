#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sharded dissection = unsharded dissection. Real traffic between two
# namespaces (keep-alive HTTP/1 connections held open across the whole
# capture with a request every 150 ms, two opened half way, short curl requests, redis-cli
# sessions, DNS) is imported as two nodes that saw the same packets (the
# merge deduplicates them) in 1 s segments, so the byte cuts fall inside
# long connections. Then for N = 1, 3 and 7:
#   - N shards run as N processes into a file:// out-store, merged with
#     --merge, give byte for byte the lines of one unsharded run (sorted the
#     same way): none missing, none twice, same ids;
#   - a rerun of a done shard replaces nothing; a killed shard (its part
#     written, no done marker) is rerun and the result is unchanged;
#   - the merge refuses while a part is missing, and a part that differs
#     from its done marker;
#   - a run under the same name with another shard count is refused.
# --job prints an Indexed Job whose args the binary accepts.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
need_root
need_cmd ip nginx curl tcpdump dig dnsmasq redis-server redis-cli python3
tv_tmpdir
cd "$TV_TMP"
C=tvshc$$ S=tvshs$$
netns_pair "$C" "$S" 10.217.0.1 10.217.0.2
mkdir -p www
echo hello > www/index.html
python3 -c "import json; print(json.dumps([{'id': i} for i in range(2000)]))" > www/items.json
start_nginx "$S" "$TV_TMP" 10.217.0.2 80
bg ip netns exec "$S" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=10.217.0.2 --bind-interfaces \
    --address=/svc.test/10.9.8.7 --pid-file="$TV_TMP/dnsmasq.pid" -q 2>dnsmasq.log
bg ip netns exec "$S" redis-server --bind 10.217.0.2 --port 6379 --save "" --appendonly no --dir "$TV_TMP" \
    --protected-mode no >redis.log 2>&1
wait_for 10 ip netns exec "$C" redis-cli -h 10.217.0.2 ping || fail "redis-server did not start"
start_tcpdump "$S" veth-b cap.pcap --immediate-mode -B 65536

note "traffic: 4 long keep-alive connections over ~7 s, short requests, redis, DNS"
cat > longconn.py <<'PY'
import http.client, sys, time
c = http.client.HTTPConnection("10.217.0.2", 80)
for i in range(int(sys.argv[1])):
    c.request("GET", "/items.json" if i % 3 == 0 else "/index.html?n=%d" % i)
    r = c.getresponse(); r.read()
    time.sleep(0.15)
c.close()
PY
cc() { ip netns exec "$C" "$@"; }
for k in 1 2; do bg cc python3 longconn.py 45; done
LONG=("${TV_PIDS[@]: -2}")
for i in $(seq 1 14); do
    if [ "$i" = 6 ]; then # two more that open in the middle: owned by a middle shard
        for k in 1 2; do bg cc python3 longconn.py 25; LONG+=("$BG_PID"); done
    fi
    cc curl -sf -o /dev/null "http://10.217.0.2/index.html?short=$i" || fail curl
    cc redis-cli -h 10.217.0.2 set "k$i" "v$i" >/dev/null
    cc dig +short +tries=1 @10.217.0.2 "n$i.svc.test" >/dev/null
    sleep 0.45
done
for p in "${LONG[@]}"; do wait "$p" || fail "a long connection failed"; done
sleep 0.5
stop_pid "$TCPDUMP_PID"

note "import as two nodes that saw the same packets, 1 s segments"
"$TV" import --store file://$TV_TMP/st --node node-a --seal-interval 1s -q cap.pcap || fail "import a"
"$TV" import --store file://$TV_TMP/st --node node-b --seal-interval 1s -q cap.pcap || fail "import b"
FROM=$(python3 -c "
import struct
d = open('cap.pcap','rb').read()
s, us = struct.unpack_from('<II', d, 24)
print(s - 1)")
TO=$((FROM + 120))
W=(--store file://$TV_TMP/st --from "$FROM" --to "$TO")
"$TV" dissect "${W[@]}" -o whole.jsonl || fail "unsharded dissect"
python3 - <<'PY' || fail "the unsharded run is not what the test needs"
import json
E = [json.loads(l) for l in open("whole.jsonl")]
long = {e["stream"] for e in E if e["protocol"]["name"] == "http" and e["index"] >= 20}
assert len(long) == 4, f"4 long connections expected, got {len(long)}"
assert sum(1 for e in E if e["protocol"]["name"] == "http") == 2 * 45 + 2 * 25 + 14
assert sum(1 for e in E if e["protocol"]["name"] == "redis") >= 14
assert sum(1 for e in E if e["protocol"]["name"] == "dns") == 14
PY
# the unsharded lines in the merge's order
python3 - <<'PY' >whole.sorted
import json, sys
L = open("whole.jsonl").read().splitlines()
L.sort(key=lambda l: (json.loads(l).get("startTime", ""), json.loads(l)["id"]))
sys.stdout.write("".join(l + "\n" for l in L))
PY

run_shards() { # NAME N: every shard as its own process, in parallel
    local name=$1 n=$2 i pids=()
    for ((i = 0; i < n; i++)); do
        "$TV" dissect "${W[@]}" --shard "$i/$n" --out-store "file://$TV_TMP/out" --name "$name" --stats \
            2>"shard-$name-$i.log" &
        pids+=($!)
    done
    for p in "${pids[@]}"; do wait "$p" || fail "a shard of $name failed: $(cat shard-$name-*.log)"; done
}

for N in 1 3 7; do
    note "N=$N"
    run_shards "run$N" "$N"
    "$TV" dissect --merge "run$N" --out-store "file://$TV_TMP/out" -o "merged$N.jsonl" || fail "merge N=$N"
    cmp -s whole.sorted "merged$N.jsonl" || {
        diff <(cut -c1-160 whole.sorted) <(cut -c1-160 "merged$N.jsonl") | head -20
        fail "N=$N: merged parts differ from the unsharded run"
    }
    # the plans the shards printed: every connection owned once, and (N > 1)
    # a connection open across a cut, read past its owner's slice
    python3 - "$N" shard-run$N-*.log <<'PY' || fail "N=$N: the shards' plans are not what the test needs"
import re, sys
n, plans = int(sys.argv[1]), []
for f in sys.argv[2:]:
    m = re.search(r"shard (\d+)/(\d+): slice (\d+)-(\d+) \((\d+) of (\d+) bytes\), (\d+) of (\d+) connections, "
                  r"reading (\d+)-(\d+)", open(f).read())
    assert m, f + ": no plan line"
    plans.append([int(x) for x in m.groups()])
assert sorted(p[0] for p in plans) == list(range(n))
assert sum(p[6] for p in plans) == plans[0][7], "connections owned by no shard or by two"
if n > 1:
    assert any(p[9] > p[3] for p in plans), "no connection crosses a cut: the test proves nothing"
    assert sum(1 for p in plans if p[6] > 0) >= 2, "one shard owns everything"
print(f"N={n}: " + "; ".join(f"{p[0]}: {p[6]} conns, slice {(p[3]-p[2])/1e9:.2f}s read {(p[9]-p[8])/1e9:.2f}s" for p in sorted(plans)))
PY
done

note "a done shard is not rerun; a killed shard is"
sha=$(sha256sum out/v1/dissections/run3/part-1.jsonl.zst | cut -c1-64)
"$TV" dissect "${W[@]}" --shard 1/3 --out-store "file://$TV_TMP/out" --name run3 2>rerun.log || fail "rerun of a done shard"
grep -q "already done" rerun.log || fail "a done shard ran again: $(cat rerun.log)"
[ "$(sha256sum out/v1/dissections/run3/part-1.jsonl.zst | cut -c1-64)" = "$sha" ] || fail "a done part was replaced"
# killed after writing its part, before its marker: the marker is what says done
rm out/v1/dissections/run3/part-2.done.json
echo garbage > out/v1/dissections/run3/part-2.jsonl.zst
"$TV" dissect --merge run3 --out-store "file://$TV_TMP/out" -o /dev/null 2>merge-missing.log &&
    fail "the merge went on with a part not done"
grep -q "2 of 3 parts are done; not yet: 2" merge-missing.log || fail "merge did not name the missing part: $(cat merge-missing.log)"
"$TV" dissect "${W[@]}" --shard 2/3 --out-store "file://$TV_TMP/out" --name run3 2>/dev/null || fail "rerun of a killed shard"
"$TV" dissect --merge run3 --out-store "file://$TV_TMP/out" -o merged3b.jsonl || fail "merge after the rerun"
cmp -s whole.sorted merged3b.jsonl || fail "the rerun of a killed shard changed the result"

note "damaged part, another run under the same name, bad arguments"
cp out/v1/dissections/run3/part-0.jsonl.zst part0.bak
python3 -c "
import sys; p='out/v1/dissections/run3/part-0.jsonl.zst'; d=bytearray(open(p,'rb').read()); d[len(d)//2]^=1; open(p,'wb').write(d)"
"$TV" dissect --merge run3 --out-store "file://$TV_TMP/out" -o /dev/null 2>merge-bad.log &&
    fail "a damaged part was merged"
grep -qE "part-0.jsonl.zst (is damaged|differs from its done marker)" merge-bad.log || fail "damage not named: $(cat merge-bad.log)"
cp part0.bak out/v1/dissections/run3/part-0.jsonl.zst
"$TV" dissect "${W[@]}" --shard 0/4 --out-store "file://$TV_TMP/out" --name run3 2>other.log &&
    fail "a run with another shard count reused a name"
grep -q "another run" other.log || fail "no reason given: $(cat other.log)"
"$TV" dissect --merge nosuch --out-store "file://$TV_TMP/out" -o /dev/null 2>nosuch.log && fail "merge of nothing"
grep -q "no dissection 'nosuch'" nosuch.log || fail "$(cat nosuch.log)"
for bad in "3/3" "-1/2" "1/0" "a/b" "1"; do
    "$TV" dissect "${W[@]}" --shard "$bad" -o /dev/null 2>/dev/null; [ $? = 2 ] || fail "--shard $bad accepted"
done
"$TV" dissect "${W[@]}" --shard 0/2 --out-store "file://$TV_TMP/out" --name "../x" 2>/dev/null
[ $? = 2 ] || fail "a name that escapes was accepted"
# a shard to a file: the part's lines, sorted
"$TV" dissect "${W[@]}" --shard 0/1 -o single.jsonl || fail "--shard 0/1 -o"
cmp -s whole.sorted single.jsonl || fail "--shard 0/1 -o differs from the unsharded run"

note "--job"
"$TV" --endpoint http://rgw.example:8080 --region eu-1 dissect --job --shards 5 --image tapvault:test \
    "${W[@]}" --out-store s3://parts/x --name "Week_48" --secret tv-store --namespace forensics >job.yaml ||
    fail "--job"
python3 - "$TV" "$TV_TMP" <<'PY' || fail "the Job is not right"
import json, subprocess, sys
sys.path.insert(0, "/usr/lib/python3/dist-packages")
import yaml
tv, tmp = sys.argv[1], sys.argv[2]
j = yaml.safe_load(open(tmp + "/job.yaml"))
s = j["spec"]
assert j["apiVersion"] == "batch/v1" and j["kind"] == "Job", j
assert j["metadata"]["name"] == "tapvault-dissect-week-48" and j["metadata"]["namespace"] == "forensics"
assert s["completionMode"] == "Indexed" and s["completions"] == 5 and s["backoffLimitPerIndex"] == 2
c = s["template"]["spec"]["containers"][0]
assert c["image"] == "tapvault:test" and c["command"] == ["tapvault"]
envs = {e["name"]: e for e in c["env"]}
assert envs["AWS_ACCESS_KEY_ID"]["valueFrom"]["secretKeyRef"]["name"] == "tv-store"
args = c["args"]
assert args[:4] == ["--endpoint", "http://rgw.example:8080", "--region", "eu-1"], args
assert "$(JOB_COMPLETION_INDEX)/5" in args
# every index's argv is accepted by the binary: run it with --help appended
# is not enough (help stops parsing); run the shard against a store that is
# not there and expect a store error (exit 1), never a usage error (exit 2)
for i in range(5):
    a = [x.replace("$(JOB_COMPLETION_INDEX)", str(i)) for x in args]
    a = [x if x != "http://rgw.example:8080" else "http://127.0.0.1:9" for x in a]
    a = [x if x != "s3://parts/x" else "file://" + tmp + "/jobout" for x in a]
    a = [x if not x.startswith("file://" + tmp + "/st") else "file://" + tmp + "/st" for x in a]
    r = subprocess.run([tv] + a, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (i, r.returncode, r.stderr)
PY
"$TV" dissect --merge Week_48 --out-store "file://$TV_TMP/jobout" -o job-merged.jsonl || fail "merge of the Job's parts"
cmp -s whole.sorted job-merged.jsonl || fail "the Job's shards differ from the unsharded run"
echo "PASS"
