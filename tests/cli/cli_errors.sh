#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input through the CLI: each case gives a one-line error naming what and
# where, the documented exit code (0 ok, 1 failure, 2 usage, 3 partial), the
# readable rest where there is one, and no half-written output.
set -u
. "$(dirname "$0")/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
need_cmd python3 capinfos
tv_tmpdir
cd "$TV_TMP"

# expect CODE PATTERN CMD...: run CMD, check its exit code and that stderr matches PATTERN.
expect() {
    local code=$1 pattern=$2; shift 2
    "$@" >out.txt 2>err.txt
    local got=$?
    [ "$got" = "$code" ] || fail "'$*' exited $got, expected $code: $(cat err.txt)"
    grep -qE -- "$pattern" err.txt out.txt || fail "'$*': output does not match /$pattern/: $(cat err.txt)"
}

# a valid pcap of 3000 UDP packets with incompressible payloads, 200 per
# second: segments of 2000 packets spread over many frames
python3 - <<'PY'
import os, struct
with open("good.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(3000):
        payload = os.urandom(1000)
        udp = struct.pack(">HHHH", 5353, 53, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, bytes([10,0,0,1]), bytes([10,0,0,2])) + udp
        eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip
        f.write(struct.pack("<IIII", 1700000000 + i // 200, (i % 200) * 5000, len(eth), len(eth)) + eth)
PY
head -c 100000 good.pcap > torn.pcap
echo "this is not a capture" > junk.pcap

note "usage errors exit 2"
expect 2 "Usage" "$TV"
expect 2 "unknown command" "$TV" frobnicate
expect 2 "--store and --node are required" "$TV" import good.pcap
expect 2 "no capture files" "$TV" import --store s --node n
expect 2 "bad --seal-interval" "$TV" import --store s --node n --seal-interval soon good.pcap
for c in import segment; do expect 0 "Usage" "$TV" $c --help; done

note "unreadable captures"
expect 1 "missing.pcap: .*No such file" "$TV" import -q --store s1 --node n missing.pcap
expect 1 "junk.pcap: unknown file format" "$TV" import -q --store s1 --node n junk.pcap
expect 1 "invalid node name" "$TV" import -q --store s1 --node ../evil good.pcap
expect 3 "torn.pcap: damaged after packet [0-9]+" "$TV" import -q --store s2 --node n good.pcap torn.pcap junk.pcap
grep -qE "tapvault import: [0-9]+ packets" err.txt || fail "no summary line"
expect 0 "" "$TV" import -q --store s3 --node n good.pcap

note "dissect: bad input"
expect 2 "exactly one of --pcap FILE and --store URL" "$TV" dissect -o out.jsonl
expect 2 "exactly one of --pcap FILE and --store URL" "$TV" dissect --pcap good.pcap --store s3 -o out.jsonl
expect 2 "-o FILE|- is required" "$TV" dissect --pcap good.pcap
expect 2 "--store needs --from and --to" "$TV" dissect --store s3 -o out.jsonl
expect 2 "bad --body-cap 'lots'" "$TV" dissect --pcap good.pcap --body-cap lots -o out.jsonl
expect 2 "--format xml: jsonl or har" "$TV" dissect --pcap good.pcap --format xml -o out.jsonl
expect 1 "missing.pcap" "$TV" dissect --pcap missing.pcap -o out.jsonl
expect 1 "junk.pcap: unknown file format" "$TV" dissect --pcap junk.pcap -o out.jsonl
expect 3 "torn.pcap: truncated dump file.*the packets before it were dissected" "$TV" dissect --stats --pcap torn.pcap -o out.jsonl
grep -qE "tapvault dissect: [1-9][0-9]* packets" err.txt || fail "a torn capture: nothing dissected before the damage"
expect 0 "tapvault dissect: 3000 packets \\(0 TCP, 3000 UDP\\)" "$TV" dissect --stats --pcap good.pcap -o out.jsonl
expect 0 "Usage" "$TV" dissect --help

note "unknown or missing stores"
expect 1 "unsupported scheme 'gopher'" "$TV" segment list --store gopher://x
expect 1 "store 'nope': No such file" "$TV" segment list --store nope

seg=$("$TV" segment list --store s3 | head -1 | cut -f1)
[ -n "$seg" ] || fail "no segment in s3"
note "bad times"
expect 2 "bad time 'yesterday'" "$TV" segment cat --store s3 --from yesterday -o x.pcapng "$seg"
expect 2 "empty window" "$TV" segment cat --store s3 --from 1700000010 --to 1700000005 -o x.pcapng "$seg"
[ ! -e x.pcapng ] || fail "output left behind after a usage error"

note "a flipped byte in a frame: named, skipped, the rest delivered, exit 3"
cp -r s3 s4
data="s4/$seg.pcapng.zst"
off=$("$TV" segment info --frames --store s4 "$seg" | python3 -c 'import json,sys; f=json.load(sys.stdin)["frames"][1]; print(f["offset"] + f["compressed"] // 2)')
printf '\xff' | dd of="$data" bs=1 seek="$off" conv=notrunc status=none
expect 3 "frame 1 at offset [0-9]+" "$TV" segment cat --store s4 -o rest.pcapng "$seg"
grep -q "$seg.pcapng.zst" err.txt || fail "error does not name the object"
total=$("$TV" segment info --store s3 "$seg" | python3 -c 'import json,sys; print(json.load(sys.stdin)["packets"])')
got=$(capinfos -TMc rest.pcapng | tail -1 | cut -f2)
[ "$got" -gt 0 ] && [ "$got" -lt "$total" ] || fail "partial read delivered $got of $total packets"

note "torn and foreign indexes"
cp -r s3 s5
idx="s5/$seg.idx"
head -c 100 "$idx" > t && mv t "$idx"
expect 1 "$seg.idx: index header says [0-9]+ bytes, object has 100" "$TV" segment info --store s5 "$seg"
echo "GIF89a-not-an-index-at-all-but-long-enough-to-have-a-header" > "$idx"
expect 1 "not a tapvault index \(bad magic at offset 0\)" "$TV" segment info --store s5 "$seg"
expect 1 "No such file" "$TV" segment info --store s5 "v1/nodes/n/2023/11/14/22/0000000000000000001-0000000000"

note "unwritable output leaves nothing behind"
expect 1 "create /nonexistent-dir/out.pcapng.tmp" "$TV" segment cat --store s3 -o /nonexistent-dir/out.pcapng "$seg"
ls ./*.tmp.* 2>/dev/null && fail "temp file left behind"
note "a FIFO or device as output is written in place, never renamed over"
mkfifo out.fifo
cat out.fifo > fifo.pcapng &
reader=$!
"$TV" segment cat --store s3 -o out.fifo "$seg" || fail "segment cat to a FIFO failed"
[ -p out.fifo ] || { kill "$reader"; fail "the FIFO was replaced by a regular file"; }
wait "$reader"
got=$(capinfos -TMc fifo.pcapng | tail -1 | cut -f2)
[ "$got" = "$total" ] || fail "read $got packets through the FIFO, expected $total"
echo "PASS: cli error cases"
