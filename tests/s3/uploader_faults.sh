#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Uploader faults against a real RGW. Run through with_rgw.sh.
# 1. radosgw is killed for 60 s while segments keep arriving in the buffer and
#    then restarted: nothing is lost, the backlog drains, the bucket holds
#    exactly the buffer's objects, byte for byte.
# 2. The uploader is kill -9'd 10 times in the middle of multipart uploads
#    (new data arrives between runs): afterwards every segment is in the
#    bucket exactly once and identical, and no multipart upload is left open.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
. "$HERE/../lib/s3.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
UPLOADER=$(dirname "$TV")/../uploader/tapvault-uploader
need_rgw
need_cmd python3 /usr/bin/aws curl
tv_tmpdir
cd "$TV_TMP"
OUTAGE=${TV_OUTAGE_S:-60}
T0=1795000000000000000

# add_batch BUF NODE I COUNT SIZE: imports batch I (COUNT packets of SIZE
# random bytes, 1 ms apart, after the previous batches) into BUF.
add_batch() {
    local start=$((T0 + $3 * 1000000000000))
    python3 "$HERE/../lib/mkpcap.py" "b$3.pcap" "$4" "$5" "$start" 1000000 "$3" || fail mkpcap
    "$TV" import -q --store "$1" --node "$2" --seal-bytes "${SEAL:-268435456}" "b$3.pcap" 2>>import.log || fail "import batch $3"
    rm -f "b$3.pcap"
}
metric() { curl -sf "http://127.0.0.1:$UPORT/metrics" | metric_value "$1"; }
UPORT=$(free_port)

note "1: radosgw down for $OUTAGE s while segments keep arriving"
P1=outage-$$
add_batch buf1 stream 0 300 1000
bg "$UPLOADER" --buffer buf1 --store "s3://$RGW_BUCKET/$P1" --metrics-addr 127.0.0.1:$UPORT --rescan 1s \
    --log-level info 2>uploader1.log
U1=$BG_PID
wait_for 20 all_marked buf1 || fail "first batch not uploaded: $(tail -3 uploader1.log)"
"$HERE/../../scripts/rgw.sh" stop-rgw "$RGW_DIR"
down_at=$SECONDS
i=1
while [ $((SECONDS - down_at)) -lt "$OUTAGE" ]; do
    add_batch buf1 stream $i 300 1000
    i=$((i + 1))
    sleep 1
done
pending=$(metric tapvault_uploader_backlog_segments)
errors=$(metric 'tapvault_uploader_errors_total{class="transient"}')
note "store down $OUTAGE s: backlog $pending segments, $errors transient errors counted"
[ "$pending" -ge $((OUTAGE / 2)) ] || fail "expected a backlog while the store was down, have $pending"
"$HERE/../../scripts/rgw.sh" start-rgw "$RGW_DIR"
for j in 1 2 3; do add_batch buf1 stream $i 300 1000; i=$((i + 1)); done
wait_for 120 all_marked buf1 || fail "backlog not drained after the outage: $(tail -5 uploader1.log)"
kill -TERM "$U1"; wait "$U1" || fail "uploader exited non-zero"
same_as_buffer buf1 "$P1"
n=$(find buf1/v1 -name '*.idx' | wc -l)
[ "$n" = "$i" ] || fail "$i batches imported, $n segments in the buffer"
[ "$(find buf1/.uploaded -type f | wc -l)" = "$n" ] || fail "not every segment is marked uploaded"

note "2: kill -9 the uploader 10 times mid-multipart"
P2=kill9-$$
SEAL=$((24 * 1024 * 1024))
kills=0
: >uploader2.log
started() { grep -c "multipart upload of" uploader2.log || true; }
more_started() { [ "$(started)" -gt "$1" ]; }
for k in $(seq 1 10); do
    add_batch buf2 bulk "$k" 25000 1200 # ~30 MB: two segments, several parts each
    before=$(started)
    # 16 MiB/s per connection: a 24 MiB object takes about a second, so a kill
    # right after a multipart upload starts lands inside it
    bg "$UPLOADER" --buffer buf2 --store "s3://$RGW_BUCKET/$P2" --multipart-threshold 8Mi --part-size 5Mi \
        --part-parallel 2 --parallel 2 --max-rate 16Mi --log-level debug 2>>uploader2.log
    pid=$BG_PID
    wait_for 20 more_started "$before" || fail "no multipart upload started: $(tail -3 uploader2.log)"
    sleep "0.$((RANDOM % 3 + 1))"
    kill -KILL $pid 2>/dev/null && kills=$((kills + 1))
    wait $pid 2>/dev/null
done
open_before=$(open_multipart "$P2")
note "$kills kills landed; $open_before multipart uploads left open; final run"
"$UPLOADER" --buffer buf2 --store "s3://$RGW_BUCKET/$P2" --multipart-threshold 8Mi --part-size 5Mi --once \
    --give-up-after 120s --log-level info 2>>uploader2.log || fail "final run: $(tail -5 uploader2.log)"
same_as_buffer buf2 "$P2"
[ "$(open_multipart "$P2")" = 0 ] || fail "multipart uploads left open after the final run"
[ "$kills" = 10 ] || fail "only $kills of 10 kills hit a running uploader"
aborted=$(grep -o 'aborted [0-9]* unfinished' uploader2.log | awk '{s += $2} END {print s + 0}')
note "restarts aborted $aborted multipart uploads the kills had left open"
[ $((aborted + open_before)) -ge 5 ] || fail "only $((aborted + open_before)) kills landed inside a multipart upload"
echo "PASS: $OUTAGE s outage: $n segments, none lost; $kills kill -9: exactly once, $((aborted + open_before)) interrupted multipart uploads cleaned up"
