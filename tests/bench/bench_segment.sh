#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Segment writer/reader throughput against the zstd CLI, side by side in one run.
#   tests/bench/bench_segment.sh [CAPTURE.pcap]
# Without a capture, records ~5 s of HTTP-like traffic (curl <-> nginx, JSON
# and HTML) between two network namespaces (needs root). Each tool runs 3
# rounds interleaved; the best round counts. Output files go to the same disk.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${BENCH_BIN:-$ROOT/build-release/tests/bench/bench_segment}
[ -x "$BIN" ] || { "$ROOT/scripts/build.sh" Release >/dev/null; }
. "$ROOT/tests/lib/common.sh"
tv_tmpdir
CAP=${1:-}
if [ -z "$CAP" ]; then
    need_root
    CAP=$TV_TMP/http.pcap
    S=tvbs$$ C=tvbc$$
    netns_pair "$C" "$S" 10.213.7.1 10.213.7.2
    mkdir -p "$TV_TMP/www"
    python3 -c "import json; print(json.dumps([{'id': i, 'user': 'user%d' % (i % 977), 'ok': i % 3 == 0, 'score': i * 7 % 1000} for i in range(40000)]))" > "$TV_TMP/www/api.json"
    python3 -c "print('<html><body>' + ''.join('<div class=\"row\"><a href=\"/item/%d\">item %d</a></div>' % (i, i) for i in range(8000)) + '</body></html>')" > "$TV_TMP/www/page.html"
    start_nginx "$S" "$TV_TMP" 10.213.7.2 80
    start_tcpdump "$S" veth-b "$CAP"
    end=$((SECONDS + 5))
    while [ $SECONDS -lt $end ]; do
        ip netns exec "$C" curl -s -o /dev/null -o /dev/null http://10.213.7.2/api.json http://10.213.7.2/page.html
    done
    sleep 0.3; stop_pid "$TCPDUMP_PID"
fi
mb=$(( $(stat -c %s "$CAP") / 1000000 ))
echo "input: $CAP ($mb MB, $(capinfos -TMc "$CAP" | tail -1 | cut -f2) packets)"

best() { sort -n | head -1; }
time_cmd() { local s e; s=$(date +%s.%N); "$@"; e=$(date +%s.%N); echo "$e - $s" | bc; }
z1=(); z3=(); zd=(); tv_out=""
for round in 1 2 3; do
    z1+=("$(time_cmd sh -c "zstd -q -1 -T1 -c '$CAP' > '$TV_TMP/z1.zst'")")
    z3+=("$(time_cmd sh -c "zstd -q -3 -T1 -c '$CAP' > '$TV_TMP/z3.zst'")")
    zd+=("$(time_cmd sh -c "zstd -q -d -c '$TV_TMP/z1.zst' > /dev/null")")
    tv_out+=$("$BIN" "$CAP" "$TV_TMP" 1)$'\n'
done
get() { echo "$tv_out" | awk -v k="$1" '$1 == k {print $2}' | sort -n | head -1; }
tw=$(get write_seconds); tr=$(get read_seconds); segb=$(get segment_bytes)
t1=$(printf '%s\n' "${z1[@]}" | best); t3=$(printf '%s\n' "${z3[@]}" | best); td=$(printf '%s\n' "${zd[@]}" | best)
bytes=$(stat -c %s "$CAP")
z1b=$(stat -c %s "$TV_TMP/z1.zst"); z3b=$(stat -c %s "$TV_TMP/z3.zst")
python3 - "$bytes" "$tw" "$t1" "$t3" "$tr" "$td" "$segb" "$z1b" "$z3b" <<'PY'
import sys
b, tw, t1, t3, tr, td, segb, z1b, z3b = map(float, sys.argv[1:])
mb = b / 1e6
print(f"writer (pcapng + zstd frames + window layout + index + fsync): {mb/tw:8.0f} MB/s  ratio {b/segb:5.1f}x")
print(f"zstd -1 CLI:                                                  {mb/t1:8.0f} MB/s  ratio {b/z1b:5.1f}x")
print(f"zstd -3 CLI:                                                  {mb/t3:8.0f} MB/s  ratio {b/z3b:5.1f}x")
print(f"writer speed vs zstd -1: {t1/tw:.2f}x   vs zstd -3: {t3/tw:.2f}x   (target >= 0.8x zstd -1)")
print(f"reader (decompress + parse every packet):                     {mb/tr:8.0f} MB/s of pcap")
print(f"zstd -d CLI:                                                  {mb/td:8.0f} MB/s of pcap")
print(f"reader speed vs zstd -d: {td/tr:.2f}x")
PY
