# SPDX-License-Identifier: Apache-2.0
"""agent_os.sh: the `os` records of the segments' events name every end of
every connection by its process and container (see agent_os.sh)."""
import json
import sys

events, records, drops, id1, u1, id2, u2, id3, u3 = sys.argv[1:10]
recs = [json.loads(line) for line in open(events)]
os_recs = [r for r in recs if r["type"] == "os"]
caps = [r for r in recs if r["type"] == "capture"]
assert caps and all(c.get("os") == "on" for c in caps), [c.get("os") for c in caps]


def flow(r):
    return r.get("flow") or {}


def of(event, comm, **f):
    return [r for r in os_recs if r["event"] == event and r["comm"] == comm
            and all(flow(r).get(k) == v for k, v in f.items())]


def show():
    return [(r["event"], r["comm"], flow(r).get("sport"), flow(r).get("dport"), r.get("container_id", "")[:4])
            for r in os_recs if r["event"] not in ("exec", "exit")][:40]


conn = of("connect", "curl", dport=80)
acc = of("accept", "nginx", sport=80)
assert len(conn) >= 5, ("curl connects", show())
assert len(acc) >= 5, ("nginx accepts", show())
assert {flow(r)["sport"] for r in conn} <= {flow(r)["dport"] for r in acc}, "every curl connection accepted by nginx"
assert all(r.get("container_id") == id3 and r.get("pod_uid") == u3 for r in acc), "nginx in the server pod"
assert all(r.get("exe", "").endswith("/nginx") for r in acc), [r.get("exe") for r in acc]
# the metric was read before the last records (closes, exits at the stop) came
assert int(records) > 0 and drops == "0", (records, drops)
for cid, uid in ((id1, u1), (id2, u2)):
    mine = [r for r in conn if r.get("container_id") == cid]
    assert len(mine) == 1 and mine[0].get("pod_uid") == uid, ("container", cid, [(r.get("container_id"), r.get("pod_uid")) for r in conn])
assert len([r for r in conn if "container_id" in r]) == 2, "only the two clients in pod cgroups are named by one"

rc = of("connect", "redis-cli", dport=6379)
ra = of("accept", "redis-server", sport=6379)  # its listener predates the agent
assert len(rc) == 1 and rc[0].get("container_id") == id1, ("redis-cli", show())
assert ra and all(r.get("container_id") == id3 for r in ra), ("redis-server", show())

du = [r for r in os_recs if r["event"] == "udp" and r["comm"] == "dig"]
ds = [r for r in os_recs if r["event"] == "udp" and r["comm"] == "dnsmasq" and flow(r).get("sport") == 53]
assert du and all(r.get("container_id") == id2 for r in du), ("dig", show())
assert ds and ds[0]["flow"]["src"] == "10.215.0.2" and ds[0].get("container_id") == id3, ("dnsmasq", show())

gc = of("connect", "python3", dport=50051)
ga = of("accept", "python3", sport=50051)
assert gc and gc[0].get("container_id") == id2, ("gRPC client", show())
assert ga and ga[0].get("container_id") == id3, ("gRPC server", show())

# sealed after the traffic, a segment's state lists dnsmasq's UDP socket
# (live until the end)
states = [r for r in recs if r["type"] == "state"]
live = [s for st in states for s in st["sockets"]]
assert any(s["comm"] == "dnsmasq" and s["event"] == "udp" for s in live), \
    ("live sockets", [(s["event"], s["comm"]) for s in live][:20])
print("os records:", len(os_recs), "curl connects:", len(conn), "nginx accepts:", len(acc),
      "live sockets in states:", len(live))
