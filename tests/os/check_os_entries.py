# SPDX-License-Identifier: Apache-2.0
"""agent_os.sh: every HTTP, Redis, DNS and gRPC entry that `tapvault
dissect` made of the agent's store names the client's and the server's
process, container id and container name (see agent_os.sh)."""
import json
import sys

path, id1, id2, id3 = sys.argv[1:5]
entries = [json.loads(line) for line in open(path)]


def proc(e, side):
    return e[side].get("process") or {}


# protocol -> (client comm, container id, container name), (server ...)
want = {
    "redis": (("redis-cli", id1, "app"), ("redis-server", id3, "srv")),
    "dns": (("dig", id2, "toolbox"), ("dnsmasq", id3, "srv")),
    "grpc": (("python3", id2, "toolbox"), ("python3", id3, "srv")),
}
seen = {}
for e in entries:
    name = e["protocol"]["name"]
    if name == "http":
        c, s = proc(e, "src"), proc(e, "dst")
        assert c.get("comm") == "curl" and s.get("comm") == "nginx", ("http", c, s)
        assert (s.get("container_id"), s.get("container"), s.get("pod")) == (id3, "srv", "server"), s
        assert s.get("exe", "").endswith("/nginx") and c.get("pid") and s.get("pid"), (c, s)
        if "container_id" in c:
            assert (c["container_id"], c.get("container")) in ((id1, "app"), (id2, "toolbox")), c
        seen["http"] = seen.get("http", 0) + 1
        continue
    if name not in want:
        continue
    for side, (comm, cid, cname) in zip(("src", "dst"), want[name]):
        p = proc(e, side)
        assert (p.get("comm"), p.get("container_id"), p.get("container")) == (comm, cid, cname), (name, side, p)
    seen[name] = seen.get(name, 0) + 1
assert seen.get("http", 0) >= 5 and all(seen.get(k) for k in want), seen
print("entries named by process on both ends:", seen)
