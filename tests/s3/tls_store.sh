#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# TLS to the store, for real: Debian's nghttpx terminates TLS in front of
# the test's RGW with a certificate from a CA this test makes (SAN
# localhost only). Verified by default: without the CA the store is refused
# with a clear error; --ca-bundle makes it work (reads and writes); a bundle of another CA is refused; a name the
# certificate does not hold (127.0.0.1) is refused; --insecure is the only
# way past, and only when asked.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
[ -n "${AWS_ENDPOINT_URL_S3:-}" ] || skip "no RGW (run under tests/s3/with_rgw.sh)"
need_cmd nghttpx openssl python3
tv_tmpdir
cd "$TV_TMP"

make_ca() { # NAME
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$1.key" -out "$1.pem" -days 2 -subj "/CN=$1" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null ||
        fail "CA $1"
}
make_ca tapvault-test-ca
make_ca other-ca
openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in server.csr -CA tapvault-test-ca.pem -CAkey tapvault-test-ca.key -CAcreateserial \
    -out server.pem -days 2 -extfile ext.cnf 2>/dev/null || fail "server certificate"

RGW_HOSTPORT=${AWS_ENDPOINT_URL_S3#http://}
PORT=$(free_port)
: >nghttpx.conf
bg nghttpx --frontend="127.0.0.1,$PORT" --backend="${RGW_HOSTPORT%:*},${RGW_HOSTPORT#*:}" --single-process \
    --conf="$TV_TMP/nghttpx.conf" --errorlog-file="$TV_TMP/nghttpx.log" --no-ocsp server.key server.pem
wait_for 10 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" || fail "nghttpx did not start: $(cat nghttpx.log)"
TLS=https://localhost:$PORT
STORE=s3://tapvault/tls-$$
python3 "$HERE/../lib/udp_pcap.py" cap.pcap 20
# the system's CAs only (none of ours), whatever the environment says
unset AWS_CA_BUNDLE CURL_CA_BUNDLE SSL_CERT_FILE

note "verified by default: our CA is unknown, refused"
"$TV" --endpoint "$TLS" ls --store "$STORE" >/dev/null 2>noca.log && fail "an unknown CA was trusted"
cat noca.log
grep -q "TLS certificate is not trusted: give its CA with --ca-bundle" noca.log || fail "the refusal does not say what to do"

note "--ca-bundle: works, reads and writes"
"$TV" --endpoint "$TLS" --ca-bundle tapvault-test-ca.pem import --store "$STORE" --node tls -q cap.pcap ||
    fail "import over TLS with --ca-bundle"
"$TV" --endpoint "$TLS" --ca-bundle tapvault-test-ca.pem ls --store "$STORE" | grep -q "^tls" || fail "ls over TLS"
"$TV" --endpoint "$TLS" --ca-bundle tapvault-test-ca.pem pcap --store "$STORE" --from 1789999999 --to 1790000100 \
    -o out.pcapng || fail "pcap over TLS"
[ "$(tshark -r out.pcapng 2>/dev/null | wc -l)" = 20 ] || fail "not the 20 packets back"

note "another CA: refused"
"$TV" --endpoint "$TLS" --ca-bundle other-ca.pem ls --store "$STORE" >/dev/null 2>other.log && fail "the wrong CA was accepted"
cat other.log
grep -qiE "certificate|TLS|SSL" other.log || fail "$(cat other.log)"

note "a name the certificate does not hold: refused"
"$TV" --endpoint "https://127.0.0.1:$PORT" --ca-bundle tapvault-test-ca.pem ls --store "$STORE" >/dev/null 2>name.log &&
    fail "a certificate for localhost was accepted for 127.0.0.1"
cat name.log
grep -qiE "certificate|name|SSL|TLS" name.log || fail "$(cat name.log)"

note "--insecure only when asked"
"$TV" --endpoint "$TLS" --insecure ls --store "$STORE" | grep -q "^tls" || fail "--insecure"
echo PASS
