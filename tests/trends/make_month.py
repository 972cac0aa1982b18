#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The trends test's month: DAYS days of synthetic cluster traffic from T0
(a whole hour), headers only (each packet's captured length is its headers,
its original length the real size, so the capture stays small), and the
Kubernetes objects naming it. Background: three web pods call the api
Service (4-12 connections an hour each, more by day, sizes random), the db
(2 an hour) and kube-dns (4 queries an hour), all at random times. Planted:
  beacon   jobs/batch-7 -> 203.0.113.7:443 every 300 s (+-1 s), 310/190 bytes, all month
  new peer shop/web -> 198.51.100.9:5432 in the last 2 days only
  spike    30x the api's connections on day 20, 14:00-15:00
  long     shop/web -> shop/db-0:5432, one connection from day 10 02:00 to 07:30
    make_month.py OUT.pcap OUT-k8s.json [DAYS] [T0]
Prints the planted facts as JSON."""
import json
import math
import random
import struct
import sys

out, k8s_out = sys.argv[1], sys.argv[2]
days = int(sys.argv[3]) if len(sys.argv) > 3 else 30
t0 = int(sys.argv[4]) if len(sys.argv) > 4 else 1788220800  # 2026-09-01T00:00:00Z
assert t0 % 3600 == 0
rnd = random.Random(20261202)
WEB = [(10, 1, 0, 2 + i) for i in range(3)]
API, DB, DNS, BATCH = (10, 1, 1, 10), (10, 1, 1, 20), (10, 1, 2, 53), (10, 1, 3, 7)
C2, NEWPEER = (203, 0, 113, 7), (198, 51, 100, 9)
packets = []  # (ts_ns, frame, origlen)
port_seq = [20000]


def eth_ip(src, dst, proto, l4, payload_len, ident):
    total = 20 + len(l4) + payload_len
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, ident & 0xFFFF, 0x4000, 64, proto, 0, bytes(src), bytes(dst))
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip + l4, 14 + total


def tcp(ts, src, sport, dst, dport, flags, seq, ack, n):
    l4 = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 0x50, flags, 65535, 0, 0)
    frame, orig = eth_ip(src, dst, 6, l4, n, seq)
    packets.append((ts, frame, orig))


def udp(ts, src, sport, dst, dport, n):
    l4 = struct.pack("!HHHH", sport, dport, 8 + n, 0)
    frame, orig = eth_ip(src, dst, 17, l4, n, sport)
    packets.append((ts, frame, orig))


def next_port():
    port_seq[0] = 20000 + (port_seq[0] - 19999) % 40000
    return port_seq[0]


def conn(ts, cli, srv, dport, req, resp):
    """A whole TCP exchange starting at ts (ns): 8 packets within ~2 ms."""
    p, us = next_port(), 1000
    a, b = rnd.randrange(1 << 31), rnd.randrange(1 << 31)
    tcp(ts, cli, p, srv, dport, 0x02, a, 0, 0)
    tcp(ts + 100 * us, srv, dport, cli, p, 0x12, b, a + 1, 0)
    tcp(ts + 200 * us, cli, p, srv, dport, 0x10, a + 1, b + 1, 0)
    tcp(ts + 300 * us, cli, p, srv, dport, 0x18, a + 1, b + 1, req)
    tcp(ts + 800 * us, srv, dport, cli, p, 0x18, b + 1, a + 1 + req, resp)
    tcp(ts + 900 * us, cli, p, srv, dport, 0x11, a + 1 + req, b + 1 + resp, 0)
    tcp(ts + 1000 * us, srv, dport, cli, p, 0x11, b + 1 + resp, a + 2 + req, 0)
    tcp(ts + 1100 * us, cli, p, srv, dport, 0x10, a + 2 + req, b + 2 + resp, 0)


def poisson(lam):
    k, p, l = 0, 1.0, math.exp(-lam)
    while True:
        p *= rnd.random()
        if p <= l:
            return k
        k += 1


S = 10**9
spike_hour = t0 + 20 * 86400 + 14 * 3600
for h in range(days * 24):
    hs = t0 + h * 3600
    hod = (hs // 3600) % 24
    lam = 8 * (1 + 0.5 * math.sin(2 * math.pi * (hod - 6) / 24))
    for c in WEB:
        for _ in range(poisson(lam * (30 if hs == spike_hour else 1))):
            conn(int((hs + rnd.random() * 3600) * S), c, API, 80, rnd.randint(200, 400), rnd.randint(800, 6000))
        for _ in range(poisson(2)):
            conn(int((hs + rnd.random() * 3600) * S), c, DB, 5432, rnd.randint(60, 300), rnd.randint(100, 2000))
        for _ in range(poisson(4)):
            t = int((hs + rnd.random() * 3600) * S)
            p = next_port()
            udp(t, c, p, DNS, 53, rnd.randint(30, 50))
            udp(t + 300000, DNS, 53, c, p, rnd.randint(60, 140))
        if h >= (days - 2) * 24 and c == WEB[1]:
            for _ in range(poisson(3)):
                conn(int((hs + rnd.random() * 3600) * S), c, NEWPEER, 5432, 120, 400)
# the beacon: every 300 s with 1 s of jitter, all month
t = t0 + 17.0
while t < t0 + days * 86400 - 2:
    conn(int(t * S), BATCH, C2, 443, 310, 190)
    t += 300 + rnd.uniform(-1, 1)
# the long connection: keepalives every 60 s for 5.5 hours
ls = t0 + 10 * 86400 + 2 * 3600
p, a, b = 45000, 1000, 9000
tcp(ls * S, WEB[2], p, DB, 5432, 0x02, a, 0, 0)
tcp(ls * S + 200000, DB, 5432, WEB[2], p, 0x12, b, a + 1, 0)
tcp(ls * S + 400000, WEB[2], p, DB, 5432, 0x10, a + 1, b + 1, 0)
for i in range(1, int(5.5 * 60) + 1):
    tcp((ls + 60 * i) * S, WEB[2], p, DB, 5432, 0x18, a + 1, b + 1, 40)
    tcp((ls + 60 * i) * S + 500000, DB, 5432, WEB[2], p, 0x18, b + 1, a + 41, 40)
    a, b = a + 40, b + 40

packets.sort(key=lambda x: x[0])
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1))
    for ts, frame, orig in packets:
        cap = min(len(frame), 14 + 20 + 20)
        f.write(struct.pack("<IIII", ts // S, ts % S, cap, orig) + frame[:cap])


def pod(name, ns, addr, owner=None):
    meta = {"name": name, "namespace": ns, "uid": "uid-" + name, "creationTimestamp": "2026-08-01T00:00:00Z"}
    if owner:
        meta["ownerReferences"] = [{"kind": "ReplicaSet", "name": owner, "controller": True}]
    ip = ".".join(map(str, addr))
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"nodeName": "n1"},
            "status": {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}}


def service(name, ns, cluster_ip, port, pod_ip):
    return [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns, "uid": "svc-" + name},
             "spec": {"clusterIP": cluster_ip, "clusterIPs": [cluster_ip], "ports": [{"port": port}]}},
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
             "metadata": {"name": name + "-abc", "namespace": ns, "uid": "eps-" + name,
                          "labels": {"kubernetes.io/service-name": name}},
             "addressType": "IPv4", "endpoints": [{"addresses": [".".join(map(str, pod_ip))]}],
             "ports": [{"port": port}]}]


items = [pod("web-5c4d-%d" % i, "shop", c, "web-5c4d") for i, c in enumerate(WEB)]
items += [pod("api-0", "shop", API), pod("db-0", "shop", DB), pod("coredns-0", "kube-system", DNS),
          pod("batch-7", "jobs", BATCH)]
items += service("api", "shop", "10.96.0.10", 80, API) + service("db", "shop", "10.96.0.20", 5432, DB)
items += service("kube-dns", "kube-system", "10.96.0.53", 53, DNS)
json.dump({"apiVersion": "v1", "kind": "List", "items": items}, open(k8s_out, "w"))
print(json.dumps({"packets": len(packets), "beacon": "jobs/batch-7 -> 203.0.113.7 tcp/443",
                  "new_peer": "shop/web-5c4d -> 198.51.100.9 tcp/5432",
                  "spike_hour": spike_hour, "long": "shop/web-5c4d -> shop/db-0"}))
