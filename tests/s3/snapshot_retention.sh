#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Snapshots under S3 Object Lock, against Ceph RGW's bucket created with it
# (scripts/rgw.sh: tapvault-locked): `snapshot create --retain` in
# governance and compliance mode and with a legal hold, defaults from the
# chart's config file; `snapshot ls` (text and --json) shows each one's
# retention, checked against the server's own answer (aws s3api
# get-object-retention / get-object-legal-hold); `snapshot rm` refuses and
# says why, and the object is still there (every version); a snapshot
# without retention is removed; asking for retention on a bucket without
# Object Lock is refused before anything is written.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
[ -n "${AWS_ENDPOINT_URL_S3:-}" ] || skip "no RGW (run under tests/s3/with_rgw.sh)"
need_cmd aws python3
tv_tmpdir
cd "$TV_TMP"
LOCKED=s3://tapvault-locked/retention-$$ PLAIN=s3://tapvault/retention-$$

python3 "$HERE/../lib/udp_pcap.py" cap.pcap 50
for st in "$LOCKED" "$PLAIN"; do
    "$TV" import --store "$st" --node n1 -q cap.pcap || fail "import into $st"
done
W=(--from 1789999999 --to 1790000100)

note "create under retention"
"$TV" snapshot create gov --store "$LOCKED" "${W[@]}" --retain 2d 2>gov.log || fail "create gov: $(cat gov.log)"
grep -q "retained until" gov.log || fail "create did not say it retained: $(cat gov.log)"
"$TV" snapshot create comp --store "$LOCKED" "${W[@]}" --retain 1d --mode compliance --legal-hold 2>/dev/null ||
    fail "create comp"
printf 'tap:\n  snapshots:\n    retain: 3d\n    mode: governance\n    legalHold: true\nagent:\n  osEvents: "off"\n' >tv.yaml
"$TV" snapshot create cfg --store "$LOCKED" "${W[@]}" --config tv.yaml 2>/dev/null || fail "create from --config"
"$TV" snapshot create hold --store "$LOCKED" "${W[@]}" --legal-hold 2>/dev/null || fail "create hold"
"$TV" snapshot create free --store "$LOCKED" "${W[@]}" 2>/dev/null || fail "create without retention"
"$TV" snapshot create cfg2 --config tv.yaml --print-config --store "$LOCKED" | grep -q "retain: 259200.000s" ||
    fail "--print-config does not show the file's retain"

note "ls shows what the server says"
"$TV" snapshot ls --store "$LOCKED" >ls.txt || fail ls
"$TV" snapshot ls --store "$LOCKED" --json >ls.json || fail "ls --json"
cat ls.txt
python3 - "$LOCKED" <<'PY' || fail "ls disagrees with the server"
import json, subprocess, sys, datetime
url = sys.argv[1]
bucket, prefix = url[5:].split("/", 1)
L = {s["name"]: s for s in json.load(open("ls.json"))}
assert set(L) == {"gov", "comp", "cfg", "hold", "free"}, L.keys()
def s3api(op, name):
    r = subprocess.run(["aws", "s3api", op, "--bucket", bucket, "--key", f"{prefix}/v1/snapshots/{name}.tar"],
                       capture_output=True, text=True)
    return json.loads(r.stdout) if r.returncode == 0 else None
now = datetime.datetime.now(datetime.timezone.utc)
want = {"gov": ("governance", 2, False), "comp": ("compliance", 1, True), "cfg": ("governance", 3, True),
        "hold": (None, 0, True), "free": (None, 0, False)}
for name, (mode, days, hold) in want.items():
    s, ret, lh = L[name], s3api("get-object-retention", name), s3api("get-object-legal-hold", name)
    if mode is None:
        assert s["retention"] is None and ret is None, (name, s, ret)
    else:
        assert s["retention"]["mode"] == mode and ret["Retention"]["Mode"] == mode.upper(), (name, s, ret)
        until = datetime.datetime.fromisoformat(s["retention"]["until"].replace("Z", "+00:00"))
        server = datetime.datetime.fromisoformat(ret["Retention"]["RetainUntilDate"].replace("Z", "+00:00"))
        assert abs((until - server).total_seconds()) < 1.5, (until, server)
        assert abs((until - now).total_seconds() - days * 86400) < 120, (name, until)
    assert s["legal_hold"] == hold and bool(lh and lh["LegalHold"]["Status"] == "ON") == hold, (name, s, lh)
# columns: name, bytes, from, to, status, created, nodes, retention (docs/CLI.md)
text = {l.split("\t")[0]: l.rstrip("\n").split("\t")[7] for l in open("ls.txt")}
assert text["gov"].startswith("governance until ") and text["comp"].endswith(", legal hold"), text
assert text["hold"] == "legal hold" and text["free"] == "-", text
PY

note "rm refuses under retention and says why"
for n in gov comp cfg hold; do
    "$TV" snapshot rm "$n" --store "$LOCKED" 2>rm.log && fail "rm $n went through"
    cat rm.log
    grep -q "cannot be removed" rm.log || fail "rm $n gave no reason"
done
grep -q "legal hold" rm.log || fail "the hold is not named"
"$TV" snapshot rm comp --store "$LOCKED" 2>&1 | grep -q "COMPLIANCE retention until" || fail "compliance not named"
"$TV" snapshot rm gov --store "$LOCKED" 2>&1 | grep -q "BypassGovernanceRetention" || fail "governance not explained"
"$TV" snapshot ls --store "$LOCKED" | cut -f1 | sort | tr '\n' ' ' | grep -q "cfg comp free gov hold" ||
    fail "a protected snapshot disappeared"
"$TV" snapshot rm free --store "$LOCKED" || fail "rm of an unprotected snapshot"
"$TV" snapshot ls --store "$LOCKED" | grep -q "^free" && fail "free still listed"
# the server itself refuses a version delete under compliance (tapvault is not the only guard)
bucket=${LOCKED#s3://}; bucket=${bucket%%/*}; prefix=${LOCKED#s3://$bucket/}
vid=$(aws s3api list-object-versions --bucket "$bucket" --prefix "$prefix/v1/snapshots/comp.tar" \
    --query 'Versions[0].VersionId' --output text)
aws s3api delete-object --bucket "$bucket" --key "$prefix/v1/snapshots/comp.tar" --version-id "$vid" >/dev/null 2>&1 &&
    fail "RGW deleted a version under compliance retention"

note "no Object Lock: refused before writing"
"$TV" snapshot create nolock --store "$PLAIN" "${W[@]}" --retain 1d 2>nolock.log && fail "retention on a plain bucket"
grep -q "has no S3 Object Lock" nolock.log || fail "$(cat nolock.log)"
"$TV" snapshot ls --store "$PLAIN" | grep -q nolock && fail "a refused snapshot was written"
"$TV" snapshot create x --store "$LOCKED" "${W[@]}" --retain soon 2>/dev/null; [ $? = 2 ] || fail "bad --retain accepted"
"$TV" snapshot create x --store "$LOCKED" "${W[@]}" --retain 1d --mode forever 2>/dev/null; [ $? = 2 ] || fail "bad --mode accepted"
"$TV" snapshot ls --store "$LOCKED" --retain 1d 2>/dev/null; [ $? = 2 ] || fail "--retain accepted by ls"
echo PASS
