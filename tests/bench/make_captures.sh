#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Records the four traffic types the capture benchmark replays, with tcpdump
# on a veth between two network namespaces (root):
#   http.pcap   curl <-> nginx: JSON API answers and HTML pages, uncompressed
#   mixed.pcap  what the dissection tests make: HTTP/1 (gzip JSON, 2.5 MB
#               random downloads), HTTP/2 (nghttp), Redis, DNS over UDP
#   tls.pcap    400 MiB of random payloads over 8 TCP connections, as TLS records look to a compressor
#   small.pcap  64-byte UDP datagrams from 16 sockets (DNS/metrics-like packet rates)
#   tests/bench/make_captures.sh OUTDIR [SECONDS_EACH]   (default 4 s each)
# Existing files in OUTDIR are kept (delete them to record again).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/lib/common.sh"
need_root
need_cmd tcpdump nginx curl redis-server redis-cli dnsmasq dig nghttpd nghttp python3
OUT=$(realpath -m "${1:?usage: $0 OUTDIR [SECONDS]}")
SECS=${2:-4}
mkdir -p "$OUT"
tv_tmpdir
cd "$TV_TMP"
C=tvmc$$ S=tvms$$
netns_pair "$C" "$S" 10.217.0.1 10.217.0.2
mkdir -p www
python3 -c "import json; print(json.dumps([{'id': i, 'user': 'user%d' % (i % 977), 'ok': i % 3 == 0, 'score': i * 7 % 1000} for i in range(40000)]))" > www/api.json
python3 -c "print('<html><body>' + ''.join('<div class=\"row\"><a href=\"/item/%d\">item %d</a></div>' % (i, i) for i in range(8000)) + '</body></html>')" > www/page.html
python3 -c "import json; print(json.dumps([{'id': i, 'name': 'item %d' % i} for i in range(3000)]))" > www/items.json
head -c 2500000 /dev/urandom > www/blob.bin
start_nginx "$S" "$TV_TMP" 10.217.0.2 80
bg ip netns exec "$S" nghttpd --no-tls -a 10.217.0.2 -d "$TV_TMP/www" 8080 >nghttpd.log 2>&1
bg ip netns exec "$S" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=10.217.0.2 --bind-interfaces \
    --address=/svc.test/10.9.8.7 --pid-file="$TV_TMP/dnsmasq.pid" -q 2>dnsmasq.log
bg ip netns exec "$S" redis-server --bind 10.217.0.2 --port 6379 --save "" --appendonly no --dir "$TV_TMP" \
    --protected-mode no >redis.log 2>&1
wait_for 10 ip netns exec "$C" redis-cli -h 10.217.0.2 ping || fail "redis-server did not start"
wait_for 10 ip netns exec "$C" bash -c "exec 3<>/dev/tcp/10.217.0.2/8080" || fail "nghttpd did not start"

# A sink for the random-payload and small-datagram traffic.
cat > sink.py <<'PY'
import socket, sys, threading
def tcp():
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.217.0.2", 9000)); s.listen(8)
    while True:
        c, _ = s.accept()
        threading.Thread(target=lambda c=c: [None for _ in iter(lambda: c.recv(1 << 20), b"")], daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("10.217.0.2", 9001))
while True:
    u.recv(2048)
PY
bg ip netns exec "$S" python3 sink.py
wait_for 10 ip netns exec "$C" bash -c "exec 3<>/dev/tcp/10.217.0.2/9000" || fail "sink did not start"

record() { # NAME CMD...: runs CMD in the client namespace for SECS while tcpdump records
    local name=$1; shift
    [ -s "$OUT/$name.pcap" ] && { note "$name.pcap exists"; return; }
    start_tcpdump "$S" veth-b "$TV_TMP/$name.pcap"
    ip netns exec "$C" timeout "$SECS" bash -c "$*" >/dev/null 2>&1
    sleep 0.3; stop_pid "$TCPDUMP_PID"
    mv "$TV_TMP/$name.pcap" "$OUT/$name.pcap"
    note "$name.pcap: $(stat -c %s "$OUT/$name.pcap") bytes, $(capinfos -Mc "$OUT/$name.pcap" | awk -F': *' '/packets/ {print $2}') packets"
}

# three clients at once: one curl process per loop spends most of its time starting
http_loop='while :; do curl -s -o /dev/null -o /dev/null http://10.217.0.2/api.json http://10.217.0.2/page.html; done'
record http "($http_loop) & ($http_loop) & ($http_loop) & wait"
mixed_loop='while :; do
    curl -s --compressed -o /dev/null -o /dev/null -o /dev/null http://10.217.0.2/api.json http://10.217.0.2/items.json http://10.217.0.2/blob.bin
    nghttp -n http://10.217.0.2:8080/items.json http://10.217.0.2:8080/page.html
    redis-cli -h 10.217.0.2 -r 200 set key:$RANDOM "value $RANDOM" >/dev/null
    printf "GET key:1\r\nINCR n\r\nLPUSH l a b c\r\n" | redis-cli -h 10.217.0.2 --pipe >/dev/null
    for i in 1 2 3 4 5; do dig +short +tries=1 +time=1 @10.217.0.2 a$i.svc.test; done
done'
record mixed "($mixed_loop) & ($mixed_loop) & ($mixed_loop) & wait"
# eight connections at once, as many TLS sessions are (one flow cannot be
# split between the agent's streams: each flow stays whole in one)
record tls 'python3 -c "
import os, socket, threading
def send():
    s = socket.create_connection((\"10.217.0.2\", 9000))
    for _ in range(50):
        s.sendall(os.urandom(1 << 20))
ts = [threading.Thread(target=send) for _ in range(8)]
[t.start() for t in ts]
[t.join() for t in ts]
"'
record small 'python3 -c "
import socket
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(16)]
msgs = [bytes([i % 251]) * 22 for i in range(64)]
while True:
    for u in socks:
        for m in msgs[:8]:
            u.sendto(m, (\"10.217.0.2\", 9001))
"'
ls -l "$OUT"
