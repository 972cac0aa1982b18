#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The tapvault container image: one image for the agent, the uploader and
# the CLI, from Debian 12 packages only. mmdebstrap builds the root file
# system (the essential set plus the shared libraries the Release binaries
# link, found with ldd and dpkg -S: no compiler, no apt, no shell tools
# beyond essential), then buildah turns it into an OCI image.
#   scripts/build-image.sh [OUTDIR]     (default build-image/)
# Writes OUTDIR/rootfs.tar, OUTDIR/tapvault-VERSION.oci.tar (an OCI archive
# `podman load` and `skopeo copy` take) and, when buildah can store images
# here, the local image tapvault:VERSION. Needs root (or buildah unshare).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-build-image}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
for c in mmdebstrap buildah dpkg-query ldd; do
    command -v "$c" >/dev/null || { echo "build-image: $c missing (scripts/install-deps.sh --image)" >&2; exit 1; }
done

scripts/build.sh Release >/dev/null
BIN=(build-release/dissector/tapvault build-release/nodeagent/tapvault-agent build-release/uploader/tapvault-uploader)
VERSION=$("${BIN[0]}" --version | awk '{print $2}')

# the Debian packages that hold every shared library the binaries load
libs=$(ldd "${BIN[@]}" | awk '$3 ~ /^\// {print $3}' | sort -u)
pkgs=$(for l in $libs; do dpkg -S "$(readlink -f "$l")" 2>/dev/null || dpkg -S "$l"; done |
    cut -d: -f1 | sort -u | grep -v '^libc6$' | tr '\n' ',')
pkgs=${pkgs}ca-certificates,tzdata
echo "build-image: tapvault $VERSION with ${pkgs//,/ }"

sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list # the machine's own mirror, whatever it is
rm -f "$OUT/rootfs.tar"
mmdebstrap --variant=essential --include="$pkgs" \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="copy-in ${BIN[*]} /usr/bin" \
    --customize-hook='mkdir -p "$1/etc/tapvault" "$1/var/lib/tapvault" "$1/tmp"' \
    --customize-hook='echo "tapvault:x:65532:65532:tapvault:/nonexistent:/usr/sbin/nologin" >>"$1/etc/passwd"' \
    --customize-hook='echo "tapvault:x:65532:" >>"$1/etc/group"' \
    --customize-hook='rm -rf "$1/var/cache/apt" "$1/var/lib/apt/lists" "$1/var/log"/*' \
    bookworm "$OUT/rootfs.tar" "$sources"

# compilers must not be there
if tar -tf "$OUT/rootfs.tar" | grep -qE '(^|/)usr/bin/(gcc|cc|clang|ld|as)(-[0-9.]+)?$'; then
    echo "build-image: a compiler ended up in the image" >&2
    exit 1
fi

ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
buildah add "$ctr" "$OUT/rootfs.tar" / >/dev/null
buildah config --label org.opencontainers.image.title=tapvault \
    --label org.opencontainers.image.version="$VERSION" \
    --label org.opencontainers.image.description="tapvault agent, uploader and CLI" \
    --env PATH=/usr/bin:/usr/sbin:/bin:/sbin --env TMPDIR=/tmp \
    --workingdir / --entrypoint '[]' --cmd '["tapvault", "--help"]' "$ctr"
buildah commit --quiet "$ctr" "localhost/tapvault:$VERSION" >/dev/null
rm -f "$OUT/tapvault-$VERSION.oci.tar"
buildah push --quiet "localhost/tapvault:$VERSION" "oci-archive:$OUT/tapvault-$VERSION.oci.tar:tapvault:$VERSION"
echo "build-image: localhost/tapvault:$VERSION, $OUT/tapvault-$VERSION.oci.tar ($(du -h "$OUT/tapvault-$VERSION.oci.tar" | cut -f1)), $OUT/rootfs.tar"
