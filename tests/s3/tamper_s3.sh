#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Tamper evidence on s3:// (a real RGW; run through with_rgw.sh): a live
# agent and its uploader ship signed segments, the node key and signed
# checkpoints to the bucket; untouched it verifies INTACT; then, with the AWS
# CLI as the intruder: the newest segment deleted (the newest checkpoint
# names it: exit 5), an older segment replayed under a newer name (exit 7),
# a middle checkpoint deleted (exit 5). tests/integration/tamper_evidence.sh
# covers every case on a file:// store.
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
PREFIX=tamper-$$
STORE=s3://$RGW_BUCKET/$PREFIX

note "a live agent and its uploader into $STORE"
bg "$AGENT" -n s3n -i lo -b buf --seal-interval 300ms --seal-bytes 1Mi --storage-size 64Mi --log-level warn 2>agent.log
AG=$BG_PID
wait_for 10 test -d buf/v1 || fail "agent: $(tail -3 agent.log)"
bg "$UPLOADER" --buffer buf --store "$STORE" --checkpoint-interval 1s --rescan 200ms --log-level warn 2>up.log
UP=$BG_PID
sleep 4
kill -TERM "$AG"; wait "$AG" || fail "agent: $(tail -3 agent.log)"
sleep 2
kill -TERM "$UP"; wait "$UP" || fail "uploader: $(tail -3 up.log)"

expect() { # CODE PATTERN
    "$TV" verify --store "$STORE" >v.txt 2>&1; local got=$?
    [ "$got" = "$1" ] || fail "verify: exit $got, expected $1: $(cat v.txt)"
    grep -qE -- "$2" v.txt || fail "verify: no /$2/ in: $(cat v.txt)"
}
expect 0 "^INTACT: .* 0 unsigned, [3-9][0-9]* checkpoints|^INTACT: .* 0 unsigned, [1-9][0-9]+ checkpoints"

mapfile -t idx < <(bucket_keys "$PREFIX" | grep '\.idx$')
mapfile -t cps < <(bucket_keys "$PREFIX" | grep '/v1/checkpoints/')
[ ${#idx[@]} -ge 5 ] && [ ${#cps[@]} -ge 3 ] || fail "expected segments and checkpoints: ${#idx[@]} ${#cps[@]}"

note "an older segment replayed under a newer name"
last=${idx[-1]%.idx}; lk=$(basename "$last"); start=${lk%-*}; seq=${lk#*-}
new=$(dirname "$last")/$(printf '%019d-%010d' $((10#$start + 1000)) $((10#$seq + 1)))
for x in pcapng.zst events.jsonl.zst idx; do
    awscli s3 cp --quiet "s3://$RGW_BUCKET/${idx[1]%.idx}.$x" "s3://$RGW_BUCKET/$new.$x" || fail "aws s3 cp"
done
expect 7 "^MOVED .*replayed or moved"
for x in pcapng.zst events.jsonl.zst idx; do awscli s3 rm --quiet "s3://$RGW_BUCKET/$new.$x"; done
expect 0 "^INTACT"

note "a middle checkpoint deleted"
awscli s3 rm --quiet "s3://$RGW_BUCKET/${cps[1]}" || fail "aws s3 rm"
expect 5 "^CUT .*checkpoints were deleted"

note "the newest segment deleted"
for x in idx pcapng.zst events.jsonl.zst; do awscli s3 rm --quiet "s3://$RGW_BUCKET/${idx[-1]%.idx}.$x"; done
expect 5 "^CUT node s3n: segments [0-9]+\.\.[0-9]+ are missing: checkpoint .* names seq"

echo "PASS: tamper evidence on s3://"
