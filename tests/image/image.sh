#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The container image (scripts/build-image.sh): built from Debian packages,
# no compiler in it, then run -- with podman when podman can run containers
# here, else (saying exactly why) as its root file system under
# unshare + chroot. In it: the three programs start, and the commands and
# flags the chart renders (the DaemonSet's two containers with the
# ConfigMap mounted where the chart mounts it) and the Indexed Job that
# `tapvault dissect --job` prints (every index, against a store this test
# fills) are accepted by the binaries in the image and do their work.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
ROOT=$(cd "$HERE/../.." && pwd)
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
need_root
need_cmd mmdebstrap buildah python3
PY3=/usr/bin/python3
tv_tmpdir
cd "$TV_TMP"
note "build"
"$ROOT/scripts/build-image.sh" "$TV_TMP/img" >build.log 2>&1 || { tail -30 build.log; fail "build-image.sh"; }
tail -2 build.log
VERSION=$("$TV" --version | awk '{print $2}')
IMAGE=localhost/tapvault:$VERSION
tar -tf img/rootfs.tar >members.txt
for b in usr/bin/tapvault usr/bin/tapvault-agent usr/bin/tapvault-uploader; do
    grep -qx "./$b" members.txt || fail "$b is not in the image"
done
grep -E '(^|/)usr/bin/(gcc|cc|c99|clang|ld|as|make)(-[0-9.]+)?$' members.txt && fail "a compiler is in the image"
echo "rootfs: $(wc -l <members.txt) entries, $(du -h img/rootfs.tar | cut -f1); no compiler"

# how to run a command in the image: podman if it can, else chroot
mkdir -p rootfs && tar -xf img/rootfs.tar -C rootfs
RUNNER=chroot
why="podman is not installed"
if command -v podman >/dev/null; then
    if ! podman load -q -i "img/tapvault-$VERSION.oci.tar" >podman.log 2>&1; then
        why="podman load: $(tail -1 podman.log)"
    elif podman run --rm --network none "$IMAGE" tapvault --version >podman.log 2>&1; then
        RUNNER=podman
    else
        why="podman run: $(tail -1 podman.log)"
    fi
fi
if [ "$RUNNER" = podman ]; then
    echo "running with podman $(podman --version | awk '{print $3}')"
else
    # seen here: "crun: setrlimit RLIMIT_NOFILE: Operation not permitted" -- this
    # sandbox refuses setrlimit even to the current limits, so no OCI runtime can start
    echo "podman cannot run containers here ($why); the root file system runs under unshare + chroot instead"
fi
# in_image MOUNTS... -- CMD...: MOUNTS are HOST:CONTAINER[:ro]
in_image() {
    local mounts=() m h c ro
    while [ "$1" != "--" ]; do mounts+=("$1"); shift; done
    shift
    if [ "$RUNNER" = podman ]; then
        local v=()
        for m in "${mounts[@]}"; do v+=(-v "$m"); done
        podman run --rm --network none --read-only --tmpfs /tmp "${v[@]}" "$IMAGE" "$@"
    else
        local script="set -e; mount -t tmpfs tmpfs $TV_TMP/rootfs/tmp"
        for m in "${mounts[@]}"; do
            IFS=: read -r h c ro <<<"$m"
            mkdir -p "$TV_TMP/rootfs$c"
            script+="; mount --bind $h $TV_TMP/rootfs$c${ro:+; mount -o remount,bind,ro $TV_TMP/rootfs$c}"
        done
        unshare --mount --pid --fork bash -c "$script; exec chroot $TV_TMP/rootfs \"\$@\"" -- "$@"
    fi
}

note "the programs start"
in_image -- tapvault --version | grep -qx "tapvault $VERSION" || fail "tapvault --version in the image"
in_image -- tapvault-agent --help >/dev/null || fail "tapvault-agent --help in the image"
in_image -- tapvault-uploader --help >/dev/null || fail "tapvault-uploader --help in the image"

note "the chart's containers, as rendered, with the ConfigMap where the chart mounts it"
"$ROOT/.tools/bin/helm" template tv "$ROOT/charts/tapvault" -f "$ROOT/tests/chart/values/ebpf.yaml" >chart.yaml ||
    fail "helm template"
$PY3 - <<'PY' || fail "reading the chart"
import json, yaml
docs = [d for d in yaml.safe_load_all(open("chart.yaml")) if d]
ds = [d for d in docs if d["kind"] == "DaemonSet"][0]["spec"]["template"]["spec"]
cm = [d for d in docs if d["kind"] == "ConfigMap"][0]
import os
os.makedirs("etc-tapvault", exist_ok=True)
open("etc-tapvault/tapvault.yaml", "w").write(cm["data"]["tapvault.yaml"])
json.dump({c["name"]: c["command"] + c["args"] for c in ds["containers"]}, open("argv.json", "w"))
PY
for c in agent uploader; do
    mapfile -t argv < <($PY3 -c "import json,sys; print('\n'.join(json.load(open('argv.json'))[sys.argv[1]]))" "$c")
    in_image "$TV_TMP/etc-tapvault:/etc/tapvault:ro" -- "${argv[@]}" --print-config >"$c.cfg" 2>"$c.err" ||
        fail "the $c container's command is refused by the image's binary: $(cat "$c.err")"
    echo "$c: ${argv[*]} --print-config: $(wc -l <"$c.cfg") lines"
done
grep -q "hostProcRoot: \"/host/proc\"" agent.cfg || fail "the agent did not read the ConfigMap"

note "the Indexed Job's shards, in the image"
python3 "$HERE/../lib/udp_pcap.py" cap.pcap 30 --dns
"$TV" import --store "file://$TV_TMP/store" --node n1 -q cap.pcap || fail "import"
mkdir -p out && chmod 777 out store
"$TV" dissect --job --shards 3 --image "$IMAGE" --store file:///data/store --from 1789999999 --to 1790000100 \
    --out-store file:///data/out --name image-test >job.yaml || fail "--job"
$PY3 -c "
import json, yaml
c = yaml.safe_load(open('job.yaml'))['spec']['template']['spec']['containers'][0]
json.dump(c['command'] + c['args'], open('job-argv.json', 'w'))"
for i in 0 1 2; do
    mapfile -t argv < <($PY3 -c "import json,sys; print('\n'.join(x.replace('\$(JOB_COMPLETION_INDEX)', sys.argv[1]) for x in json.load(open('job-argv.json'))))" "$i")
    in_image "$TV_TMP/store:/data/store:ro" "$TV_TMP/out:/data/out" -- "${argv[@]}" 2>"job-$i.err" ||
        fail "shard $i of the Job in the image: $(cat "job-$i.err")"
done
"$TV" dissect --merge image-test --out-store "file://$TV_TMP/out" -o merged.jsonl || fail "merge of the image's parts"
"$TV" dissect --store "file://$TV_TMP/store" --from 1789999999 --to 1790000100 -o whole.jsonl
[ "$(wc -l <merged.jsonl)" = 30 ] && [ "$(sort merged.jsonl | md5sum)" = "$(sort whole.jsonl | md5sum)" ] ||
    fail "the image's shards did not give the entries of one run"
echo PASS
