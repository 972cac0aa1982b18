#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A small classic pcap for the store tests: COUNT UDP datagrams 10.0.0.1 ->
# 10.0.0.2:53, one a second from Unix time 1790000000, each from source port
# 4000 + i; the payload 10 bytes, or (--dns) a DNS query for a.test, so
# `tapvault dissect` gives one entry per packet.
#   udp_pcap.py OUT COUNT [--dns]
import struct, sys

out, count, dns = sys.argv[1], int(sys.argv[2]), "--dns" in sys.argv[3:]
QUERY = b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x01a\x04test\x00\x00\x01\x00\x01"
with open(out, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))  # ns timestamps, Ethernet
    for i in range(count):
        payload = QUERY if dns else b"x" * 10
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 28 + len(payload), i, 0, 64, 17, 0, bytes([10, 0, 0, 1]),
                         bytes([10, 0, 0, 2]))
        udp = struct.pack("!HHHH", 4000 + i, 53, 8 + len(payload), 0) + payload
        frame = b"\x02" * 6 + b"\x04" * 6 + b"\x08\x00" + ip + udp
        f.write(struct.pack("<IIII", 1790000000 + i, 0, len(frame), len(frame)) + frame)
