#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A 1-minute window out of a 1-hour, 3-node archive (synthetic HTTP-like
# packets, 150 per second per node, imported with `tapvault import`), side by
# side in one run:
#   - bytes read for the window vs the window's share of the archive (target <= 1.2x)
#   - wall time of `tapvault pcap` vs reading everything and cutting with
#     mergecap + editcap (target >= 10x faster)
#   - merge throughput of `tapvault pcap --no-dedup` over the whole archive vs
#     mergecap over the three source pcaps (target >= 1x). Measured both
#     streamed (-o - > file, like mergecap: no fsync) and with -o FILE, which
#     fsyncs before renaming the output into place.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
TV=${BENCH_TV:-$ROOT/build-release/dissector/tapvault}
[ -x "$TV" ] || "$ROOT/scripts/build.sh" Release >/dev/null
. "$ROOT/tests/lib/common.sh"
tv_tmpdir
cd "$TV_TMP"
echo "generating 3 nodes x 1 hour x 150 packets/s ..."
python3 - <<'PY'
import random, struct
T0 = 1700000000
body = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n" + b'{"id": 1234, "user": "alice", "items": [1,2,3]}' * 8
for node in range(3):
    rnd = random.Random(node)
    with open(f"node{node}.pcap", "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i in range(3600 * 150):
            payload = body[: 200 + rnd.randrange(200)] + bytes([i & 255])
            tcp = struct.pack(">HHIIBBHHH", 80, 40000 + i % 500, i, 0, 0x50, 0x18, 502, 0, 0) + payload
            ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), i & 0xFFFF, 0, 64, 6, 0, bytes([10, node, 0, 1]), bytes([10, 9, 0, 2])) + tcp
            eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip
            t = T0 * 10**6 + i * 10**6 // 150 + node * 7
            f.write(struct.pack("<IIII", t // 10**6, t % 10**6, len(eth), len(eth)) + eth)
PY
for n in 0 1 2; do "$TV" import -q --store st --node "node$n" "node$n.pcap"; done
archive=$(du -sb st | cut -f1)
FROM=1700001800 TO=1700001860
t() { local s e; s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); }
best() { printf '%s\n' "$@" | sort -n | head -1; }
a=() b=() c=() d=() e=()
for r in 1 2 3; do
    a+=("$(t "$TV" pcap --store st --from $FROM --to $TO -o win.pcapng)")
    b+=("$(t sh -c "mergecap -w all.pcapng node0.pcap node1.pcap node2.pcap && editcap -A 2023-11-14T22:43:20Z -B 2023-11-14T22:44:20Z all.pcapng ref.pcapng")")
    c+=("$(t sh -c "'$TV' pcap --store st --from 0 --to now --no-dedup -o - > full.pcapng")")
    e+=("$(t "$TV" pcap --store st --from 0 --to now --no-dedup -o full2.pcapng)")
    d+=("$(t mergecap -w all2.pcapng node0.pcap node1.pcap node2.pcap)")
done
fetched=$("$TV" pcap --stats --store st --from $FROM --to $TO -o win.pcapng 2>&1 >/dev/null | sed -n "s/.* \([0-9]*\) bytes fetched.*/\1/p")
python3 - "$archive" "${fetched:-0}" "$(best "${a[@]}")" "$(best "${b[@]}")" "$(best "${c[@]}")" "$(best "${d[@]}")" \
    "$(capinfos -TMc win.pcapng | tail -1 | cut -f2)" "$(capinfos -TMc ref.pcapng | tail -1 | cut -f2)" \
    "$(stat -c %s node0.pcap)" "$(best "${e[@]}")" <<'PY'
import sys
archive, fetched, tw, tr, tf, tm, nwin, nref, pcap1, tfs = map(int, sys.argv[1:])
share = archive / 60
print(f"archive {archive / 1e6:.1f} MB on disk (3 nodes x 1 h), {3 * pcap1 / 1e6:.0f} MB as pcap")
print(f"1-minute window: {nwin} packets (mergecap+editcap: {nref})")
print(f"  bytes read {fetched / 1e6:.2f} MB vs the window's share {share / 1e6:.2f} MB: {fetched / share:.2f}x (target <= 1.2x)")
print(f"  tapvault pcap {tw} ms vs read everything + mergecap + editcap {tr} ms: {tr / max(tw, 1):.1f}x faster (target >= 10x)")
print(f"whole archive merge: tapvault pcap --no-dedup -o - {tf} ms vs mergecap {tm} ms: {tm / max(tf, 1):.2f}x (target >= 1x)")
print(f"  the same with -o FILE (fsync before rename) {tfs} ms: {tm / max(tfs, 1):.2f}x")
PY
