#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The MCP and dashboard tests' capture: CONNS HTTP/1.1 exchanges (each its
own TCP connection: handshake, GET, response, FIN) from five client pods to
one server pod, every fourth answered 404, one a second of packet time from
T0, plus a DNS query each; and the Kubernetes objects naming them.
    make_store.py OUT.pcap OUT-k8s.json CONNS [T0]"""
import json
import struct
import sys

out, k8s_out, conns = sys.argv[1], sys.argv[2], int(sys.argv[3])
t0 = int(sys.argv[4]) if len(sys.argv) > 4 else 1790000000
SERVER = (10, 1, 1, 10)
CLIENTS = [(10, 1, 0, 2 + i) for i in range(5)]
DNS = (10, 1, 2, 53)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip(src, dst, proto, payload, ident):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), ident & 0xFFFF, 0x4000, 64, proto, 0,
                    bytes(src), bytes(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload


def tcp(src, dst, sport, dport, seq, ack, flags, data=b""):
    h = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 << 4, flags, 65535, 0, 0)
    pseudo = struct.pack("!4s4sBBH", bytes(src), bytes(dst), 0, 6, len(h) + len(data))
    c = csum(pseudo + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data


def udp(src, dst, sport, dport, data):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    return h + data


packets = []
ident = [0]


def emit(ts, src, dst, proto, payload):
    ident[0] += 1
    frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip(src, dst, proto, payload, ident[0])
    packets.append((ts, frame))


for i in range(conns):
    c = CLIENTS[i % len(CLIENTS)]
    sport = 30000 + i
    ts = (t0 + i) * 10**9
    status = b"404 Not Found" if i % 4 == 3 else b"200 OK"
    body = b'{"item": %d}' % i
    req = b"GET /items/%d HTTP/1.1\r\nHost: api.shop\r\nUser-Agent: test\r\n\r\n" % i
    resp = b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
    cs, ss = 1000, 5000
    steps = [
        (c, SERVER, sport, 80, cs, 0, 0x02, b""),
        (SERVER, c, 80, sport, ss, cs + 1, 0x12, b""),
        (c, SERVER, sport, 80, cs + 1, ss + 1, 0x10, b""),
        (c, SERVER, sport, 80, cs + 1, ss + 1, 0x18, req),
        (SERVER, c, 80, sport, ss + 1, cs + 1 + len(req), 0x18, resp),
        (c, SERVER, sport, 80, cs + 1 + len(req), ss + 1 + len(resp), 0x11, b""),
        (SERVER, c, 80, sport, ss + 1 + len(resp), cs + 2 + len(req), 0x11, b""),
        (c, SERVER, sport, 80, cs + 2 + len(req), ss + 2 + len(resp), 0x10, b""),
    ]
    for k, (s, d, sp, dp, seq, ack, fl, data) in enumerate(steps):
        emit(ts + k * 100000, s, d, 6, tcp(s, d, sp, dp, seq, ack, fl, data))
    q = struct.pack("!HHHHHH", i & 0xFFFF, 0x0100, 1, 0, 0, 0) + b"\x03api\x04shop\x00\x00\x01\x00\x01"
    emit(ts + 2000000, c, DNS, 17, udp(c, DNS, 40000 + i, 53, q))

with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
    for ts, frame in sorted(packets, key=lambda p: p[0]):
        f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(frame), len(frame)) + frame)


def pod(name, addr, owner=None):
    meta = {"name": name, "namespace": "shop", "uid": "uid-" + name}
    if owner:
        meta["ownerReferences"] = [{"kind": "ReplicaSet", "name": owner, "controller": True}]
    ipt = ".".join(map(str, addr))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"nodeName": "n1"},
            "status": {"phase": "Running", "podIP": ipt, "podIPs": [{"ip": ipt}]}}


items = [pod("api-0", SERVER)] + [pod("web-7d9f-%d" % i, c, "web-7d9f") for i, c in enumerate(CLIENTS)]
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(k8s_out, "w"))
