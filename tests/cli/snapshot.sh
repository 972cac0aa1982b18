#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Snapshots round trip: create from a two-node archive, refuse to overwrite,
# the manifest's SHA-256 of every member matches, `snapshot pcap` equals
# `tapvault pcap` of the same window, and stays so after the source segments
# are deleted; names that try to escape are refused; rm removes it.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
need_cmd python3
tv_tmpdir
cd "$TV_TMP"
python3 - <<'PY'
import os, struct
for name, src in (("n1.pcap", 1), ("n2.pcap", 3)):
    with open(name, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(2000):
            payload = bytes([i % 251]) * 300
            udp = struct.pack(">HHHH", 1000 + i % 7, 53, 8 + len(payload), 0) + payload
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, bytes([10,0,0,src]), bytes([10,0,0,2])) + udp
            eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip
            f.write(struct.pack("<IIII", 1700000000 + i // 100, (i % 100) * 10000 + src, len(eth), len(eth)) + eth)
PY
"$TV" import -q --store st --node n1 --seal-interval 4s n1.pcap || fail import
"$TV" import -q --store st --node n2 --seal-interval 4s n2.pcap || fail import
F=1700000003.5 T=1700000011.25

note "create, and refuse to overwrite"
"$TV" snapshot create incident-42 --store st --from $F --to $T 2>err.txt || fail "create: $(cat err.txt)"
"$TV" snapshot create incident-42 --store st --from $F --to $T 2>err.txt && fail "overwrote a snapshot"
grep -q "exists; snapshots are never overwritten" err.txt || fail "no clear refusal: $(cat err.txt)"
"$TV" snapshot ls --store st | grep -q "^incident-42	" || fail "snapshot ls"
"$TV" snapshot ls --store st --json | python3 -c 'import json, sys; assert json.load(sys.stdin)[0]["name"] == "incident-42"' \
    || fail "snapshot ls --json"
"$TV" ls --store st | grep -q "^snapshots: 1" || fail "ls counts no snapshot"

note "manifest: every member's SHA-256"
"$TV" snapshot get incident-42 --store st -o snap.tar || fail get
python3 - <<'PY' || fail "manifest does not match the members"
import hashlib, json, tarfile
t = tarfile.open("snap.tar")
m = json.load(t.extractfile("manifest.json"))
assert m["name"] == "incident-42" and m["window"]["from_ns"] == 1700000003500000000
assert sorted(m["nodes"]) == ["n1", "n2"], m["nodes"]
names = set(t.getnames()) - {"manifest.json"}
assert names == {x["path"] for x in m["members"]}, "members and manifest differ"
for x in m["members"]:
    assert hashlib.sha256(t.extractfile(x["path"]).read()).hexdigest() == x["sha256"], x["path"]
segments = [n for n in names if n.endswith(".idx") and not n.startswith("evidence/")]
assert len(m["chain"]) == len(segments)
# each re-packed segment carries its source's original index as evidence
evidence = {n[len("evidence/"):] for n in names if n.startswith("evidence/") and n.endswith(".idx")}
assert evidence == set(segments), (sorted(evidence), sorted(segments))
print(f"{len(m['members'])} members verified, {len(m['chain'])} chain links, {len(evidence)} evidence indexes")
PY

note "verify --snapshot: intact, then a tampered member is named"
"$TV" verify --store st --snapshot incident-42 >v.txt 2>&1 || fail "verify --snapshot: $(cat v.txt)"
grep -q "^INTACT" v.txt || fail "verify --snapshot not intact: $(cat v.txt)"
cp -r st st2
python3 - <<'PY'
import glob
p = glob.glob("st2/v1/snapshots/*.tar")[0]
b = bytearray(open(p, "rb").read())
b[3000] ^= 0xFF  # inside the first member's data
open(p, "wb").write(bytes(b))
PY
"$TV" verify --store st2 --snapshot incident-42 >v.txt 2>&1; rc=$?
[ "$rc" = 1 ] && grep -q "differs from the manifest (altered)" v.txt || fail "tampered snapshot: rc $rc: $(cat v.txt)"

note "snapshot pcap equals the window, also after the sources are gone"
"$TV" pcap --store st --from $F --to $T -o window.pcapng 2>/dev/null || fail pcap
"$TV" snapshot pcap incident-42 --store st -o snap1.pcapng || fail "snapshot pcap"
rm -rf st/v1/nodes
"$TV" snapshot pcap incident-42 --store st -o snap2.pcapng || fail "snapshot pcap without sources"
python3 - "$HERE/../lib" <<'PY' || fail "snapshot packets differ from the window"
import sys
sys.path.insert(0, sys.argv[1])
import pcaps
w = [p[1:] for p in pcaps.read("window.pcapng")]
for f in ("snap1.pcapng", "snap2.pcapng"):
    s = [p[1:] for p in pcaps.read(f)]
    assert s == w, f"{f}: {len(s)} packets, window {len(w)}"
print(f"{len(w)} packets, identical")
PY

note "names that try to escape, rm"
for bad in "../x" "a/b" ".hidden" ""; do
    "$TV" snapshot create "$bad" --store st --from $F --to $T >/dev/null 2>&1 && fail "accepted name '$bad'"
done
[ -z "$(find . -name '*.tar' -path '*x*' -not -path './snap.tar')" ] || fail "something written outside"
"$TV" snapshot rm incident-42 --store st || fail rm
[ -z "$("$TV" snapshot ls --store st)" ] || fail "still listed after rm"
echo "PASS: snapshots"
