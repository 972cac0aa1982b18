#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed inputs of the per-parser fuzz targets (reasm, http1, http2,
dns, redis) into corpus/<target>/seed-*: well-formed conversations in each
target's input format, for libFuzzer to mutate from. Crashes it finds are kept
beside them (named by their SHA-1, as libFuzzer names them).
    tests/fuzz/seeds.py"""
import gzip
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def rec(direction, data=b"", gap=None, later=False):
    """One stream_harness.h record: bytes a direction delivered, or a gap."""
    ctl = direction | (4 if later else 0)
    if gap is not None:
        return struct.pack(">BH", ctl | 2, gap)
    return b"".join(struct.pack(">BH", ctl, len(data[i:i + 65535])) + data[i:i + 65535]
                    for i in range(0, max(len(data), 1), 65535))


def save(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def http1():
    body = gzip.compress(b'{"items": [1, 2, 3]}', mtime=0)
    save("http1", "keepalive", rec(0, b"GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n") +
         rec(1, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello") +
         rec(0, b"GET /b HTTP/1.1\r\nHost: h\r\nAccept-Encoding: gzip\r\n\r\n") +
         rec(1, b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body) + body))
    save("http1", "chunked-pipelined", rec(0, b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\n") +
         rec(1, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n") +
         rec(1, b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"))
    save("http1", "continue-and-gap",
         rec(0, b"POST /up HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 10\r\n\r\n") +
         rec(1, b"HTTP/1.1 100 Continue\r\n\r\n") + rec(0, b"01234") + rec(0, gap=5) +
         rec(1, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n", later=True))
    save("http1", "http10-close", rec(0, b"GET / HTTP/1.0\r\n\r\n") +
         rec(1, b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\n\r\n<html>gone</html>"))
    save("http1", "h2c-upgrade",
         rec(0, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n") +
         rec(1, b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" +
             frame(4, 0, 0, b"") + frame(1, 4, 1, b"\x88") + frame(0, 1, 1, b"hi")) +
         rec(0, PREFACE + frame(4, 0, 0, b"")))
    # the server's 101 delivered before the request it answers (captured out of order)
    save("http1", "h2c-early-101",
         rec(1, b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n" +
             frame(4, 0, 0, b"") + frame(1, 4, 1, b"\x88") + frame(0, 1, 1, b"hi")) +
         rec(0, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n" + PREFACE + frame(4, 0, 0, b"")))


PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def literal(name, value):
    """HPACK literal header field without indexing, new name."""
    return b"\x00" + bytes([len(name)]) + name + bytes([len(value)]) + value


def http2():
    get = b"\x82\x86\x84" + literal(b":authority", b"h")  # GET, http, /
    save("http2", "get", rec(0, PREFACE + frame(4, 0, 0, b"") + frame(1, 5, 1, get)) +
         rec(1, frame(4, 0, 0, b"") + frame(4, 1, 0, b"") + frame(1, 4, 1, b"\x88" + literal(b"content-type", b"text/plain")) +
             frame(0, 1, 1, b"hello")))
    grpc_req = (b"\x83\x86" + literal(b":path", b"/pkg.Svc/Call") + literal(b":authority", b"h") +
                literal(b"content-type", b"application/grpc") + literal(b"te", b"trailers"))
    msg = b"\x00" + struct.pack(">I", 3) + b"\x08\x96\x01"
    save("http2", "grpc", rec(0, PREFACE + frame(4, 0, 0, b"") + frame(1, 4, 3, grpc_req) + frame(0, 1, 3, msg)) +
         rec(1, frame(1, 4, 3, b"\x88" + literal(b"content-type", b"application/grpc")) + frame(0, 0, 3, msg) +
             frame(1, 5, 3, literal(b"grpc-status", b"5") + literal(b"grpc-message", b"not found"))))
    promised = struct.pack(">I", 2) + b"\x82\x86" + literal(b":path", b"/style.css") + literal(b":authority", b"h")
    save("http2", "server-push", rec(0, PREFACE + frame(4, 0, 0, b"") + frame(1, 5, 1, get)) +
         rec(1, frame(4, 0, 0, b"") + frame(5, 4, 1, promised) + frame(1, 4, 1, b"\x88") + frame(1, 4, 2, b"\x88") +
             frame(0, 1, 2, b"body{}") + frame(0, 1, 1, b"<html>")))
    # the response delivered before its request (segments captured out of order)
    save("http2", "response-first", rec(0, PREFACE + frame(4, 0, 0, b"")) +
         rec(1, frame(4, 0, 0, b"") + frame(1, 4, 1, b"\x88") + frame(0, 1, 1, b"pong")) +
         rec(0, frame(1, 4, 1, get) + frame(0, 1, 1, b"ping")))
    save("http2", "rst-and-continuation",
         rec(0, PREFACE + frame(1, 0, 1, get[:2]) + frame(9, 4, 1, get[2:]) + frame(1, 5, 3, get)) +
         rec(1, frame(3, 0, 1, struct.pack(">I", 8)) + frame(1, 4, 3, b"\x88") + frame(0, 0, 3, b"x") +
             frame(7, 0, 0, struct.pack(">II", 3, 0))))


def dns_name(name):
    return b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"


def dns():
    q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0) + dns_name("a.svc.test") + struct.pack(">HH", 1, 1)
    answer = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([10, 0, 0, 7])
    r = struct.pack(">HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + q[12:] + answer
    nx = struct.pack(">HHHHHH", 0x1234, 0x8183, 1, 0, 0, 0) + q[12:]
    save("dns", "udp", b"\x01" + rec(0, q) + rec(1, r) + rec(0, q) + rec(1, nx))
    save("dns", "udp-answer-first", b"\x01" + rec(1, r) + rec(0, q) + rec(1, nx))
    save("dns", "tcp", b"\x00" + rec(0, struct.pack(">H", len(q)) + q) + rec(1, struct.pack(">H", len(r)) + r[:7]) +
         rec(1, r[7:]))


def resp(*args):
    return b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)


def redis():
    save("redis", "pipeline", rec(0, resp(b"SET", b"k", b"v") + resp(b"GET", b"k") + resp(b"INCR", b"k")) +
         rec(1, b"+OK\r\n$1\r\nv\r\n-ERR value is not an integer\r\n"))
    save("redis", "multi", rec(0, resp(b"MULTI") + resp(b"LPUSH", b"l", b"a")) + rec(1, b"+OK\r\n+QUEUED\r\n") +
         rec(0, resp(b"EXEC")) + rec(1, b"*1\r\n:1\r\n") + rec(0, b"PING\r\n") + rec(1, b"+PONG\r\n"))
    save("redis", "reply-first", rec(0, resp(b"SET", b"k", b"v")) + rec(1, b"+OK\r\n$1\r\nv\r\n") +
         rec(0, resp(b"GET", b"k")) + rec(1, b":7\r\n"))
    save("redis", "resp3", rec(0, resp(b"HELLO", b"3")) +
         rec(1, b"%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n") + rec(0, resp(b"X")) +
         rec(1, b"_\r\n") + rec(0, resp(b"Y")) + rec(1, b",1.5\r\n") + rec(0, resp(b"Z")) +
         rec(1, b"~2\r\n#t\r\n(12345678901234567890\r\n") + rec(0, resp(b"V")) + rec(1, b"=8\r\ntxt:abcd\r\n"))


def seg(flags, off, ack_off, n):
    return struct.pack(">BHHB", flags, off, ack_off, n)


def reasm():
    SYN, ACK, FIN, RST, PEER_ACK, LATER = 0x02, 0x10, 0x01, 0x04, 0x40, 0x80
    save("reasm", "in-order", struct.pack(">I", 1000) + seg(SYN, 0, 0, 0) + seg(ACK, 1, 0, 100) +
         seg(ACK, 101, 0, 100) + seg(ACK | FIN, 201, 0, 10))
    save("reasm", "reorder-overlap", struct.pack(">I", 5) + seg(SYN, 0, 0, 0) + seg(ACK, 101, 0, 100) +
         seg(ACK, 1, 0, 150) + seg(ACK, 51, 0, 200) + seg(ACK, 1, 0, 255))
    save("reasm", "wrap-hole-acked", struct.pack(">I", 0xFFFFFF00) + seg(SYN, 0, 0, 0) + seg(ACK, 1, 0, 200) +
         seg(ACK, 301, 0, 200) + seg(PEER_ACK, 0, 501, 0) + seg(PEER_ACK | LATER, 0, 501, 0) + seg(ACK, 501, 0, 10))
    save("reasm", "midstream-cap", struct.pack(">I", 77) + b"".join(seg(ACK, 1000 + 300 * i, 0, 255) for i in range(12)) +
         seg(RST, 4600, 0, 0))


for make in (http1, http2, dns, redis, reasm):
    make()
