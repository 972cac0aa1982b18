#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The OS layer's BPF programs on real processes: nginx in one namespace,
# curl and a short-lived Python client in another. Every TCP connection is
# named by the process on each end: connect by the client (curl, python3),
# accept by the listener (nginx, never whatever the softirq interrupted),
# close by both, with the right addresses, ports and network namespace; exec
# records for the clients; no record lost. A listener and a connection made
# before the programs were loaded are attributed too (the task_file
# iterator at start), and reported as existing. UDP: a server made before
# the programs and one made after, each answering a client: every UDP
# socket's record names its process (the cgroup hooks), and its close.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
WATCH=$(realpath "${1:?usage: $0 path/to/os_watch}")
need_root
need_cmd ip nginx curl python3
tv_tmpdir
cd "$TV_TMP"
C=tvoc$$ S=tvos$$
netns_pair "$C" "$S" 10.218.0.1 10.218.0.2
ns_ino() { ip netns exec "$1" stat -L -c %i /proc/self/ns/net; }
NC=$(ns_ino "$C") NS=$(ns_ino "$S")
mkdir -p www && echo hello > www/index.html

note "before the programs: a listener on :81 holding one connection open"
cat > early.py <<'PY'
import socket, sys, time
if sys.argv[1] == "server":
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("10.218.0.2", 81)); s.listen(16)
    conns = []
    while True:
        c, _ = s.accept(); conns.append(c)
        c.recv(1)  # the held connection closes when its client does
else:
    c = socket.create_connection(("10.218.0.2", 81))
    time.sleep(float(sys.argv[2]))
    c.close()
PY
bg ip netns exec "$S" python3 early.py server
wait_for 10 ip netns exec "$C" bash -c "exec 3<>/dev/tcp/10.218.0.2/81" || fail "early listener"
bg ip netns exec "$C" python3 early.py client 3
# the held connection must exist before the programs load (a slow python3
# start would otherwise connect after them, and it would not be "existing")
wait_for 10 bash -c "ip netns exec $C ss -Htnp state established '( dport = :81 )' | grep -q python3" ||
    fail "the early client did not connect"
cat > udp.py <<'PY'
import socket, sys
if sys.argv[1] == "server":  # answers every datagram
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[2])))
    while True:
        d, a = s.recvfrom(100); s.sendto(d, a)
else:  # one unconnected and one connected client
    for connect in (False, True):
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); c.settimeout(2)
        if connect:
            c.connect(("10.218.0.2", int(sys.argv[2]))); c.send(b"q")
        else:
            c.sendto(b"q", ("10.218.0.2", int(sys.argv[2])))
        c.recv(100); c.close()
PY
bg ip netns exec "$S" python3 udp.py server 5301
sleep 0.3

note "BPF programs loaded from the root namespace"
CGROOT=$(findmnt -t cgroup2 -n -o TARGET | head -1)
bg "$WATCH" 20 "$CGROOT" >records.txt 2>watch.log
WPID=$BG_PID
if ! wait_for 10 grep -q attached watch.log; then
    wait "$WPID"; rc=$?
    [ "$rc" = 77 ] && skip "the kernel or the privileges allow no BPF here: $(cat watch.log)"
    fail "os_watch: $(cat watch.log)"
fi

note "traffic: nginx (started after the programs) <- curl, and a client that exits at once"
start_nginx "$S" "$TV_TMP" 10.218.0.2 80
for i in 1 2 3; do ip netns exec "$C" curl -sf -o /dev/null http://10.218.0.2/index.html || fail curl; done
ip netns exec "$C" python3 -c 'import socket; socket.create_connection(("10.218.0.2", 80)).close()'
ip netns exec "$C" python3 -c 'import socket; socket.create_connection(("10.218.0.2", 81)).close()'
note "UDP: the early server on :5301, a later one on :5302, each asked by two clients"
bg ip netns exec "$S" python3 udp.py server 5302
sleep 0.3
ip netns exec "$C" python3 udp.py client 5301 || fail "udp client (early server)"
ip netns exec "$C" python3 udp.py client 5302 || fail "udp client"
sleep 3 # the early client closes its connection meanwhile
kill -TERM "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null
grep -c . records.txt >/dev/null || fail "no records"

have() { grep -E "$1" records.txt | grep -q . || fail "no record matching: $1 (records: $(grep -v 'exec\|exit' records.txt | head -20))"; }
count() { grep -cE "$1" records.txt; }
have "^listen .*comm=nginx .*netns=$NS 10\.218\.0\.2:80 "
[ "$(count "^connect .*comm=curl .*netns=$NC 10\.218\.0\.1:[0-9]+ > 10\.218\.0\.2:80$")" -ge 3 ] || fail "curl's 3 connects"
have "^connect .*comm=python3 .*netns=$NC 10\.218\.0\.1:[0-9]+ > 10\.218\.0\.2:80$"
[ "$(count "^accept .*comm=nginx .*netns=$NS 10\.218\.0\.2:80 > 10\.218\.0\.1:[0-9]+$")" -ge 4 ] || fail "nginx's 4 accepts"
! grep -E "^accept .*netns=$NS 10\.218\.0\.2:80 " records.txt | grep -qv "comm=nginx" || fail "an accept on :80 attributed to another process: $(grep -E "^accept .*netns=$NS 10\.218\.0\.2:80 " records.txt | grep -v comm=nginx | head -3)"
[ "$(count "^close .*comm=curl .*netns=$NC 10\.218\.0\.1:[1-9][0-9]* > 10\.218\.0\.2:80$")" -ge 3 ] || fail "curl's closes with their ports"
[ "$(count "^close .*comm=nginx .*netns=$NS 10\.218\.0\.2:80 > 10\.218\.0\.1:[0-9]+$")" -ge 4 ] || fail "nginx's closes"
have "^exec .*comm=curl "
# made before the programs: the listener's accept, and the held connection's close on both ends
have "^accept .*comm=python3 .*netns=$NS 10\.218\.0\.2:81 > 10\.218\.0\.1:[0-9]+$"
have "^close .*comm=python3 .*netns=$NC 10\.218\.0\.1:[1-9][0-9]* > 10\.218\.0\.2:81$"
have "^existing .*comm=python3 .*proto=6 .*netns=$NC 10\.218\.0\.1:[1-9][0-9]* > 10\.218\.0\.2:81$"
have "^existing .*comm=python3 .*proto=6 .*netns=$NS 10\.218\.0\.2:81 > 10\.218\.0\.1:[1-9][0-9]*$"
# UDP needs a cgroup2 mount to attach to: without one (a v1-only host) it is
# off and that is said; with one, off is a failure
if [ -z "$CGROOT" ]; then
    echo "UDP not checked: no cgroup2 mount on this host"
elif grep -q "UDP off" watch.log; then
    fail "UDP not followed: $(cat watch.log)"
else
    # servers: their local address as the packets carry it, no peer (not connected)
    have "^udp .*comm=python3 .*proto=17 .* 10\.218\.0\.2:5301 > 0\.0\.0\.0:0$"
    have "^udp .*comm=python3 .*proto=17 .* 10\.218\.0\.2:5302 > 0\.0\.0\.0:0$"
    # clients: the unconnected one without a peer, the connected one with it
    [ "$(count "^udp .*comm=python3 .*proto=17 .* 10\.218\.0\.1:[1-9][0-9]* > 0\.0\.0\.0:0$")" -ge 2 ] || fail "the unconnected UDP clients"
    [ "$(count "^udp .*comm=python3 .*proto=17 .* 10\.218\.0\.1:[1-9][0-9]* > 10\.218\.0\.2:530[12]$")" -ge 2 ] || fail "the connected UDP clients"
    [ "$(count "^close .*comm=python3 .*proto=17 ")" -ge 4 ] || fail "the UDP clients' closes"
    ! grep -E "^udp " records.txt | grep -q "pid=0 " || fail "a UDP socket without its process: $(grep -E '^udp .*pid=0 ' records.txt | head -3)"
fi
# every connect's local port appears in exactly one accept (the two ends of each connection)
for p in $(grep -E "^connect .*netns=$NC " records.txt | sed -E 's/.*10\.218\.0\.1:([0-9]+) >.*/\1/'); do
    [ "$(count "^accept .*> 10\.218\.0\.1:$p$")" = 1 ] || fail "port $p: not one accept"
done
read -r _ ev dr _ < <(grep ^stats records.txt | tr '=' ' ' | awk '{print $1, $3, $5, $7}')
[ "$dr" = 0 ] || fail "$dr records dropped"
echo "PASS: $(count '^(connect|accept|close)') socket records, every end named by its process, $ev events, 0 drops"
