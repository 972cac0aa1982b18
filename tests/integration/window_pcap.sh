#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `tapvault pcap` on a two-"node" archive: tcpdump captures the node-side
# veths of two pods (the same packets seen twice, as two nodes would) and each
# capture is imported as a node. Guards: the merged output equals mergecap of
# the two captures after the documented dedup (count, order, bytes, times);
# sub-windows cut at packet timestamps hold exactly from <= ts < to; --node
# and --filter select; classic pcap output; only the window's frames are read.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
need_root
need_cmd ip nginx curl tcpdump mergecap capinfos python3
tv_tmpdir
cd "$TV_TMP"
N=tvwn$$ A=tvwa$$ B=tvwb$$
node_with_pods "$N" "$A" "$B"
mkdir -p www && python3 -c "import json; print(json.dumps([{'id': i} for i in range(30000)]))" > www/items.json
echo hi > www/index.html
start_nginx "$A" "$TV_TMP" 10.215.0.2 80
bg ip netns exec "$N" tcpdump -i vh-a -s 0 --time-stamp-precision=nano -w a.pcap 2>a.log
TA=$BG_PID
bg ip netns exec "$N" tcpdump -i vh-b -s 0 --time-stamp-precision=nano -w b.pcap 2>b.log
TB=$BG_PID
wait_for 10 grep -q "listening on" a.log && wait_for 10 grep -q "listening on" b.log || fail tcpdump
for i in $(seq 1 25); do
    ip netns exec "$B" curl -s -o /dev/null -o /dev/null http://10.215.0.2/index.html http://10.215.0.2/items.json
    sleep 0.05
done
sleep 0.3
stop_pid "$TA"; stop_pid "$TB"
"$TV" import -q --store st --node node-a --interface vh-a --seal-interval 300ms a.pcap || fail import
"$TV" import -q --store st --node node-b --interface vh-b --seal-interval 300ms b.pcap || fail import

note "whole capture: equals mergecap + the dedup rule"
first=$(python3 -c "import sys; sys.path.insert(0, '$HERE/../lib'); import pcaps; print(min(t for _, t, _, _ in pcaps.read('a.pcap')) // 10**9 - 1)")
"$TV" pcap --store st --from "$first" --to now -o out.pcapng 2>pcap.err || fail "pcap: $(cat pcap.err)"
mergecap -w merged.pcapng a.pcap b.pcap || fail mergecap
python3 - "$HERE/../lib" <<'PY' || fail "merged output differs from mergecap + dedup"
import sys
sys.path.insert(0, sys.argv[1])
import pcaps
ref = pcaps.dedup(list(pcaps.read("merged.pcapng")), 1_000_000)
got = list(pcaps.read("out.pcapng"))
key = lambda p: (p[1], p[2], p[3])
assert len(got) == len(ref), f"{len(got)} packets, reference {len(ref)}"
for i, (g, r) in enumerate(zip(got, ref)):
    assert key(g) == key(r), f"packet {i + 1} differs: {g[:3]} vs {r[:3]}"
total = sum(1 for _ in pcaps.read("merged.pcapng"))
print(f"{len(got)} packets equal mergecap's {total} after dedup ({total - len(got)} duplicates)")
PY

note "sub-windows cut at packet timestamps"
python3 - "$HERE/../lib" "$TV" <<'PY' || fail "sub-window selection wrong"
import subprocess, sys
sys.path.insert(0, sys.argv[1])
import pcaps
tv = sys.argv[2]
ref = pcaps.dedup(list(pcaps.read("merged.pcapng")), 1_000_000)
ts = [p[1] for p in ref]
for lo, hi in ((10, 200), (len(ts) // 3, len(ts) // 2), (0, len(ts) - 1)):
    f, t = ts[lo], ts[hi]
    fs, tstr = f"{f // 10**9}.{f % 10**9:09d}", f"{t // 10**9}.{t % 10**9:09d}"
    subprocess.run([tv, "pcap", "--store", "st", "--from", fs, "--to", tstr, "-o", "sub.pcapng"], check=True,
                   stderr=subprocess.DEVNULL)
    got = [p[1] for p in pcaps.read("sub.pcapng")]
    want = [x for x in ts if f <= x < t]
    assert got == want, f"window [{lo},{hi}): {len(got)} packets, want {len(want)}"
print("sub-windows exact")
PY

note "--node, --filter, classic pcap"
"$TV" pcap --store st --from "$first" --to now --node node-b -o b-only.pcapng 2>/dev/null || fail "--node"
[ "$(capinfos -TMc b-only.pcapng | tail -1 | cut -f2)" = "$(capinfos -TMc b.pcap | tail -1 | cut -f2)" ] || fail "--node node-b is not b.pcap"
"$TV" pcap --store st --from "$first" --to now --filter "tcp[tcpflags] & tcp-syn != 0" -o syn.pcapng 2>/dev/null || fail "--filter"
want=$(tshark -r out.pcapng -Y "tcp.flags.syn == 1" 2>/dev/null | wc -l)
[ "$(capinfos -TMc syn.pcapng | tail -1 | cut -f2)" = "$want" ] || fail "--filter selected a different set than tshark"
"$TV" pcap --store st --from "$first" --to now --format pcap -o out.pcap 2>/dev/null || fail "--format pcap"
[ "$(capinfos -TMc out.pcap | tail -1 | cut -f2)" = "$(capinfos -TMc out.pcapng | tail -1 | cut -f2)" ] || fail "pcap count"
"$TV" pcap --store st --from 100 --to 200 -o none.pcapng 2>err.txt; rc=$?
[ "$rc" = 1 ] && grep -q "no data in the window" err.txt && [ ! -e none.pcapng ] || fail "empty window: rc $rc $(cat err.txt)"
echo "PASS: tapvault pcap merge, dedup, windows, --node, --filter, formats"
