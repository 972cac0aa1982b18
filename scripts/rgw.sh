#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A throw-away single-node Ceph RADOS Gateway on loopback, for tests and
# benchmarks: one monitor, one OSD (memstore, or bluestore on a file with
# RGW_BLUESTORE=1 when a test stores more than a few hundred MB), auth none,
# radosgw serving S3 on 127.0.0.1. Every wait is bounded; `stop` kills only
# the processes this script started (their PIDs are in DIR/*.pid).
#
#   scripts/rgw.sh start DIR [PORT]   prints "endpoint=... access_key=... secret_key=... bucket=..."
#   scripts/rgw.sh env DIR            the same as shell assignments (AWS_* variables)
#   scripts/rgw.sh stop-rgw DIR       stops radosgw only (fault tests)
#   scripts/rgw.sh start-rgw DIR      starts radosgw again on the same port
#   scripts/rgw.sh stop DIR           stops everything and deletes DIR
#
# Facts this relies on (Ceph 16.2 from Debian 12): radosgw hangs on a
# no-auth monitor unless `ms mon client mode = crc`; ready in about 15 s.
set -euo pipefail

ACCESS_KEY=tapvaulttest
SECRET_KEY=tapvault-test-secret-0123456789abcdef
BUCKET=tapvault
LOCKED_BUCKET=tapvault-locked

die() { echo "rgw.sh: $*" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_until SECONDS CMD...: polls every 0.2 s.
wait_until() {
    local end=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.2
    done
}

ceph_cli() { timeout 20 ceph -c "$DIR/ceph.conf" "$@"; }

write_conf() {
    local mon_port=$1 rgw_port=$2 store=osd_objectstore
    cat >"$DIR/ceph.conf" <<EOF
[global]
fsid = $(cat "$DIR/fsid")
mon host = [v2:127.0.0.1:$mon_port]
mon initial members = a
public addr = 127.0.0.1
auth cluster required = none
auth service required = none
auth client required = none
ms mon client mode = crc
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
log file = $DIR/log/\$name.log
pid file = $DIR/run/\$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon max pg per osd = 1000
osd crush chooseleaf type = 0
osd objectstore = ${RGW_BLUESTORE:+bluestore}${RGW_BLUESTORE:-memstore}
memstore device bytes = ${RGW_MEMSTORE_BYTES:-4294967296}
bluestore block path = $DIR/bluestore.img
bluestore block size = ${RGW_BLUESTORE_BYTES:-21474836480}
bluestore block create = true
osd data = $DIR/osd
mon data = $DIR/mon
keyring = $DIR/keyring

[client.rgw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw data = $DIR/rgw
rgw dns name = localhost
rgw enable usage log = false
rgw thread pool size = 64
EOF
    # STS (AssumeRoleWithWebIdentity), only when asked (RGW_WITH_STS=1): with
    # it RGW answers some refusals differently (AccessDenied where S3 says
    # SignatureDoesNotMatch, NoSuchBucket, RequestTimeTooSkewed), so the
    # shared test RGW goes without. The key encrypts its session tokens.
    if [ -n "${RGW_WITH_STS:-}" ]; then
        printf 'rgw s3 auth use sts = true\nrgw sts key = tapvaultstskey16\n' >>"$DIR/ceph.conf"
    fi
    : "$store"
}

start_daemon() { # NAME CMD...: starts in the background, records the PID
    local name=$1; shift
    "$@" >>"$DIR/log/$name.out" 2>&1 &
    echo $! >"$DIR/$name.pid"
}

start_rgw() {
    local port; port=$(cat "$DIR/rgw.port")
    start_daemon radosgw radosgw -c "$DIR/ceph.conf" -n client.rgw -f
    wait_until 60 curl -s -o /dev/null "http://127.0.0.1:$port/" ||
        die "radosgw did not answer on 127.0.0.1:$port within 60 s (see $DIR/log/)"
}

stop_one() { # NAME: SIGTERM, then SIGKILL after 10 s; only our own PID
    local f="$DIR/$1.pid" pid
    [ -f "$f" ] || return 0
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait_until 10 bash -c "! kill -0 $pid" || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

cmd_start() {
    [ ! -e "$DIR/ceph.conf" ] || die "$DIR already holds a cluster"
    for c in ceph-mon ceph-osd radosgw radosgw-admin ceph monmaptool curl python3 /usr/bin/aws uuidgen; do
        command -v "$c" >/dev/null || die "$c not found (scripts/install-deps.sh installs it)"
    done
    mkdir -p "$DIR"/{mon,osd,rgw,run,log}
    : >"$DIR/aws-config"
    uuidgen >"$DIR/fsid"
    local mon_port rgw_port=${PORT:-$(free_port)}
    mon_port=$(free_port)
    echo "$rgw_port" >"$DIR/rgw.port"
    write_conf "$mon_port" "$rgw_port"
    monmaptool --create --fsid "$(cat "$DIR/fsid")" --addv a "[v2:127.0.0.1:$mon_port]" "$DIR/monmap" >/dev/null
    ceph-mon -c "$DIR/ceph.conf" -i a --mkfs --monmap "$DIR/monmap" >>"$DIR/log/mkfs.out" 2>&1 ||
        die "ceph-mon --mkfs failed (see $DIR/log/mkfs.out)"
    start_daemon mon ceph-mon -c "$DIR/ceph.conf" -i a -f
    wait_until 30 ceph_cli -s || die "monitor did not come up within 30 s (see $DIR/log/)"
    local osd_uuid; osd_uuid=$(uuidgen)
    ceph_cli osd new "$osd_uuid" >/dev/null || die "ceph osd new failed"
    ceph-osd -c "$DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/mkfs.out" 2>&1 ||
        die "ceph-osd --mkfs failed (see $DIR/log/mkfs.out)"
    start_daemon osd ceph-osd -c "$DIR/ceph.conf" -i 0 -f
    wait_until 60 bash -c "ceph -c '$DIR/ceph.conf' osd stat 2>/dev/null | grep -q '1 up'" ||
        die "OSD did not come up within 60 s (see $DIR/log/)"
    start_rgw
    radosgw-admin -c "$DIR/ceph.conf" -n client.rgw user create --uid=tapvault --display-name=tapvault \
        --access-key="$ACCESS_KEY" --secret-key="$SECRET_KEY" >>"$DIR/log/admin.out" 2>&1 ||
        die "radosgw-admin user create failed (see $DIR/log/admin.out)"
    # IAM for the web identity test: OIDC providers and roles
    radosgw-admin -c "$DIR/ceph.conf" -n client.rgw caps add --uid=tapvault --caps="oidc-provider=*;roles=*" \
        >>"$DIR/log/admin.out" 2>&1 || die "radosgw-admin caps add failed (see $DIR/log/admin.out)"
    # The buckets, with Debian's AWS CLI (the reference client of the
    # benchmarks): a plain one, and one with Object Lock (hence versioning).
    make_bucket "$BUCKET"
    make_bucket "$LOCKED_BUCKET" --object-lock-enabled-for-bucket
    cmd_show
}

make_bucket() { # NAME [create-bucket flags]
    local name=$1; shift
    AWS_ACCESS_KEY_ID=$ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SECRET_KEY AWS_REGION=us-east-1 \
        AWS_CONFIG_FILE=$DIR/aws-config AWS_SHARED_CREDENTIALS_FILE=$DIR/aws-config \
        timeout 60 /usr/bin/aws --endpoint-url "http://127.0.0.1:$(cat "$DIR/rgw.port")" s3api create-bucket \
        --bucket "$name" "$@" >>"$DIR/log/admin.out" 2>&1 || die "could not create bucket $name"
}

cmd_show() {
    echo "endpoint=http://127.0.0.1:$(cat "$DIR/rgw.port") access_key=$ACCESS_KEY secret_key=$SECRET_KEY bucket=$BUCKET"
}

cmd_env() {
    echo "export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$(cat "$DIR/rgw.port")"
    echo "export AWS_ACCESS_KEY_ID=$ACCESS_KEY AWS_SECRET_ACCESS_KEY=$SECRET_KEY AWS_REGION=us-east-1"
    echo "export RGW_BUCKET=$BUCKET RGW_LOCKED_BUCKET=$LOCKED_BUCKET"
    grep -q "^rgw sts key" "$DIR/ceph.conf" && echo "export RGW_STS=1"
}

cmd_stop() {
    stop_one radosgw
    stop_one osd
    stop_one mon
    rm -rf "$DIR"
}

[ $# -ge 2 ] || die "usage: $0 start|env|stop|stop-rgw|start-rgw DIR [PORT]"
DIR=$(realpath -m "$2")
PORT=${3:-}
case $1 in
start) cmd_start ;;
env) cmd_env ;;
stop) cmd_stop ;;
stop-rgw) stop_one radosgw ;;
start-rgw) start_rgw ;;
*) die "unknown command $1" ;;
esac
