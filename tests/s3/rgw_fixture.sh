#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CTest fixture around scripts/rgw.sh: `start DIR` (clearing what an aborted
# run left there) or `stop DIR`. Needs root for the Ceph daemons' defaults;
# exits 77 (skip) with the reason when Ceph is not installed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
RGW="$HERE/../../scripts/rgw.sh"
case ${1:-} in
start)
    for c in ceph-mon ceph-osd radosgw; do
        command -v $c >/dev/null || { echo "SKIP: $c not installed (scripts/install-deps.sh installs it)"; exit 77; }
    done
    [ ! -e "$2/ceph.conf" ] || "$RGW" stop "$2"
    exec "$RGW" start "$2"
    ;;
stop) exec "$RGW" stop "$2" ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
