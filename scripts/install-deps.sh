#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package that building, testing and the demo need.
# Idempotent: re-running it is cheap when everything is present.
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
    # libraries (DESIGN.md "Dependencies")
    libpcap-dev libzstd-dev zstd libyaml-dev libssl-dev libarchive-dev libjansson-dev
    libcurl4-openssl-dev libxml2-dev libhttp-parser-dev zlib1g-dev libnghttp2-dev libdeflate-dev libjemalloc-dev
    # unit tests
    libcmocka-dev libcap-ng-dev
    # reference tools and real peers used by the integration tests and benchmarks
    tshark wireshark-common tcpdump nginx-light iproute2 curl procps python3 bc iperf3 dnsmasq-base dnsutils time
    # the S3-compatible server of the store tests (scripts/rgw.sh) and the reference S3 client
    ceph-mon ceph-osd radosgw uuid-runtime awscli
    # peers of the dissection tests
    redis-server redis-tools nghttp2-client nghttp2-server nghttp2-proxy python3-grpcio
    # the floors printed by bench_capture.sh (openssl speed)
    openssl
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
# wireshark-common asks whether non-root users may capture; answer for it.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
