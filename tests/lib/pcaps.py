#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Minimal pcap/pcapng reader for the tests (no third-party modules).

    pcaps.py contains REF AGENT [--iface NAME=REFNAME ...] [--ts-tolerance-us N]

`contains` checks that every packet of the reference capture (tcpdump's)
appears in the agent's capture with the same bytes, original length and
timestamp (within the tolerance), on the interface given. Prints a summary.
"""
import struct
import sys


def read(path):
    """Yields (ifname, ts_ns, origlen, data) for every packet."""
    with open(path, "rb") as f:
        blob = f.read()
    magic = struct.unpack_from("<I", blob, 0)[0]
    if magic in (0xA1B2C3D4, 0xA1B23C4D):
        scale = 1000 if magic == 0xA1B2C3D4 else 1
        off = 24
        while off + 16 <= len(blob):
            sec, frac, cap, orig = struct.unpack_from("<IIII", blob, off)
            yield ("", sec * 1_000_000_000 + frac * scale, orig, blob[off + 16:off + 16 + cap])
            off += 16 + cap
        return
    if magic != 0x0A0D0D0A:
        raise SystemExit(f"{path}: not pcap or little-endian pcapng")
    ifaces = []  # (name, units per second)
    off = 0
    while off + 12 <= len(blob):
        btype, blen = struct.unpack_from("<II", blob, off)
        body = blob[off + 8:off + blen - 4]
        if btype == 0x0A0D0D0A:
            ifaces = []
        elif btype == 1:
            name, units = "", 1_000_000
            o = 8
            while o + 4 <= len(body):
                code, olen = struct.unpack_from("<HH", body, o)
                val = body[o + 4:o + 4 + olen]
                if code == 0:
                    break
                if code == 2:
                    name = val.decode()
                if code == 9:
                    units = 10 ** val[0] if val[0] < 128 else 2 ** (val[0] & 127)
                o += 4 + ((olen + 3) & ~3)
            ifaces.append((name, units))
        elif btype == 6:
            ifid, hi, lo, cap, orig = struct.unpack_from("<IIIII", body, 0)
            name, units = ifaces[ifid]
            ts = (hi << 32 | lo) * 1_000_000_000 // units
            yield (name, ts, orig, body[20:20 + cap])
        off += blen


def contains(ref_path, agent_path, iface, tolerance_ns):
    """Every reference packet matches a distinct agent packet with the same
    bytes and original length whose timestamp is within the tolerance. Order
    is not compared: two sockets can see packets of opposite directions in
    different orders."""
    ref = list(read(ref_path))
    got = [p for p in read(agent_path) if p[0] == iface]
    by_bytes = {}
    for i, (_, ts, orig, data) in enumerate(got):
        by_bytes.setdefault((data, orig), []).append([ts, False])
    worst = 0
    for k, (_, ts, orig, data) in enumerate(ref):
        best = None
        for cand in by_bytes.get((data, orig), []):
            if not cand[1] and abs(cand[0] - ts) <= tolerance_ns and (best is None or abs(cand[0] - ts) < abs(best[0] - ts)):
                best = cand
        if best is None:
            same = [c[0] for c in by_bytes.get((data, orig), [])]
            why = "no packet with these bytes"
            if same:
                near = min(same, key=lambda t: abs(t - ts))
                why = f"{len(same)} with these bytes, nearest timestamp {near - ts:+d} ns away"
            raise SystemExit(f"FAIL: {iface}: reference packet {k + 1} of {len(ref)} (ts {ts}, {orig} bytes) "
                             f"is not in the agent's capture ({why})")
        best[1] = True
        worst = max(worst, abs(best[0] - ts))
    print(f"{iface}: all {len(ref)} reference packets found among {len(got)} captured "
          f"({sum(p[2] for p in ref)} bytes); worst timestamp difference {worst} ns")


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "contains":
        tol = int(sys.argv[5]) * 1000 if len(sys.argv) > 5 else 0
        contains(sys.argv[2], sys.argv[3], sys.argv[4], tol)
    else:
        raise SystemExit(__doc__)


def l3(data):
    """Bytes from the network header on, for Ethernet (with VLAN tags)."""
    off = 14
    while off + 2 <= len(data) and data[off - 2:off] in (b"\x81\x00", b"\x88\xa8", b"\x91\x00"):
        off += 4
    return data[off:]


def dedup(packets, window_ns):
    """The documented dedup rule over (node_iface, ts, origlen, data) in merge order."""
    seen = {}
    out = []
    for p in packets:
        key = (l3(p[3]), p[2])
        t = seen.get(key)
        if t is not None and 0 <= p[1] - t <= window_ns:
            continue
        seen[key] = p[1]
        out.append(p)
    return out
