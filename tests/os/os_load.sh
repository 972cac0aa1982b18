#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The OS layer's programs under load: 1,000 new TCP connections a second for
# 30 s (30,000) from one namespace to a listener in another. Every
# connection gets its connect and accept record, named by its process, or
# the records lost are counted (never a wrong name): here the ring must lose
# none.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
WATCH=$(realpath "${1:?usage: $0 path/to/os_watch}")
need_root
need_cmd ip python3
tv_tmpdir
cd "$TV_TMP"
C=tvlc$$ S=tvls$$
netns_pair "$C" "$S" 10.219.0.1 10.219.0.2
RATE=${RATE:-1000} SECS=${SECS:-30}
bg "$WATCH" $((SECS + 30)) >records.txt 2>watch.log
WPID=$BG_PID
if ! wait_for 10 grep -q attached watch.log; then
    wait "$WPID"; rc=$?
    [ "$rc" = 77 ] && skip "the kernel or the privileges allow no BPF here: $(cat watch.log)"
    fail "os_watch: $(cat watch.log)"
fi
cat > server.py <<'PY'
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.219.0.2", 7000)); s.listen(1024)
while True:
    c, _ = s.accept(); c.close()
PY
cat > client.py <<'PY'
import socket, struct, sys, time
rate, secs = int(sys.argv[1]), float(sys.argv[2])
t0 = time.monotonic(); n = 0
while time.monotonic() - t0 < secs:
    s = socket.create_connection(("10.219.0.2", 7000))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # no TIME_WAIT: ports last
    s.close(); n += 1
    ahead = n / rate - (time.monotonic() - t0)
    if ahead > 0:
        time.sleep(ahead)
print(n)
PY
bg ip netns exec "$S" python3 server.py
wait_for 10 ip netns exec "$C" python3 -c 'import socket; socket.create_connection(("10.219.0.2", 7000)).close()' ||
    fail "server"
note "$RATE connections a second for $SECS s"
n=$(ip netns exec "$C" python3 client.py "$RATE" "$SECS") || fail client
sleep 1
kill -TERM "$WPID"; wait "$WPID"
read -r events drops noowner < <(grep ^stats records.txt | sed -E 's/.*events=([0-9]+) drops=([0-9]+) noowner=([0-9]+).*/\1 \2 \3/')
connects=$(grep -cE "^connect .* comm=python3 .*10\.219\.0\.1:[0-9]+ > 10\.219\.0\.2:7000$" records.txt)
accepts=$(grep -cE "^accept .* comm=python3 .*10\.219\.0\.2:7000 > 10\.219\.0\.1:[0-9]+$" records.txt)
wrong=$(grep -E "^(connect|accept) .*:7000" records.txt | grep -vc "comm=python3")
note "$n connections: $connects connects, $accepts accepts named; $events records, $drops dropped, $noowner unattributed"
[ "$wrong" = 0 ] || fail "$wrong records name another process"
[ "$drops" = 0 ] || fail "$drops records dropped by the ring"
# the readiness probe above made one connection more
[ "$connects" -ge "$n" ] && [ "$accepts" -ge "$n" ] || fail "$n connections, $connects connects and $accepts accepts recorded"
[ "$n" -ge $((RATE * SECS * 9 / 10)) ] || fail "the client made only $n connections"
echo "PASS: $n connections at $RATE/s, each end named, 0 records lost"
