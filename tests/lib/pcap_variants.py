#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Rewrites a classic pcap (Ethernet, IPv4) into a damaged variant:
    pcap_variants.py IN OUT reorder|duplicate|drop
reorder: swaps each pair of consecutive data segments of one direction of a
    connection (they arrive out of order);
duplicate: sends every third TCP data segment twice (a retransmission);
drop: removes one TCP data segment from the middle of the largest stream.
Timestamps stay with their packets, so reordered ones run backwards in time,
as they do when a capture merges two paths."""
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        head = f.read(24)
        pkts = []
        while True:
            h = f.read(16)
            if len(h) < 16:
                return head, pkts
            incl = struct.unpack("<IIII", h)[2]
            pkts.append((h, f.read(incl)))


def tcp_data(frame):
    """(stream key, payload length) of an Ethernet/IPv4/TCP frame, else None."""
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 15) * 4
    total = struct.unpack(">H", frame[16:18])[0]
    t = 14 + ihl
    doff = (frame[t + 12] >> 4) * 4
    n = total - ihl - doff
    ends = sorted([(frame[26:30], frame[t:t + 2]), (frame[30:34], frame[t + 2:t + 4])])
    return (tuple(ends), n) if n > 0 else None


def main():
    src, dst, mode = sys.argv[1:4]
    head, pkts = read(src)
    data = [i for i, (_, f) in enumerate(pkts) if tcp_data(f)]
    out = list(pkts)
    if mode == "reorder":
        # out-of-order delivery within each direction of each connection
        by_dir = {}
        for i in data:
            f = pkts[i][1]
            by_dir.setdefault((f[26:30], f[34:36], f[30:34], f[36:38]), []).append(i)
        for idx in by_dir.values():
            for a, b in zip(idx[0::2], idx[1::2]):
                out[a], out[b] = out[b], out[a]
    elif mode == "duplicate":
        dup = set(data[2::3])
        out = [p for i, p in enumerate(pkts) for _ in range(2 if i in dup else 1)]
    elif mode == "drop":
        sizes = {}
        for i in data:
            k, n = tcp_data(pkts[i][1])
            sizes.setdefault(k, []).append(i)
        biggest = max(sizes.values(), key=len)
        victim = biggest[len(biggest) // 2]
        out = [p for i, p in enumerate(pkts) if i != victim]
    else:
        raise SystemExit(__doc__)
    with open(dst, "wb") as f:
        f.write(head)
        for h, fr in out:
            f.write(h + fr)


if __name__ == "__main__":
    main()
