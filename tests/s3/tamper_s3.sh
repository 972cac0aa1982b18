#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tamper evidence on s3:// (a real RGW; run through with_rgw.sh). Two live
# agents, each with its uploader, ship signed segments, node keys and signed
# checkpoints to the bucket; untouched, it verifies INTACT. Then the AWS CLI
# plays the intruder with the bucket's write credentials, each case on a
# server-side copy of the archive: the first, a middle and the last segments
# deleted, a checkpoint deleted, a segment rewritten with the rest of the
# chain recomputed (without the key), an older segment replayed under a newer
# name, two nodes' segments swapped, and a lifecycle-style deletion older than
# the retention horizon (intact) -- each reported by name with its exit status.
# Then Object Lock: a node into the bucket created with it (uploader.objectLock
# require); deleting its newest segments together with every checkpoint only
# adds delete markers, the locked versions cannot be removed, and verify reads
# them and names the cut; the same deletion on the plain bucket goes unseen,
# and verify says why (the bucket has no Object Lock).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/s3.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
AGENT=$(dirname "$TV")/../nodeagent/tapvault-agent
UPLOADER=$(dirname "$TV")/../uploader/tapvault-uploader
need_root
need_rgw
need_cmd /usr/bin/aws python3
tv_tmpdir
cd "$TV_TMP"
B=$RGW_BUCKET
P=tamper-$$

# run_node BUCKET PREFIX NODE [uploader flags]: a live agent and its uploader for 4 s
run_node() {
    local bucket=$1 prefix=$2 node=$3; shift 3
    lo_traffic 8
    bg "$AGENT" -n "$node" -i lo -b "buf-$node" --seal-interval 300ms --seal-bytes 1Mi --storage-size 64Mi \
        --log-level warn 2>"agent-$node.log"
    local ag=$BG_PID
    wait_for 10 test -d "buf-$node/v1" || fail "agent $node: $(tail -3 "agent-$node.log")"
    bg "$UPLOADER" --buffer "buf-$node" --store "s3://$bucket/$prefix" --checkpoint-interval 1s --rescan 200ms \
        --log-level info "$@" 2>"up-$node.log"
    local up=$BG_PID
    sleep 4
    kill -TERM "$ag"; wait "$ag" || fail "agent $node: $(tail -3 "agent-$node.log")"
    sleep 2
    kill -TERM "$up"; wait "$up" || fail "uploader $node: $(tail -3 "up-$node.log")"
}

# expect CODE PATTERN URL [verify flags]
expect() {
    local code=$1 pattern=$2 url=$3; shift 3
    "$TV" verify --store "$url" "$@" >v.txt 2>&1; local got=$?
    [ "$got" = "$code" ] || fail "verify $url $*: exit $got, expected $code: $(cat v.txt)"
    grep -qE -- "$pattern" v.txt || fail "verify $url: no /$pattern/ in: $(cat v.txt)"
}

# copy: a fresh server-side copy of the archive to tamper with, in $C
N=0
copy() {
    N=$((N + 1)); C=$P-case$N
    awscli s3 cp --quiet --recursive "s3://$B/$P/" "s3://$B/$C/" || fail "aws s3 cp"
}
segs() { bucket_keys "$C/v1/nodes/$1" | grep '\.idx$'; }
rm_seg() { for x in idx pcapng.zst events.jsonl.zst; do awscli s3 rm --quiet "s3://$B/${1%.idx}.$x" || fail "aws s3 rm"; done; }
mv_seg() { for x in idx pcapng.zst events.jsonl.zst; do awscli s3 mv --quiet "s3://$B/${1%.idx}.$x" "s3://$B/${2%.idx}.$x" || fail "aws s3 mv"; done; }

note "two nodes, live agents and uploaders into s3://$B/$P"
run_node "$B" "$P" s3a
run_node "$B" "$P" s3b
grep -q "has no Object Lock" up-s3a.log || fail "the uploader should warn of a bucket without Object Lock: $(cat up-s3a.log)"
expect 0 "^INTACT: .* 0 unsigned, [1-9][0-9]* checkpoints" "s3://$B/$P"
grep -q "^NOTE .*the bucket has no Object Lock" v.txt || fail "verify should say the bucket has no Object Lock: $(cat v.txt)"
[ "$(bucket_keys "$P/v1/nodes/s3a" | grep -c '\.idx$')" -ge 5 ] || fail "expected at least 5 segments of s3a"

note "the first segment deleted: history does not start at genesis"
copy; rm_seg "$(segs s3a | head -1)"
expect 5 "^CUT .*s3a's history starts at seq 1" "s3://$B/$C"

note "a middle segment deleted: the chain names it"
copy; rm_seg "$(segs s3a | sed -n 4p)"
expect 1 "^DAMAGED .*segments 3\.\.3 of node s3a are missing" "s3://$B/$C"

note "the last two segments deleted: the newest checkpoint names them"
copy; for s in $(segs s3a | tail -2); do rm_seg "$s"; done
expect 5 "^CUT node s3a: segments [0-9]+\.\.[0-9]+ are missing: checkpoint .* names seq" "s3://$B/$C"

note "a checkpoint deleted: the next one names it"
copy; awscli s3 rm --quiet "s3://$B/$(bucket_keys "$C/v1/checkpoints/s3a" | sed -n 2p)" || fail "aws s3 rm"
expect 5 "^CUT .*the checkpoint before it is not .*checkpoints were deleted" "s3://$B/$C"

note "a segment rewritten and the rest of the chain recomputed, without the key"
copy; rm -rf rw && awscli s3 cp --quiet --recursive "s3://$B/$C/v1/nodes/s3a/" rw/ || fail "aws s3 cp"
python3 - rw <<'PY'
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
data = idxs[2][:-4] + ".pcapng.zst"
d = bytearray(open(data, "rb").read()); d[-20] ^= 0xFF; open(data, "wb").write(d)
prev = fix(idxs[2], data_sha=hashlib.sha256(bytes(d)).digest(), data_size=len(d))
for p in idxs[3:]:
    prev = fix(p, prev=prev)
PY
awscli s3 cp --quiet --recursive rw/ "s3://$B/$C/v1/nodes/s3a/" || fail "aws s3 cp"
expect 6 "^SIGNATURE .*0000000002\.idx: bad signature .*rewritten" "s3://$B/$C"
grep -q "^DAMAGED" v.txt && fail "the recomputed chain should hash-verify: $(cat v.txt)"

note "an older segment replayed under a newer name"
copy; old=$(segs s3a | sed -n 2p); last=$(segs s3a | tail -1)
lk=$(basename "$last" .idx); start=${lk%-*}; seq=${lk#*-}
new=$(dirname "$last")/$(printf '%019d-%010d' $((10#$start + 1000)) $((10#$seq + 1)))
for x in pcapng.zst events.jsonl.zst idx; do
    awscli s3 cp --quiet "s3://$B/${old%.idx}.$x" "s3://$B/$new.$x" || fail "aws s3 cp"
done
expect 7 "^MOVED .*its index is node s3a's segment 1 .*replayed or moved" "s3://$B/$C"

note "two nodes' segments swapped"
copy; a=$(segs s3a | sed -n 2p); b=$(segs s3b | sed -n 2p)
mv_seg "$a" "$C/swap.idx"; mv_seg "$b" "$a"; mv_seg "$C/swap.idx" "$b"
"$TV" verify --store "s3://$B/$C" >v.txt 2>&1; got=$?
[ "$got" != 0 ] || fail "a swap verified intact: $(cat v.txt)"
grep -qE "^MOVED v1/nodes/s3a/.*its index is node s3b's segment" v.txt || fail "s3a's slot: $(cat v.txt)"
grep -qE "^MOVED v1/nodes/s3b/.*its index is node s3a's segment" v.txt || fail "s3b's slot: $(cat v.txt)"

note "segments older than the retention horizon deleted (a lifecycle rule): intact"
copy; for s in $(segs s3b | head -2); do rm_seg "$s"; done
expect 5 "^CUT .*younger than the retention horizon" "s3://$B/$C" --retention 30d --node s3b
printf '{"version":1,"retention_ns":1000000000}\n' > settings.json
awscli s3 cp --quiet settings.json "s3://$B/$C/v1/settings.json" || fail "aws s3 cp"
expect 0 "^INTACT" "s3://$B/$C" --node s3b

note "without Object Lock, the newest segments deleted with every checkpoint go unseen"
copy; for s in $(segs s3a | tail -2); do rm_seg "$s"; done
awscli s3 rm --quiet --recursive "s3://$B/$C/v1/checkpoints/s3a/" || fail "aws s3 rm"
expect 0 "^NOTE .*the bucket has no Object Lock" "s3://$B/$C" --node s3a

note "a node into the bucket with Object Lock ($RGW_LOCKED_BUCKET)"
L=$RGW_LOCKED_BUCKET
run_node "$L" "$P" s3c --object-lock require --lock-retention 2h
grep -q "under Object Lock (COMPLIANCE" up-s3c.log || fail "uploader: no Object Lock: $(cat up-s3c.log)"
expect 0 "^INTACT: .* 0 unsigned, [1-9][0-9]* checkpoints" "s3://$L/$P"
grep -q "Object Lock" v.txt && fail "no Object Lock note expected on a locked bucket: $(cat v.txt)"
cp1=$(awscli s3api list-objects-v2 --bucket "$L" --prefix "$P/v1/checkpoints/s3c/" --query 'Contents[0].Key' --output text)
awscli s3api get-object-retention --bucket "$L" --key "$cp1" --query Retention.Mode --output text | grep -qx COMPLIANCE ||
    fail "checkpoint $cp1 has no COMPLIANCE retention"

note "the intruder deletes the newest segments and every checkpoint; the locked versions stay"
for s in $(awscli s3api list-objects-v2 --bucket "$L" --prefix "$P/v1/nodes/s3c/" --query 'Contents[].Key' \
    --output text | tr '\t' '\n' | grep '\.idx$' | sort | tail -2); do
    for x in idx pcapng.zst events.jsonl.zst; do awscli s3 rm --quiet "s3://$L/${s%.idx}.$x" || fail "aws s3 rm"; done
done
awscli s3 rm --quiet --recursive "s3://$L/$P/v1/checkpoints/s3c/" || fail "aws s3 rm"
[ "$(awscli s3api list-objects-v2 --bucket "$L" --prefix "$P/v1/checkpoints/" --query 'length(Contents || `[]`)' \
    --output text)" = 0 ] || fail "the checkpoints should look deleted"
vid=$(awscli s3api list-object-versions --bucket "$L" --prefix "$cp1" --query 'Versions[0].VersionId' --output text)
if awscli s3api delete-object --bucket "$L" --key "$cp1" --version-id "$vid" >/dev/null 2>&1; then
    fail "a checkpoint version under COMPLIANCE retention was deleted"
fi
expect 5 "^CUT node s3c: segments [0-9]+\.\.[0-9]+ are missing: checkpoint .* names seq" "s3://$L/$P"
grep -q "^CUT .*checkpoint deleted: a delete marker hides it" v.txt || fail "delete markers not named: $(cat v.txt)"

echo "PASS: tamper evidence on s3:// ($N tampered copies, Object Lock)"
