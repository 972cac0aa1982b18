# SPDX-License-Identifier: Apache-2.0
# Helpers around the test Kubernetes API server (tests/lib/kubeapi.py), for
# tests that source common.sh first and run in $TV_TMP.

# kubeapi_certs: a CA and a server certificate for 127.0.0.1 (ca.crt, srv.*)
kubeapi_certs() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt -days 2 \
        -subj /CN=tapvault-test-ca 2>/dev/null || fail "openssl CA"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key -out srv.csr \
        -subj /CN=127.0.0.1 2>/dev/null || fail "openssl key"
    printf 'subjectAltName=IP:127.0.0.1\n' > srv.ext
    openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out srv.crt -days 2 -extfile srv.ext \
        2>/dev/null || fail "openssl sign"
}

# kubeapi_start FIXTURES [kubeapi.py flags]: the server in the background
# (KUBEAPI_PID), its ports (API, CTL), a token file and a kubeconfig using it.
# KUBEAPI_EXEC (e.g. "ip netns exec NS") runs it, and control(), elsewhere.
kubeapi_start() {
    local fixtures=$1; shift
    [ -f token ] || echo "token-one" > token
    [ -f ca.crt ] || kubeapi_certs
    rm -f ports.txt
    bg ${KUBEAPI_EXEC:-} python3 "$(dirname "${BASH_SOURCE[0]}")/kubeapi.py" --cert srv.crt --key srv.key --token-file token \
        --objects "$fixtures" "$@" > ports.txt 2>> kubeapi.err
    KUBEAPI_PID=$BG_PID
    wait_for 10 grep -q api= ports.txt || fail "test API server did not start: $(cat kubeapi.err)"
    API=$(sed 's/.*api=//' ports.txt); CTL=$(sed 's/control=\([0-9]*\).*/\1/' ports.txt)
    cat > kubeconfig <<KC
apiVersion: v1
kind: Config
clusters: [{name: t, cluster: {server: "https://127.0.0.1:$API", certificate-authority: $TV_TMP/ca.crt}}]
users: [{name: u, user: {tokenFile: $TV_TMP/token}}]
contexts: [{name: c, context: {cluster: t, user: u}}]
current-context: c
KC
}

# control METHOD PATH [BODY]: the server's control port
control() { ${KUBEAPI_EXEC:-} curl -sf -X "$1" ${3:+--data-binary "$3"} "http://127.0.0.1:$CTL$2"; }

# pod NAME NODE PHASE [ready]: a pod object in namespace shop
pod() {
    local cond=''
    [ -n "${4:-}" ] && cond=',"conditions":[{"type":"Ready","status":"True"}]'
    printf '{"kind":"Pod","metadata":{"name":"%s","namespace":"shop"},"spec":{"nodeName":"%s","containers":[{"name":"c","image":"x"}]},"status":{"phase":"%s"%s}}' \
        "$1" "$2" "$3" "$cond"
}
