#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `tapvault verify` and `tapvault ls` on an archive made by import: intact is
# exit 0; a flipped byte, a deleted middle segment, a truncated object, a lost
# index and a corrupt index are each named (exit 1); ls shows the chain gap;
# `tapvault pcap` over a damaged object still exports the rest (exit 3).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
need_cmd python3 capinfos
tv_tmpdir
cd "$TV_TMP"
python3 - <<'PY'
import os, struct
with open("in.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for i in range(3000):
        payload = bytes([i % 251]) * 200 + os.urandom(50)
        udp = struct.pack(">HHHH", 1000 + i % 5, 53, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0, bytes([10,0,0,1]), bytes([10,0,0,2])) + udp
        eth = b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip
        f.write(struct.pack("<IIII", 1700000000 + i // 100, (i % 100) * 10000, len(eth), len(eth)) + eth)
PY
"$TV" import -q --store a --node n1 --seal-interval 5s in.pcap || fail import
mapfile -t segs < <("$TV" segment list --store a | cut -f1)
[ ${#segs[@]} -eq 6 ] || fail "expected 6 segments, got ${#segs[@]}"

check() { # CODE PATTERN STORE
    "$TV" verify --store "$3" >out.txt 2>&1; local rc=$?
    [ "$rc" = "$1" ] || fail "verify $3 exited $rc, expected $1: $(cat out.txt)"
    grep -qE -- "$2" out.txt || fail "verify $3: no /$2/ in: $(cat out.txt)"
}
note "intact"
check 0 "INTACT: 6 segments, 18 objects checked, 0 problems" a
"$TV" ls --store a | grep -qE "^n1 +6 +3000 " || fail "ls: $("$TV" ls --store a)"

note "flipped byte in a middle data object"
cp -r a b
printf '\x55' | dd of="b/${segs[2]}.pcapng.zst" bs=1 seek=500 conv=notrunc status=none
check 1 "${segs[2]}.pcapng.zst: SHA-256 differs from the index \(altered\)" b

note "deleted middle segment"
cp -r a c
rm -f "c/${segs[3]}".*
check 1 "segments 3..3 of node n1 are missing" c
"$TV" ls --store c | grep -q "gap: .*chain broken between seq 2 and 4" || fail "ls shows no gap: $("$TV" ls --store c)"
"$TV" ls --store c --json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert len(d["nodes"][0]["gaps"]) == 1' || fail "ls --json"

note "truncated object"
cp -r a d
truncate -s 1000 "d/${segs[1]}.pcapng.zst"
check 1 "${segs[1]}.pcapng.zst: truncated: 1000 bytes" d

note "lost index, corrupt index"
cp -r a e
rm "e/${segs[4]}.idx"
check 1 "${segs[4]}.pcapng.zst: incomplete segment \(no index\)" e
cp -r a f
printf 'garbage' | dd of="f/${segs[0]}.idx" bs=1 seek=40 conv=notrunc status=none
check 1 "${segs[0]}.idx: index checksum mismatch" f

note "pcap over a damaged object exports the rest (exit 3)"
"$TV" pcap --store b --from 1699999999 --to 1700000100 -o rest.pcapng 2>err.txt; rc=$?
[ "$rc" = 3 ] || fail "pcap exited $rc: $(cat err.txt)"
grep -q "${segs[2]}.pcapng.zst: frame" err.txt || fail "damaged frame not named: $(cat err.txt)"
n=$(capinfos -TMc rest.pcapng | tail -1 | cut -f2)
[ "$n" -gt 2000 ] && [ "$n" -lt 3000 ] || fail "partial export has $n packets"
"$TV" verify --store nowhere >/dev/null 2>&1; [ $? = 4 ] || fail "unknown store is not 'could not check' (4)"
echo "PASS: verify and ls"
