#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `tapvault dissect` on captures built here, for cases real peers do not make
# on demand.
# Encoded HTTP/1 bodies (one keep-alive connection, real TCP segmentation):
# gzip decoded whole, deflate with and without its zlib header, a gzip bomb
# stopped at the body cap (truncated, not an error), a gzip whose trailer lies
# about its size, a damaged gzip (decodeError, what decoded is kept), a body
# over the cap before decoding.
# Ports reused: a second connection (new SYN, new sequence numbers) on the
# addresses and ports of one that never closed is a connection of its own.
# Kubernetes names: pods and services named from `kubectl -o json` objects,
# given to dissect directly or stored in the segments' events by import.
set -u
. "$(dirname "$0")/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
tv_tmpdir
cd "$TV_TMP"

python3 - <<'PY'
import gzip, json, random, struct, zlib

rng = random.Random(5)
text = json.dumps([{"id": i, "name": "item %d" % i} for i in range(3000)]).encode()
def deflate_raw(b):
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(b) + c.flush()
lying = bytearray(gzip.compress(text)); lying[-4:] = struct.pack("<I", 5)
damaged = bytearray(gzip.compress(text)); damaged[len(damaged) // 2] ^= 0xFF
cases = [  # (path, Content-Encoding, body as sent)
    ("/gzip", "gzip", gzip.compress(text)),
    ("/deflate", "deflate", zlib.compress(text)),
    ("/rawdeflate", "deflate", deflate_raw(text)),
    ("/bomb", "gzip", gzip.compress(b"\0" * (20 << 20))),
    ("/lying", "gzip", bytes(lying)),
    ("/damaged", "gzip", bytes(damaged)),
    ("/overcap", "gzip", gzip.compress(rng.randbytes(3 << 20), compresslevel=1)),
]
open("text.json", "wb").write(text)

pkts, ts = [], 1_700_000_000_000_000_000
seq = {0: 1000, 1: 500000}
def send(d, data):
    global ts
    src, dst, sp, dp = ((1, 2, 40000, 80) if d == 0 else (2, 1, 80, 40000))
    for off in range(0, max(len(data), 1), 1448):
        chunk = data[off:off + 1448]
        tcp = struct.pack(">HHIIBBHHH", sp, dp, seq[d] & 0xFFFFFFFF, seq[1 - d] & 0xFFFFFFFF,
                          5 << 4, 0x18, 65535, 0, 0) + chunk
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                         bytes([10, 0, 0, src]), bytes([10, 0, 0, dst])) + tcp
        pkts.append((ts, b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip))
        seq[d] += len(chunk)
        ts += 10_000
for path, enc, body in cases:
    send(0, b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path.encode())
    send(1, b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: %s\r\n"
            b"Content-Length: %d\r\n\r\n" % (enc.encode(), len(body)) + body)
with open("bodies.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
    for t, frame in pkts:
        f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(frame), len(frame)) + frame)
PY
[ -s bodies.pcap ] || fail "could not build the capture"

"$TV" dissect --pcap bodies.pcap --body-cap 1Mi -o out.jsonl 2>err.txt || fail "dissect: $(cat err.txt)"
python3 - <<'PY' || fail "bodies not decoded as expected"
import json, sys
text = open("text.json").read()
got = {e["request"]["path"]: e["response"]["content"] for e in map(json.loads, open("out.jsonl"))}
def check(path, cond, what):
    if not cond:
        print("FAIL %s: %s: %s" % (path, what, {k: v for k, v in got[path].items() if k != "text"}))
        sys.exit(1)
for path in ("/gzip", "/deflate", "/rawdeflate"):
    c = got[path]
    check(path, c.get("text") == text and c["size"] == len(text), "not the original text")
    check(path, "decodeError" not in c and "truncated" not in c, "flagged")
c = got["/bomb"]
check("/bomb", c.get("truncated") is True and c["size"] == 1 << 20, "not stopped at the cap")
check("/bomb", "decodeError" not in c, "a bomb is truncation, not damage")
c = got["/lying"]
check("/lying", c.get("decodeError") == "gzip", "a wrong length trailer passed")
check("/lying", c.get("text") == text, "what decoded was not kept")
c = got["/damaged"]
check("/damaged", c.get("decodeError") == "gzip", "damage not reported")
check("/damaged", c["size"] > 0 and c.get("text"), "what decoded was not kept")
c = got["/overcap"]
check("/overcap", c.get("truncated") is True, "over the cap but not truncated")
print("bodies: gzip, deflate, raw deflate decoded; bomb truncated at 1 MiB; lying trailer and damage reported")
PY

python3 - <<'PY'
import struct
pkts, ts = [], 1_700_000_100_000_000_000
def pkt(d, flags, seq, ack, data=b""):
    global ts
    src, dst, sp, dp = ((1, 2, 40000, 80) if d == 0 else (2, 1, 80, 40000))
    tcp = struct.pack(">HHIIBBHHH", sp, dp, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0) + data
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                     bytes([10, 0, 0, src]), bytes([10, 0, 0, dst])) + tcp
    pkts.append((ts, b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip))
    ts += 1_000_000
SYN, ACK, PSH = 0x02, 0x10, 0x08
for path, c, s in ((b"/first", 1000, 7000), (b"/second", 3_000_000_000, 90_000)):
    req = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % path
    resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    pkt(0, SYN, c, 0)
    pkt(1, SYN | ACK, s, c + 1)
    pkt(0, ACK | PSH, c + 1, s + 1, req)
    pkt(1, ACK | PSH, s + 1, c + 1 + len(req), resp)
    pkt(0, ACK, c + 1 + len(req), s + 1 + len(resp))  # no FIN: the first one never closes
with open("reuse.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
    for t, frame in pkts:
        f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(frame), len(frame)) + frame)
PY
"$TV" dissect --pcap reuse.pcap -o reuse.jsonl 2>err.txt || fail "dissect: $(cat err.txt)"
python3 - <<'PY' || fail "reused ports"
import json, sys
got = [(e["request"]["path"], e["response"] and e["response"]["status"], e["failed"]) for e in map(json.loads, open("reuse.jsonl"))]
if got != [("/first", 200, False), ("/second", 200, False)]:
    print("FAIL: reused ports gave", got)
    sys.exit(1)
print("ports reused: two connections, two complete entries")
PY

# HTTP/2, Redis, DNS: the server's response captured before the client's request
# (the two directions' segments are not ordered by TCP): still one exchange
python3 - <<'PY'
import struct
pkts, ts = [], 1_700_000_200_000_000_000
seq = {0: 5000, 1: 9000}
def pkt(d, data):
    global ts
    src, dst, sp, dp = ((1, 2, 40001, 8080) if d == 0 else (2, 1, 8080, 40001))
    tcp = struct.pack(">HHIIBBHHH", sp, dp, seq[d], seq[1 - d], 5 << 4, 0x18, 65535, 0, 0) + data
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                     bytes([10, 0, 0, src]), bytes([10, 0, 0, dst])) + tcp
    pkts.append((ts, b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip))
    seq[d] += len(data)
    ts += 1_000_000
def frame(t, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([t, flags]) + struct.pack(">I", stream) + payload
def literal(name, value):
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value
pkt(0, b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + frame(4, 0, 0, b""))
pkt(1, frame(4, 0, 0, b"") + frame(4, 1, 0, b""))
pkt(1, frame(1, 4, 1, b"\x88" + literal(b"content-type", b"text/plain")) + frame(0, 1, 1, b"pong"))  # first
pkt(0, frame(1, 4, 1, b"\x83\x86" + literal(b":path", b"/ping") + literal(b":authority", b"t")) + frame(0, 1, 1, b"ping"))
# Redis the same way: the reply to GET captured before the GET (port 6379)
def rpkt(d, data):
    global ts
    src, dst, sp, dp = ((1, 2, 40002, 6379) if d == 0 else (2, 1, 6379, 40002))
    tcp = struct.pack(">HHIIBBHHH", sp, dp, seq[d + 2], seq[3 - d], 5 << 4, 0x18, 65535, 0, 0) + data
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), 0, 0, 64, 6, 0,
                     bytes([10, 0, 0, src]), bytes([10, 0, 0, dst])) + tcp
    pkts.append((ts, b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip))
    seq[d + 2] += len(data)
    ts += 1_000_000
seq[2], seq[3] = 100, 200
rpkt(0, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
rpkt(1, b"+OK\r\n")
rpkt(1, b"$1\r\nv\r\n")  # first
rpkt(0, b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n")
# DNS over UDP the same way: the answer captured before the query
def udp(d, data):
    global ts
    src, dst, sp, dp = ((1, 2, 40003, 53) if d == 0 else (2, 1, 53, 40003))
    u = struct.pack(">HHHH", sp, dp, 8 + len(data), 0) + data
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(u), 0, 0, 64, 17, 0,
                     bytes([10, 0, 0, src]), bytes([10, 0, 0, dst])) + u
    pkts.append((ts, b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip))
    ts += 1_000_000
question = b"\x01a\x03svc\x04test\x00" + struct.pack(">HH", 1, 1)
answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 9, 8, 7])
udp(1, struct.pack(">HHHHHH", 0x4242, 0x8180, 1, 1, 0, 0) + question + answer)  # first
udp(0, struct.pack(">HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0) + question)
with open("h2-early.pcap", "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
    for t, fr in pkts:
        f.write(struct.pack("<IIII", t // 10**9, t % 10**9, len(fr), len(fr)) + fr)
PY
"$TV" dissect --pcap h2-early.pcap -o h2-early.jsonl 2>err.txt || fail "dissect h2-early: $(cat err.txt)"
python3 - <<'PY' || fail "a response captured before its request (HTTP/2, Redis, DNS)"
import json, sys
E = [json.loads(l) for l in open("h2-early.jsonl")]
got = [(e["request"]["method"], e["request"]["path"], e["request"]["postData"]["text"], e["response"]["status"],
        e["response"]["content"]["text"], e["failed"]) for e in E if e["protocol"]["name"] == "http"]
if got != [("POST", "/ping", "ping", 200, "pong", False)]:
    print("FAIL: HTTP/2 got", got)
    sys.exit(1)
got = sorted((e["request"]["command"], e["request"]["args"], e["response"]["value"], e["failed"])
             for e in E if e["protocol"]["name"] == "redis")
if got != [("GET", ["k"], "v", False), ("SET", ["k", "v"], "OK", False)]:
    print("FAIL: Redis got", got)
    sys.exit(1)
got = [(e["request"]["questions"][0]["name"], e["response"]["answers"][0]["data"], e["failed"])
       for e in E if e["protocol"]["name"] == "dns"]
if got != [("a.svc.test", "10.9.8.7", False)]:
    print("FAIL: DNS got", got)
    sys.exit(1)
print("HTTP/2, Redis and DNS: a response captured before its request still pairs with it")
PY

# Kubernetes names: the objects as `kubectl get pods,services,configmaps -A -o json` prints them
cat >k8s.json <<'JSON'
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "checkout-7d9f", "namespace": "shop",
   "labels": {"app": "checkout"}},
  "spec": {"nodeName": "node-a", "containers": [{"name": "c", "ports": [{"containerPort": 8080, "protocol": "TCP"}]}]},
  "status": {"podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "catalog", "namespace": "shop"},
  "spec": {"clusterIP": "10.0.0.2", "clusterIPs": ["10.0.0.2"], "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}},
 {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "headless", "namespace": "shop"},
  "spec": {"clusterIP": "None", "ports": [{"port": 80}]}},
 {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "shop"}, "data": {}}
]}
JSON
names() { python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    print(e["src"]["name"], e["src"]["namespace"], e["dst"]["name"], e["dst"]["namespace"])' "$1" | sort -u; }
"$TV" dissect --pcap reuse.pcap --k8s k8s.json -o named.jsonl 2>err.txt || fail "dissect --k8s: $(cat err.txt)"
[ "$(names named.jsonl)" = "checkout-7d9f shop catalog shop" ] || fail "--k8s names: $(names named.jsonl)"
outgoing() { python3 -c 'import json, sys; print(sorted({json.loads(l)["outgoing"] for l in open(sys.argv[1])}))' "$1"; }
[ "$(outgoing named.jsonl)" = "[False]" ] || fail "outgoing without the capturing node: $(outgoing named.jsonl)"
"$TV" import -q --store k8s-store --node node-a --k8s k8s.json reuse.pcap 2>err.txt || fail "import --k8s: $(cat err.txt)"
"$TV" dissect --store k8s-store --from 0 --to now -o from-events.jsonl 2>err.txt || fail "dissect --store: $(cat err.txt)"
[ "$(names from-events.jsonl)" = "checkout-7d9f shop catalog shop" ] || fail "names from events: $(names from-events.jsonl)"
# captured on node-a, where the client pod runs: the requests are outgoing
[ "$(outgoing from-events.jsonl)" = "[True]" ] || fail "outgoing from the client pod's node: $(outgoing from-events.jsonl)"
"$TV" import -q --store k8s-store-b --node node-b --k8s k8s.json reuse.pcap 2>/dev/null || fail "import node-b"
"$TV" dissect --store k8s-store-b --from 0 --to now -o node-b.jsonl 2>/dev/null || fail "dissect node-b"
[ "$(outgoing node-b.jsonl)" = "[False]" ] || fail "outgoing on another node: $(outgoing node-b.jsonl)"
"$TV" dissect --pcap reuse.pcap -o unnamed.jsonl 2>/dev/null || fail "dissect"
[ "$(names unnamed.jsonl)" = "None None None None" ] || fail "names without Kubernetes objects: $(names unnamed.jsonl)"
echo '{"kind": "List", "items": [' >bad.json
"$TV" dissect --pcap reuse.pcap --k8s bad.json -o x.jsonl 2>err.txt && fail "bad --k8s accepted"
grep -q "bad.json:2:" err.txt || fail "bad --k8s: no FILE:LINE: $(cat err.txt)"
echo '{"kind": "Pod", "metadata": {"namespace": "x"}}' >noname.json
"$TV" import -q --store k8s-bad --node n1 --k8s noname.json reuse.pcap 2>err.txt && fail "a pod without a name accepted"
grep -q "noname.json: a Pod without metadata.name or metadata.namespace" err.txt || fail "pod without a name: $(cat err.txt)"
echo "Kubernetes names: from --k8s and from the segments' events (import --k8s); bad files named"
echo "PASS: encoded bodies, reused ports, responses first, Kubernetes names"
