#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Upload throughput and client CPU per GB: tapvault-uploader against the AWS
# CLI (`aws s3 cp --recursive`, Debian's awscli), same buffer, same RGW, same
# run, rounds interleaved; the best round of each counts. Each tool runs with
# its defaults (AWS CLI: 10 concurrent requests, 8 MiB parts; uploader: 4
# segments in flight, 4 parts each, 64 MiB multipart threshold).
#   tests/bench/bench_upload.sh [MB]     (default 1024 MB of incompressible segments)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
"$ROOT/scripts/build.sh" Release >/dev/null # incremental: always current
TV=$ROOT/build-release/dissector/tapvault
UP=$ROOT/build-release/uploader/tapvault-uploader
. "$ROOT/tests/lib/common.sh"
tv_tmpdir
MB=${1:-1024}
ROUNDS=${ROUNDS:-2}
RGW=$TV_TMP/rgw
stop_rgw() { "$ROOT/scripts/rgw.sh" stop "$RGW" >/dev/null 2>&1 || true; }
trap 'stop_rgw; tv_cleanup' EXIT
RGW_BLUESTORE=1 RGW_BLUESTORE_BYTES=$(( (MB * 3 + 4096) * 1024 * 1024 )) "$ROOT/scripts/rgw.sh" start "$RGW" >/dev/null
eval "$("$ROOT/scripts/rgw.sh" env "$RGW")"
export AWS_CONFIG_FILE=$RGW/aws-config AWS_SHARED_CREDENTIALS_FILE=$RGW/aws-config
aws() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL_S3" "$@"; }

echo "preparing a ${MB} MB buffer (random payloads, 256 MiB segments)"
count=$((MB * 1000000 / 1442))
python3 "$ROOT/tests/lib/mkpcap.py" "$TV_TMP/in.pcap" "$count" 1400 1795000000000000000 100000 1
"$TV" import -q --store "$TV_TMP/buf" --node bench "$TV_TMP/in.pcap" 2>/dev/null
rm "$TV_TMP/in.pcap"
bytes=$(find "$TV_TMP/buf/v1" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
files=$(find "$TV_TMP/buf/v1" -type f | wc -l)
echo "buffer: $files objects, $bytes bytes"

# run LABEL CMD...: prints "LABEL wall user sys"
run() {
    local label=$1; shift
    local t
    local TIMEFORMAT='%R %U %S'
    t=$( { time "$@" >/dev/null 2>/dev/null; } 2>&1 | tail -1)
    echo "$label $t"
}
results=""
for r in $(seq 1 "$ROUNDS"); do
    results+=$(run aws aws s3 cp --quiet --recursive "$TV_TMP/buf/v1" "s3://$RGW_BUCKET/aws$r/v1")$'\n'
    aws s3 rm --quiet --recursive "s3://$RGW_BUCKET/aws$r" >/dev/null
    rm -rf "$TV_TMP/buf/.uploaded"
    results+=$(run tv "$UP" --once --buffer "$TV_TMP/buf" --store "s3://$RGW_BUCKET/tv$r" --log-level error)$'\n'
    [ "$(find "$TV_TMP/buf/.uploaded" -type f | wc -l)" -gt 0 ] || fail "the uploader uploaded nothing"
    aws s3 rm --quiet --recursive "s3://$RGW_BUCKET/tv$r" >/dev/null
done
python3 - "$bytes" <<PY
import sys
b = float(sys.argv[1])
rows = [l.split() for l in """$results""".strip().splitlines()]
def best(label):
    runs = [(float(w), float(u) + float(s)) for l, w, u, s in rows if l == label]
    return min(runs)  # fastest wall time, with its CPU
aw, ac = best("aws"); tw, tc = best("tv")
gb = b / 1e9
print(f"AWS CLI:  {b / aw / 1e6:7.1f} MB/s  {ac / gb:6.2f} CPU s/GB")
print(f"uploader: {b / tw / 1e6:7.1f} MB/s  {tc / gb:6.2f} CPU s/GB")
print(f"throughput {aw / tw:.2f}x the AWS CLI (target >= 1); CPU per GB {tc / ac:.2f}x (target <= 0.5)")
PY
