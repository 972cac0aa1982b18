#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# API dissection throughput: `tapvault dissect` against tshark writing the
# HTTP messages as JSON (`tshark -r CAP -Y http -T json`), the tool a user
# would otherwise reach for; same capture, same run, 3 rounds interleaved,
# best round counts.
#   tests/bench/bench_dissect.sh [CAPTURE.pcap]
# Without a capture, records ~5 s of curl <-> nginx keep-alive traffic (JSON
# and HTML, some gzip) between two network namespaces (needs root). Then the
# capture is repeated (shifted in time) into a multi-GB file (BIG_GB, default
# 2) and tapvault dissect's peak RSS on it is measured (target <= 256 MiB).
# SAVE_CAPTURE=PATH keeps the recorded capture.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
"$ROOT/scripts/build.sh" Release >/dev/null # incremental: always current
TV=$ROOT/build-release/dissector/tapvault
. "$ROOT/tests/lib/common.sh"
tv_tmpdir
CAP=${1:-}
if [ -z "$CAP" ]; then
    need_root
    CAP=$TV_TMP/http.pcap
    S=tvbds$$ C=tvbdc$$
    netns_pair "$C" "$S" 10.213.9.1 10.213.9.2
    mkdir -p "$TV_TMP/www"
    python3 -c "import json; print(json.dumps([{'id': i, 'user': 'user%d' % i} for i in range(2000)]))" > "$TV_TMP/www/api.json"
    python3 -c "print('<html>' + ''.join('<p>row %d</p>' % i for i in range(500)) + '</html>')" > "$TV_TMP/www/page.html"
    start_nginx "$S" "$TV_TMP" 10.213.9.2 80
    start_tcpdump "$S" veth-b "$CAP" --immediate-mode
    end=$((SECONDS + 5))
    urls=()
    for i in $(seq 1 20); do urls+=(-o /dev/null http://10.213.9.2/api.json -o /dev/null http://10.213.9.2/page.html); done
    while [ $SECONDS -lt $end ]; do
        ip netns exec "$C" curl -s "${urls[@]}"
        ip netns exec "$C" curl -s --compressed "${urls[@]}"
    done
    sleep 0.5; stop_pid "$TCPDUMP_PID"
fi
# SAVE_CAPTURE=PATH keeps the recorded capture for profiling and reruns.
[ -n "${SAVE_CAPTURE:-}" ] && [ -z "${1:-}" ] && cp "$CAP" "$SAVE_CAPTURE"
bytes=$(stat -c %s "$CAP")
echo "input: $CAP ($((bytes / 1000000)) MB, $(capinfos -TMc "$CAP" | tail -1 | cut -f2) packets)"

secs() { local TIMEFORMAT=%R; { time "$@" >/dev/null 2>&1; } 2>&1 | tail -1; }
tv=(); ts=()
for round in 1 2 3; do
    tv+=("$(secs "$TV" dissect --pcap "$CAP" -o "$TV_TMP/tv.jsonl")")
    ts+=("$(secs sh -c "tshark -r '$CAP' -Y http -T json > '$TV_TMP/tshark.json'")")
done
entries=$(wc -l < "$TV_TMP/tv.jsonl")
msgs=$(tshark -r "$CAP" -Y http -T fields -e frame.number 2>/dev/null | wc -l)
best() { printf '%s\n' "$@" | sort -n | head -1; }
python3 - "$bytes" "$(best "${tv[@]}")" "$(best "${ts[@]}")" "$entries" "$msgs" <<'PY'
import sys
b, t, s, entries, msgs = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
print(f"tapvault dissect: {b / t / 1e6:8.1f} MB/s  {entries} entries (request+response pairs)")
print(f"tshark -Y http -T json: {b / s / 1e6:8.1f} MB/s  {msgs} HTTP messages")
print(f"tapvault dissect is {s / t:.1f}x faster than tshark")
PY

gb=${BIG_GB:-2}
copies=$(( (gb * 1000000000 + bytes - 1) / bytes ))
echo "building a ${gb} GB input: $copies copies of the capture, each shifted 10 s later"
parts=()
span=$(capinfos -u "$CAP" | awk '/Capture duration/ {print int($3) + 10}')
for i in $(seq 0 $((copies - 1))); do
    editcap -t $((i * span)) "$CAP" "$TV_TMP/part$i.pcap"
    parts+=("$TV_TMP/part$i.pcap")
done
mergecap -a -w "$TV_TMP/big.pcap" "${parts[@]}"
rm -f "${parts[@]}"
big=$(stat -c %s "$TV_TMP/big.pcap")
/usr/bin/time -o "$TV_TMP/time.txt" -f '%M %e' "$TV" dissect --pcap "$TV_TMP/big.pcap" -o /dev/null 2>/dev/null
read -r rss secs < "$TV_TMP/time.txt"
echo "multi-GB input: $((big / 1000000)) MB dissected in ${secs} s, peak RSS $((rss / 1024)) MiB (target <= 256 MiB)"
