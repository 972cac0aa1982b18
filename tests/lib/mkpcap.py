#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes a classic pcap (ns timestamps) of UDP packets with random payloads:
incompressible, so segments are as large as the packets.
    mkpcap.py OUT COUNT PAYLOAD_BYTES START_NS GAP_NS SEED"""
import random
import struct
import sys

out, count, size, start, gap, seed = sys.argv[1], *map(int, sys.argv[2:7])
rng = random.Random(seed)
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
    for i in range(count):
        payload = rng.randbytes(size)
        udp = struct.pack(">HHHH", 40000 + i % 1000, 9000, 8 + size, 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xFFFF, 0, 64, 17, 0,
                         bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
        frame = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip
        ts = start + i * gap
        f.write(struct.pack("<IIII", ts // 10**9, ts % 10**9, len(frame), len(frame)) + frame)
