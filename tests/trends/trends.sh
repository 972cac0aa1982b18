#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tapvault rollup and trends on a synthetic month (tests/trends/make_month.py)
# with a planted beacon, new peer, volume spike and long connection: each is
# found, nothing else scores high; rollups are deterministic, rebuilt only
# where inputs changed, and need no packet (the data objects are deleted and
# every rollup and answer stays the same).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
need_cmd python3 sha256sum
tv_tmpdir
cd "$TV_TMP"
T0=1788220800 # 2026-09-01T00:00:00Z
STORE="file://$TV_TMP/store"
W=(--store "$STORE" --from 2026-09-01T00:00:00Z --to 2026-10-01T00:00:00Z)

note "a month of one node's traffic: 3 web pods, api, db, DNS, and the planted four"
python3 "$HERE/make_month.py" m.pcap k8s.json 30 $T0 >planted.json || fail make_month
cat planted.json
"$TV" import -q --store "$STORE" --node n1 --seal-interval 1h --k8s k8s.json m.pcap || fail import
WIRE=$(python3 -c "
import struct,sys
b=open('m.pcap','rb').read(); o=24; t=0
while o < len(b):
    cap, orig = struct.unpack_from('<II', b, o + 8); t += orig; o += 16 + cap
print(t)")

note "trends before any rollup: every hour built in memory"
"$TV" trends beacons "${W[@]}" --json >beacons-mem.json || fail "trends beacons (no rollups)"
python3 -c "import json; r=json.load(open('beacons-mem.json')); assert r['built_in_memory'] == 720, r['built_in_memory']" ||
    fail "trends did not build the missing hours"

note "rollup: 720 hours written"
S=$SECONDS
"$TV" rollup "${W[@]}" 2>rollup.log || fail "rollup: $(cat rollup.log)"
echo "rollup of 720 hours took $((SECONDS - S)) s"
cat rollup.log
grep -q "720 hours: 720 written, 0 unchanged, 0 with no segment" rollup.log || fail "rollup counts"
sums() { (cd store/v1/rollups/hourly && sha256sum ./*.json); }
sums >sums1
[ "$(wc -l <sums1)" = 720 ] || fail "not 720 rollup objects"

note "again: unchanged inputs are left alone; --force rewrites the same bytes"
"$TV" rollup "${W[@]}" 2>rollup2.log || fail rollup2
grep -q "720 hours: 0 written, 720 unchanged" rollup2.log || fail "a second rollup rewrote: $(cat rollup2.log)"
"$TV" rollup "${W[@]}" --force 2>/dev/null || fail "rollup --force"
sums | cmp -s - sums1 || fail "the same inputs gave different rollups"

ask() { # ask KIND [options]: trends KIND --json into KIND.json
    local k=$1; shift
    "$TV" trends "$k" "${W[@]}" "$@" --json >"$k.json" || fail "trends $k"
}
check_all() {
    ask top --by service
    ask beacons
    ask new-peers
    ask long
    ask anomalies --by service
    python3 - "$T0" "$WIRE" <<'PY' || fail "trends found the wrong things"
import json, sys
t0, wire = int(sys.argv[1]), int(sys.argv[2])
J = {k: json.load(open(k + ".json")) for k in ["top", "beacons", "new-peers", "long", "anomalies"]}
for k, r in J.items():
    assert r["hours"] == 720 and r["hours_with_data"] == 720, (k, r["hours"], r["hours_with_data"])
top = J["top"]["series"]
assert top[0]["key"] == "shop/api", top[0]["key"]
assert sum(s["total"] for s in top) == wire, ("every byte on the wire, once", sum(s["total"] for s in top), wire)
assert all(len(s["values"]) == 720 and sum(s["values"]) == s["total"] for s in top)
print("top:", [(s["key"], s["total"]) for s in top])

b = J["beacons"]
assert [f["pair"] for f in b["findings"]] == ["n1: jobs/batch-7 -> 203.0.113.7 tcp/443"], b["findings"]
assert b["findings"][0]["score"] >= 0.9 and abs(b["findings"][0]["interval_s"] - 300) < 2, b["findings"][0]
others = [s for s in b["scores"] if "batch-7" not in s["pair"]]
assert len(others) >= 4 and max(s["score"] for s in others) < 0.7, [(s["pair"], s["score"]) for s in others]
print("beacon:", b["findings"][0]["what"], round(b["findings"][0]["score"], 3),
      "next best", round(max(s["score"] for s in others), 3))

n = J["new-peers"]["findings"]
assert [(f["src"], f["dst"], f["proto"], f["port"]) for f in n] == [("shop/web-5c4d", "198.51.100.9", "tcp", 5432)], n
assert n[0]["first_seen"].startswith("2026-09-29T"), n[0]
print("new peer:", n[0]["what"])

l = J["long"]["findings"]
assert len(l) == 1 and l[0]["src"] == "shop/web-5c4d" and l[0]["dst"] == "shop/db-0", l
assert abs(l[0]["duration_s"] - 5.5 * 3600) < 120, l[0]["duration_s"]
print("long:", l[0]["what"])

a = J["anomalies"]["findings"]
spike = t0 + 20 * 86400 + 14 * 3600
assert len(a) == 1 and a[0]["key"] == "shop/api" and a[0]["hour"].startswith("2026-09-21T14:00:00"), a
assert a[0]["score"] > 5, a[0]
print("anomaly:", a[0]["what"], round(a[0]["score"], 1))
PY
}

note "each planted thing found, nothing else"
check_all
cp beacons.json beacons-rolled.json
python3 -c "
import json
a, b = json.load(open('beacons-mem.json')), json.load(open('beacons-rolled.json'))
assert a['findings'] == b['findings'] and a['scores'] == b['scores']" || fail "rollups answered differently from the indexes"

note "no packet needed: the data objects deleted, the same rollups and answers"
mkdir answers && cp top.json beacons.json new-peers.json long.json anomalies.json answers/
find store -name '*.pcapng.zst' -delete
[ -z "$(find store -name '*.pcapng.zst')" ] || fail "data objects still there"
"$TV" rollup "${W[@]}" --force 2>/dev/null || fail "rollup without data objects"
sums | cmp -s - sums1 || fail "rollups changed without the data objects"
check_all
for k in top beacons new-peers long anomalies; do cmp -s "$k.json" "answers/$k.json" || fail "trends $k changed"; done

note "a new segment in one hour: only that hour is rewritten"
python3 "$HERE/../lib/mkpcap.py" extra.pcap 50 100 $(((T0 + 5 * 86400 + 1800) * 1000000000)) 1000000 3 || fail mkpcap
"$TV" import -q --store "$STORE" --node n2 --seal-interval 1h extra.pcap || fail "import extra"
"$TV" rollup "${W[@]}" 2>rollup3.log || fail rollup3
grep -q "720 hours: 1 written, 719 unchanged" rollup3.log || fail "changed inputs: $(cat rollup3.log)"
sums | diff sums1 - | grep -c '^>' | grep -qx 1 || fail "other hours changed"

note "bad input: clear errors"
"$TV" trends horoscope "${W[@]}" 2>err.log; [ $? = 2 ] && grep -q "unknown trend 'horoscope'" err.log || fail "unknown kind: $(cat err.log)"
"$TV" trends top "${W[@]}" --by colour 2>err.log; [ $? = 2 ] && grep -q "service, workload, namespace or node" err.log || fail "bad --by"
"$TV" rollup --store "$STORE" 2>err.log; [ $? = 2 ] || fail "rollup without a window"
"$TV" trends new-peers --store "$STORE" --from 2026-09-25T00:00:00Z --to 2026-09-30T00:00:00Z 2>err.log
[ $? = 2 ] && grep -q "needs a baseline" err.log || fail "new-peers without a baseline: $(cat err.log)"
echo "PASS: trends on a synthetic month: beacon, new peer, spike and long connection found, nothing else; rollups deterministic and packet-free"
