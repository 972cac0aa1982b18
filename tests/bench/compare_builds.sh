#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Two builds of tapvault side by side in one run, on the same capture:
# dissection, import (the segment writer), a window export (merge + dedup),
# verify, and the agent's pipeline replaying the capture (--read). Rounds
# alternate old and new; the best round of each counts. For refactors that
# must not cost anything.
#   tests/bench/compare_builds.sh OLD_BUILD_DIR NEW_BUILD_DIR CAPTURE.pcap [ROUNDS]
set -euo pipefail
OLD=$1 NEW=$2 CAP=$3 ROUNDS=${4:-5}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
tv_tmpdir
cd "$TV_TMP"
# user+system CPU and wall seconds of one command, "cpu wall"; the disk is
# synced first, so no step pays for the previous one's writeback
measure() {
    sync
    /usr/bin/time -f '%U %S %e' -o t.txt "$@" >/dev/null 2>&1 || true
    awk '{printf "%.3f %.3f\n", $1 + $2, $3}' t.txt
}
declare -A best_cpu best_wall
keep() { # name "cpu wall"
    local cpu=${2% *} wall=${2#* }
    if [ -z "${best_cpu[$1]:-}" ] || awk "BEGIN{exit !($cpu < ${best_cpu[$1]})}"; then best_cpu[$1]=$cpu; fi
    if [ -z "${best_wall[$1]:-}" ] || awk "BEGIN{exit !($wall < ${best_wall[$1]})}"; then best_wall[$1]=$wall; fi
}
tv() { echo "$1/dissector/tapvault"; }
agent() { echo "$1/nodeagent/tapvault-agent"; }
for which in old new; do
    b=$OLD; [ $which = new ] && b=$NEW
    "$(tv "$b")" import -q --store "st-$which" --node n1 "$CAP" >/dev/null 2>&1
done
first=$(capinfos -Tra "$CAP" | tail -1 | cut -f2 | cut -d. -f1)
for r in $(seq 1 "$ROUNDS"); do
    for which in old new; do
        b=$OLD; [ $which = new ] && b=$NEW
        keep "dissect-$which" "$(measure "$(tv "$b")" dissect --pcap "$CAP" -o out.jsonl)"
        rm -rf "imp-$which"
        keep "import-$which" "$(measure "$(tv "$b")" import -q --store "imp-$which" --node n1 "$CAP")"
        keep "pcap-$which" "$(measure "$(tv "$b")" pcap --store "st-$which" --from 0 --to now -o - )"
        keep "verify-$which" "$(measure "$(tv "$b")" verify --store "st-$which")"
        rm -rf "buf-$which"
        keep "agent-$which" "$(measure "$(agent "$b")" --read "$CAP" --buffer-dir "buf-$which" --node n1 \
            --storage-size 8Gi --log-level error)"
    done
done
bytes=$(stat -c %s "$CAP")
echo "capture: $CAP ($((bytes / 1000000)) MB); best of $ROUNDS alternating rounds; CPU = user + system"
printf '%-9s %10s %10s %10s %10s %8s\n' step "old cpu s" "new cpu s" "old wall" "new wall" "new/old"
for s in dissect import pcap verify agent; do
    printf '%-9s %10s %10s %10s %10s %8s\n' "$s" "${best_cpu[$s-old]}" "${best_cpu[$s-new]}" \
        "${best_wall[$s-old]}" "${best_wall[$s-new]}" \
        "$(awk "BEGIN{printf \"%.3f\", ${best_cpu[$s-new]} / ${best_cpu[$s-old]}}")"
done
