#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The credentials clusters hand out, against RGW:
#   - web identity (IRSA's AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE): a
#     real STS AssumeRoleWithWebIdentity on an RGW with STS that this test
#     starts (scripts/rgw.sh, RGW_WITH_STS=1), which checks the token's
#     RS256 signature against an OIDC provider this test serves over HTTPS
#     (tests/lib/oidc_provider.py), then the temporary keys it grants used
#     for S3; tokens RGW refuses give a clear error;
#   - container credentials (EKS Pod Identity) and IMDSv2 (the node's
#     role): no Debian package serves them, so tests/lib/cred_endpoint.py
#     speaks their HTTP and hands out the RGW user's real keys;
#   - renewal before expiry (each request batch renews keys that expire
#     within the margin), the token file re-read (rotated between fetches),
#     a refused token named, the SDKs' precedence (static keys win);
#   - no secret or token in anything printed.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
[ -n "${AWS_ENDPOINT_URL_S3:-}" ] || skip "no RGW (run under tests/s3/with_rgw.sh)"
need_cmd python3
tv_tmpdir
cd "$TV_TMP"
AK=$AWS_ACCESS_KEY_ID SK=$AWS_SECRET_ACCESS_KEY
STORE=s3://tapvault/creds-$$
python3 "$HERE/../lib/udp_pcap.py" cap.pcap 40
# no static keys from here on, and no instance role unless asked
nokeys() { env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN AWS_EC2_METADATA_DISABLED=true \
    AWS_SHARED_CREDENTIALS_FILE=/nonexistent "$@"; }
fetches() { grep -c "^$1$" fetch.log 2>/dev/null || true; }

start_endpoint() { # EXPIRES_IN_S
    [ -n "${EP_PID:-}" ] && { kill "$EP_PID"; wait "$EP_PID" 2>/dev/null; } # SIGINT is ignored in background jobs
    EP_PORT=$(free_port)
    bg env CRED_ACCESS_KEY="$AK" CRED_SECRET_KEY="$SK" python3 "$HERE/../lib/cred_endpoint.py" "$EP_PORT" \
        "$TV_TMP/fetch.log" "$TV_TMP/pod-token" "$1"
    EP_PID=$BG_PID
    wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$EP_PORT" || fail "credential endpoint did not start"
}
echo "eyJ-pod-identity-token-1" >pod-token
POD=(AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:PORT/pod-identity/credentials
     AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=$TV_TMP/pod-token)
pod_env() { local a=() x; for x in "${POD[@]}"; do a+=("${x/PORT/$EP_PORT}"); done; echo "${a[@]}"; }

note "container credentials (Pod Identity), valid for an hour: fetched once"
start_endpoint 3600
# shellcheck disable=SC2046
nokeys env $(pod_env) "$TV" import --store "$STORE" --node pod --seal-interval 5s -q cap.pcap 2>>out.log ||
    fail "import with container credentials: $(cat out.log)"
[ "$(fetches container)" = 1 ] || fail "fetched $(fetches container) times, not once"
# shellcheck disable=SC2046
nokeys env $(pod_env) "$TV" ls --store "$STORE" >ls.txt 2>>out.log || fail "ls with container credentials"
grep -q "^pod" ls.txt || fail "the segments written with them are not listed: $(cat ls.txt)"

note "about to expire: renewed before each request batch; the rotated token file is read again"
start_endpoint 60 # inside the 5-minute margin: stale as soon as fetched
: >fetch.log
echo "eyJ-pod-identity-token-2" >pod-token # rotated, as the kubelet does
# shellcheck disable=SC2046
nokeys env $(pod_env) "$TV" import --store "$STORE" --node pod2 --seal-interval 5s -q cap.pcap 2>>out.log ||
    fail "import with renewing credentials: $(cat out.log)"
n=$(fetches container)
[ "$n" -ge 4 ] || fail "keys that expire within the margin were renewed only $n times"
echo "renewed $n times over one import"

note "a refused token is named, and nothing is written"
echo "wrong" >pod-token.bad
# shellcheck disable=SC2046
nokeys env $(pod_env | sed "s|pod-token|pod-token.bad|") "$TV" ls --store "$STORE" >/dev/null 2>bad.log &&
    fail "a refused pod token worked"
grep -q "container credentials: http://127.0.0.1:$EP_PORT/pod-identity/credentials answered HTTP 401" bad.log ||
    fail "the refusal is not clear: $(cat bad.log)"
cat bad.log >>out.log

note "IMDSv2 (instance role): session token first, then the role's keys"
: >fetch.log
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_SHARED_CREDENTIALS_FILE=/nonexistent \
    AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$EP_PORT" "$TV" ls --store "$STORE" >ls2.txt 2>>out.log ||
    fail "ls with the instance role: $(cat out.log)"
[ "$(fetches imds)" -ge 1 ] && grep -q "^pod" ls2.txt || fail "IMDSv2 keys not used"
nokeys "$TV" ls --store "$STORE" >/dev/null 2>none.log && fail "no credentials at all worked"
grep -q "no S3 credentials" none.log || fail "$(cat none.log)"

note "precedence: static keys win over every endpoint"
: >fetch.log
# shellcheck disable=SC2046
env $(pod_env) AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$EP_PORT" "$TV" ls --store "$STORE" >/dev/null ||
    fail "static keys"
[ "$(fetches container)$(fetches imds)" = 00 ] || fail "an endpoint was asked although static keys were set"

note "web identity: STS AssumeRoleWithWebIdentity on an RGW with STS"
# the shared RGW runs without STS (it changes some of RGW's error answers):
# this part starts its own, stopped when the test ends
STS_DIR=$TV_TMP/rgw-sts
trap '"$HERE/../../scripts/rgw.sh" stop "$STS_DIR" >/dev/null 2>&1; tv_cleanup' EXIT
RGW_WITH_STS=1 "$HERE/../../scripts/rgw.sh" start "$STS_DIR" >sts-rgw.log 2>&1 ||
    fail "an RGW with STS did not start: $(tail -3 sts-rgw.log)"
eval "$("$HERE/../../scripts/rgw.sh" env "$STS_DIR")"
[ -n "${RGW_STS:-}" ] || fail "the RGW started for STS has none"
"$TV" import --store "$STORE" --node pod -q cap.pcap || fail "seeding the STS RGW (with its static keys)"
"$HERE/../lib/oidc_provider.py" setup "$TV_TMP/oidc" >oidc.env || fail "OIDC provider setup"
. ./oidc.env # OIDC_PORT OIDC_ISSUER, the JWKS and key under oidc/
bg "$HERE/../lib/oidc_provider.py" serve "$TV_TMP/oidc"
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$OIDC_PORT" || fail "OIDC provider did not start"
ROLE_ARN=$("$HERE/../lib/oidc_provider.py" register "$TV_TMP/oidc" "$STORE") || fail "role registration"
"$HERE/../lib/oidc_provider.py" token "$TV_TMP/oidc" system:serviceaccount:tapvault:tapvault >sa-token || fail "token"
WI=(AWS_ROLE_ARN=$ROLE_ARN AWS_WEB_IDENTITY_TOKEN_FILE=$TV_TMP/sa-token AWS_ENDPOINT_URL_STS=$AWS_ENDPOINT_URL_S3)
nokeys env "${WI[@]}" "$TV" ls --store "$STORE" >ls3.txt 2>>out.log || fail "ls with web identity: $(tail -3 out.log)"
grep -q "^pod" ls3.txt || fail "web identity keys listed nothing"
nokeys env "${WI[@]}" "$TV" import --store "$STORE" --node irsa -q cap.pcap 2>>out.log || fail "import with web identity"
"$HERE/../lib/oidc_provider.py" token "$TV_TMP/oidc" system:serviceaccount:other:intruder >bad-token
nokeys env "${WI[@]/sa-token/bad-token}" "$TV" ls --store "$STORE" >/dev/null 2>wi-bad.log &&
    fail "a token for another service account assumed the role"
grep -q "web identity: STS .* refused AssumeRoleWithWebIdentity" wi-bad.log || fail "$(cat wi-bad.log)"
cat wi-bad.log >>out.log
# the right subject, signed by a key that is not the issuer's: refused
"$HERE/../lib/oidc_provider.py" setup "$TV_TMP/forged" >/dev/null
cp "$TV_TMP/oidc/provider.json" "$TV_TMP/forged/provider.json"
"$HERE/../lib/oidc_provider.py" token "$TV_TMP/forged" system:serviceaccount:tapvault:tapvault >forged-token
nokeys env "${WI[@]/sa-token/forged-token}" "$TV" ls --store "$STORE" >/dev/null 2>wi-forged.log &&
    fail "a token with a forged signature assumed the role"
grep -q "refused AssumeRoleWithWebIdentity" wi-forged.log || fail "$(cat wi-forged.log)"

note "nothing printed holds a secret or a token"
for secret in "$SK" eyJ-pod-identity-token-1 eyJ-pod-identity-token-2 $(cat sa-token 2>/dev/null); do
    grep -qF -- "$secret" out.log && fail "a secret was printed"
done
echo PASS
