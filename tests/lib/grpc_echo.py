# SPDX-License-Identifier: Apache-2.0
"""A gRPC peer for the tests (python3-grpcio, generic handlers: no generated
code). `grpc_echo.py server HOST:PORT` serves demo.Echo: Reverse and
ReverseZip answer the message reversed, Fail fails with NOT_FOUND.
`grpc_echo.py client HOST:PORT` calls each once (ReverseZip with a
gzip-compressed request: grpc-encoding gzip, compressed flag set) and
exits non-zero if an answer is wrong."""
import sys
from concurrent import futures

import grpc


def serve(addr):
    def fail(req, ctx):
        ctx.abort(grpc.StatusCode.NOT_FOUND, "no such thing")
    h = grpc.method_handlers_generic_handler("demo.Echo", {
        "Reverse": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req[::-1]),
        "ReverseZip": grpc.unary_unary_rpc_method_handler(lambda req, ctx: req[::-1]),
        "Fail": grpc.unary_unary_rpc_method_handler(fail)})
    s = grpc.server(futures.ThreadPoolExecutor(2))
    s.add_generic_rpc_handlers((h,))
    s.add_insecure_port(addr)
    s.start()
    s.wait_for_termination()


def call(addr):
    ch = grpc.insecure_channel(addr)
    assert ch.unary_unary("/demo.Echo/Reverse")(b"hello grpc", timeout=10) == b"cprg olleh"
    zipped = b"zip me " * 100
    assert ch.unary_unary("/demo.Echo/ReverseZip")(zipped, timeout=10,
                                                   compression=grpc.Compression.Gzip) == zipped[::-1]
    try:
        ch.unary_unary("/demo.Echo/Fail")(b"x", timeout=10)
        raise SystemExit("Fail did not fail")
    except grpc.RpcError as e:
        assert e.code() == grpc.StatusCode.NOT_FOUND, e


if __name__ == "__main__":
    {"server": serve, "client": call}[sys.argv[1]](sys.argv[2])
