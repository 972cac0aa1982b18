#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tamper evidence on an archive the agent and the uploader wrote (root: live
# capture on lo). Two nodes, each a live agent signing every index with its
# node key and an uploader writing signed checkpoints every second into one
# file:// store. Untouched, it verifies INTACT; each way someone who can write
# the bucket could cut or rewrite history is reported, by name, with its
# exit status: the first, a middle and the last segment deleted, a checkpoint
# deleted, a segment rewritten and the chain after it recomputed without the
# key, an older segment replayed under a new name, a segment moved to the
# other node, two nodes' segments swapped. A key rotation mid-chain verifies; pinning only the old key, or
# revoking it, is reported. A chain whose start the retention horizon
# explains is intact; an agent that was down leaves a reported gap.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
BUILD=$(dirname "$TV")/..
AGENT=$BUILD/nodeagent/tapvault-agent
UPLOADER=$BUILD/uploader/tapvault-uploader
need_root
need_cmd python3
tv_tmpdir
cd "$TV_TMP"
STORE=file://$TV_TMP/store

# run_node NODE SECONDS [extra agent flags]: a live agent and its uploader
run_node() {
    local node=$1 secs=$2; shift 2
    lo_traffic "$((secs + 3))"
    "$AGENT" -n "$node" -i lo -b "buf-$node" --seal-interval 300ms --seal-bytes 1Mi --storage-size 64Mi \
        --log-level warn "$@" 2>"agent-$node.log" &
    local ag=$!
    TV_PIDS+=("$ag") # a failure below must not leave it running (tv_cleanup ends it)
    wait_for 10 test -d "buf-$node/v1" || fail "agent $node did not start: $(tail -3 "agent-$node.log")"
    "$UPLOADER" --buffer "buf-$node" --store "$STORE" --checkpoint-interval 1s --rescan 200ms \
        --log-level warn 2>"uploader-$node.log" &
    local up=$!
    TV_PIDS+=("$up")
    sleep "$secs"
    kill -TERM "$ag"; wait "$ag" || fail "agent $node: $(tail -3 "agent-$node.log")"
    sleep 1 # the last segments reach the store
    kill -TERM "$up"; wait "$up" || fail "uploader $node: $(tail -3 "uploader-$node.log")"
}

# rotate_node NODE: its agent restarted at once with a new key (the old one
# deleted), the uploader running throughout
rotate_node() {
    local node=$1 up="" ag
    lo_traffic 8
    for round in old new; do
        [ $round = new ] && rm -f "buf-$node/.keys/node.key"
        "$AGENT" -n "$node" -i lo -b "buf-$node" --seal-interval 300ms --seal-bytes 1Mi --storage-size 64Mi \
            --log-level warn 2>"agent-$node.log" &
        ag=$!
        if [ -z "$up" ]; then
            wait_for 10 test -d "buf-$node/v1" || fail "agent $node did not start: $(tail -3 "agent-$node.log")"
            "$UPLOADER" --buffer "buf-$node" --store "$STORE" --checkpoint-interval 1s --rescan 200ms \
                --log-level warn 2>"uploader-$node.log" &
            up=$!
        fi
        sleep 1.5
        kill -TERM "$ag"; wait "$ag" || fail "agent $node: $(tail -3 "agent-$node.log")"
    done
    sleep 1
    kill -TERM "$up"; wait "$up" || fail "uploader $node: $(tail -3 "uploader-$node.log")"
}

# expect CODE PATTERN STORE [verify flags]: verify exits CODE and says PATTERN
expect() {
    local code=$1 pattern=$2 store=$3; shift 3
    "$TV" verify --store "$store" "$@" >v.txt 2>&1; local got=$?
    [ "$got" = "$code" ] || fail "verify $*: exit $got, expected $code: $(cat v.txt)"
    grep -qE -- "$pattern" v.txt || fail "verify $*: no /$pattern/ in: $(cat v.txt)"
}

# A copy of the store to tamper with.
copy() { rm -rf t && cp -a store t; }
segs() { find "t/v1/nodes/$1" -name '*.idx' | sort; }

note "two nodes, live agents and uploaders"
run_node n1 3
run_node n2 2
expect 0 "^INTACT: .* 0 problems; [0-9]+ signed, 0 unsigned, [0-9]+ checkpoints" "$STORE"
ncp=$(find store/v1/checkpoints/n1 -name '*.json' | wc -l)
[ "$ncp" -ge 3 ] || fail "expected a checkpoint a second, have $ncp"
[ -f buf-n1/.keys/node.key ] && [ "$(stat -c %a buf-n1/.keys/node.key)" = 600 ] || fail "node key not 0600"
! grep -rq "PRIVATE" store || fail "a private key reached the store"

note "a snapshot carries the signed indexes, keys and checkpoints of its window"
first_ts=$("$TV" segment list --store "$STORE" --node n1 | sed -n 2p | cut -f2)
last_ts=$("$TV" segment list --store "$STORE" --node n1 | tail -2 | head -1 | cut -f3)
"$TV" snapshot create win --store "$STORE" --from "$first_ts" --to "$last_ts" --node n1 2>snap.log ||
    fail "snapshot create --from $first_ts --to $last_ts: $(cat snap.log)"
expect 0 "^INTACT: .* [1-9][0-9]* signed, 0 unsigned" "$STORE" --snapshot win
python3 - store/v1/keys/n2/*.json > only-n2.json <<'PY'
import json, sys
print(json.dumps([json.load(open(f)) for f in sys.argv[1:]]))
PY
expect 6 "^SIGNATURE evidence/v1/nodes/n1/.*signed by unknown key" "$STORE" --snapshot win --keys only-n2.json

note "the first segment of n1 deleted: its history does not start at genesis"
copy; first=$(segs n1 | head -1); rm -f "${first%.idx}".*
expect 5 "^CUT .*n1's history starts at seq 1" t

note "a middle segment deleted: the chain names it"
copy; mid=$(segs n1 | sed -n 4p); rm -f "${mid%.idx}".*
expect 1 "^DAMAGED .*segments 3\.\.3 of node n1 are missing" t

note "the last two segments deleted: the newest checkpoint names them"
copy; for s in $(segs n1 | tail -2); do rm -f "${s%.idx}".*; done
expect 5 "^CUT node n1: segments [0-9]+\.\.[0-9]+ are missing: checkpoint .* names seq" t

note "a checkpoint deleted: the next one names it"
copy; cp2=$(find t/v1/checkpoints/n1 -name '*.json' | sort | sed -n 2p); rm -f "$cp2"
expect 5 "^CUT .*the checkpoint before it is not .*checkpoints were deleted" t

note "a segment rewritten and the chain after it recomputed, without the key"
copy
python3 - t/v1/nodes/n1 <<'PY'
import glob, hashlib, struct, sys
idxs = sorted(glob.glob(sys.argv[1] + "/**/*.idx", recursive=True))
def fix(path, data_sha=None, data_size=None, prev=None):
    b = bytearray(open(path, "rb").read())
    nlen = struct.unpack_from("<H", b, 24)[0]
    fields = 24 + 2 + nlen
    if data_size is not None:
        struct.pack_into("<Q", b, fields + 8 * 8, data_size)
    shas = fields + 12 * 8
    if data_sha is not None:
        b[shas:shas + 32] = data_sha
    if prev is not None:
        b[shas + 64:shas + 96] = prev
    b[-32:] = hashlib.sha256(bytes(b[:-32])).digest()
    open(path, "wb").write(b)
    return hashlib.sha256(bytes(b)).digest()
# the attacker's data for segment 2: the same bytes with one frame's flipped
data = idxs[2][:-4] + ".pcapng.zst"
d = bytearray(open(data, "rb").read()); d[-20] ^= 0xFF; open(data, "wb").write(d)
prev = fix(idxs[2], data_sha=hashlib.sha256(bytes(d)).digest(), data_size=len(d))
for p in idxs[3:]:
    prev = fix(p, prev=prev)
PY
expect 6 "^SIGNATURE .*0000000002\.idx: bad signature .*rewritten" t
grep -q "^DAMAGED" v.txt && fail "the recomputed chain should hash-verify: $(cat v.txt)"

note "an older segment replayed under a newer name"
copy; old=$(segs n1 | sed -n 2p); last=$(segs n1 | tail -1)
lk=$(basename "$last" .idx); start=${lk%-*}; seq=${lk#*-}
new=$(dirname "$last")/$(printf '%019d-%010d' $((10#$start + 1000)) $((10#$seq + 1)))
for x in pcapng.zst idx events.jsonl.zst; do cp "${old%.idx}.$x" "$new.$x"; done
expect 7 "^MOVED .*: its index is node n1's segment 1 .*replayed or moved" t

note "a segment of n2 moved under n1"
copy; m=$(segs n2 | sed -n 2p); rel=${m#t/v1/nodes/n2/}
mkdir -p "$(dirname "t/v1/nodes/n1/$rel")"
for x in pcapng.zst idx events.jsonl.zst; do mv "${m%.idx}.$x" "t/v1/nodes/n1/${rel%.idx}.$x"; done
expect 1 "^MOVED v1/nodes/n1/.*its index is node n2's segment" t
grep -q "^DAMAGED .*of node n2 are missing" v.txt || fail "n2's chain should miss it: $(cat v.txt)"

note "two nodes' segments swapped"
copy; a=$(segs n1 | sed -n 3p); b=$(segs n2 | sed -n 3p)
for x in pcapng.zst idx events.jsonl.zst; do
    mv "${a%.idx}.$x" swap.tmp; mv "${b%.idx}.$x" "${a%.idx}.$x"; mv swap.tmp "${b%.idx}.$x"
done
"$TV" verify --store t >v.txt 2>&1 && fail "a swap verified intact: $(cat v.txt)"
grep -qE "^MOVED v1/nodes/n1/.*its index is node n2's segment" v.txt || fail "n1's slot: $(cat v.txt)"
grep -qE "^MOVED v1/nodes/n2/.*its index is node n1's segment" v.txt || fail "n2's slot: $(cat v.txt)"

note "key rotation mid-chain (n1 again, its agent restarted at once with a new key)"
rm -rf buf-n1 store/v1/nodes/n1 store/v1/keys/n1 store/v1/checkpoints/n1
rotate_node n1
[ "$(ls store/v1/keys/n1 | wc -l)" = 2 ] || fail "expected two published keys of n1"
python3 - store/v1/keys/n1/*.json > key-n1-old.json <<'PY'
import json, sys
keys = [json.load(open(f)) for f in sys.argv[1:]]
print(json.dumps(min(keys, key=lambda k: k["not_before_ns"])))
PY
expect 0 "^INTACT" "$STORE"
grep -q "^NOTE .*node n1 rotated its key" v.txt || fail "rotation not noted: $(cat v.txt)"
python3 - key-n1-old.json store/v1/keys/n2/*.json > pinned-old.json <<'PY'
import json, sys
print(json.dumps([json.load(open(f)) for f in sys.argv[1:]]))
PY
expect 6 "^SIGNATURE .*signed by unknown key .*not among the pinned keys" "$STORE" --keys pinned-old.json
# revoke the old key from one second after the rotation started: what it signed later is reported
newest_old=$(python3 - store <<'PY'
import glob, json, struct, sys
old = json.load(open("key-n1-old.json"))["key_id"]
starts = []
for p in glob.glob(sys.argv[1] + "/v1/nodes/n1/**/*.idx", recursive=True):
    b = open(p, "rb").read()
    nlen = struct.unpack_from("<H", b, 24)[0]
    start = struct.unpack_from("<Q", b, 24 + 2 + nlen + 8)[0]
    if b[-160:-128].hex() == old:  # key_id, before prev_key_id, signature and trailer
        starts.append(start)
print(sorted(starts)[-2])
PY
)
python3 - "$newest_old" key-n1-old.json store/v1/keys/n1/*.json store/v1/keys/n2/*.json > revoked.json <<'PY'
import json, sys
keys = {json.load(open(f))["key_id"]: json.load(open(f)) for f in sys.argv[2:]}
old = json.load(open(sys.argv[2]))["key_id"]
keys[old]["revoked_ns"] = int(sys.argv[1])
print(json.dumps(list(keys.values())))
PY
expect 6 "^SIGNATURE .*signed by key [0-9a-f]+, revoked at" "$STORE" --keys revoked.json

note "the retention horizon explains a chain that starts late"
copy; for s in $(segs n2 | head -2); do rm -f "${s%.idx}".*; done
expect 0 "^NOTE .*past the retention horizon" t --retention 1s --node n2
expect 5 "^CUT .*younger than the retention horizon" t --retention 30d --node n2
printf '{"version":1,"retention_ns":1000000000}\n' > t/v1/settings.json
expect 0 "^INTACT" t --node n2

note "an uploader restarted with nothing new to ship still checkpoints the node, chained"
before=$(ls store/v1/checkpoints/n2 | wc -l)
"$UPLOADER" --buffer buf-n2 --store "$STORE" --checkpoint-interval 500ms --rescan 5s --log-level warn 2>up-again.log &
up=$!; sleep 2.5; kill -TERM "$up"; wait "$up" || fail "uploader: $(cat up-again.log)"
after=$(ls store/v1/checkpoints/n2 | wc -l)
[ "$after" -ge $((before + 3)) ] || fail "expected checkpoints every 500 ms from a restarted uploader: $before -> $after"
expect 0 "^INTACT" "$STORE" --node n2

note "an agent that was down leaves a gap"
rm -rf store-gap && STORE=file://$TV_TMP/store-gap
run_node g1 1 ; sleep 3; run_node g1 1
expect 8 "^GAP .*node g1 has no segment for [0-9.]+ s" "$STORE"

echo "PASS: tamper evidence"
