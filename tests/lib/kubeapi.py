#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A test Kubernetes API server (Python standard library only, loopback).

There is no kube-apiserver to install here, so the tests need a peer of
their own that keeps the list/watch contract client-go relies on:

  * HTTPS with a certificate the test makes (--cert/--key), bearer tokens
    read from --token-file on every request (rotate the file: the old token
    then gets 401, as after kubelet rotates a service-account token);
  * discovery (/version, /api, /api/v1, /apis, /apis/GROUP/VERSION) for
    pods, services, namespaces, nodes and discovery.k8s.io/v1 EndpointSlices;
  * LIST with opaque string resourceVersions, limit/continue pages (a
    continue token carries the snapshot's resourceVersion), fieldSelector on
    spec.nodeName, metadata.namespace and metadata.name, a labelSelector of
    key=value terms, namespaced paths;
  * WATCH from a resourceVersion: newline-delimited JSON events in HTTP
    chunks, BOOKMARK events when allowWatchBookmarks=true, the stream ended
    after timeoutSeconds, an ERROR event with a 410 Status (HTTP 200, then
    the event) when the resourceVersion is older than the history kept;
  * faults on demand: 429 with Retry-After, a stalled watch, a connection
    cut inside a chunk, every open watch expired (ERROR 410).

The test drives it over a plain-HTTP control port on loopback (--control-port):
  POST /objects            body: an object (or a List)   create or replace
  DELETE /objects/KIND/NS/NAME  (NS "-" for cluster-scoped)
  POST /fault/NAME?n=N     throttle (429 for the next N requests),
                           stall (the next N watches send nothing),
                           cut (the next N watches die inside a chunk),
                           garbage (the next N watches send lines that are no events),
                           expire (ERROR 410 to open watches; history compacted)
  GET /log                 one line per API request served (method, path, query)
The control port and the API port are printed as `control=P api=P` on stdout
once both listen.
"""

import argparse
import base64
import copy
import json
import random
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# (group, version, plural) -> kind, namespaced
RESOURCES = {
    ("", "v1", "pods"): ("Pod", True),
    ("", "v1", "services"): ("Service", True),
    ("", "v1", "namespaces"): ("Namespace", False),
    ("", "v1", "nodes"): ("Node", False),
    ("discovery.k8s.io", "v1", "endpointslices"): ("EndpointSlice", True),
}
KIND_TO_RESOURCE = {kind: key for key, (kind, _) in RESOURCES.items()}
SHORT_NAMES = {"pods": ["po"], "services": ["svc"], "namespaces": ["ns"], "nodes": ["no"]}
HISTORY_MAX = 10000


class Store:
    """Objects, a global resourceVersion counter and the event history."""

    def __init__(self, rv_start=1000):
        self.lock = threading.Condition()
        self.rv = rv_start
        self.objects = {}  # (kind, ns, name) -> object
        self.history = []  # (rv, kind, type, object)
        self.base = 0  # the absolute position of history[0] (watches keep theirs)
        self.oldest_rv = self.rv  # watches from before this get 410
        self.expired_generation = 0

    def _key(self, obj):
        md = obj.get("metadata", {})
        kind = obj["kind"]
        namespaced = RESOURCES[KIND_TO_RESOURCE[kind]][1]
        return (kind, md.get("namespace", "") if namespaced else "", md["name"])

    def put(self, obj):
        with self.lock:
            if obj.get("kind") not in KIND_TO_RESOURCE:
                raise ValueError("unknown kind %r" % obj.get("kind"))
            obj = copy.deepcopy(obj)
            key = self._key(obj)
            old = self.objects.get(key)
            self.rv += 1
            md = obj.setdefault("metadata", {})
            md["resourceVersion"] = str(self.rv)
            md.setdefault("uid", old["metadata"]["uid"] if old else "uid-%d" % self.rv)
            md.setdefault("creationTimestamp", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
            group, version, _ = KIND_TO_RESOURCE[obj["kind"]]
            obj["apiVersion"] = group + "/" + version if group else version
            self.objects[key] = obj
            self._record(obj["kind"], "MODIFIED" if old else "ADDED", obj)
            return obj

    def delete(self, kind, ns, name):
        with self.lock:
            obj = self.objects.pop((kind, ns, name), None)
            if obj is None:
                return None
            self.rv += 1
            obj = copy.deepcopy(obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            self._record(kind, "DELETED", obj)
            return obj

    def _record(self, kind, etype, obj):
        self.history.append((self.rv, kind, etype, obj))
        if len(self.history) > HISTORY_MAX:
            drop = len(self.history) - HISTORY_MAX
            self.oldest_rv = self.history[drop][0] - 1
            del self.history[:drop]
            self.base += drop
        self.lock.notify_all()

    def expire(self):
        """Forgets the history: every open watch gets 410, as does any watch
        from a resourceVersion before now (an etcd compaction)."""
        with self.lock:
            self.rv += 1
            self.base += len(self.history)
            self.history.clear()
            self.oldest_rv = self.rv
            self.expired_generation += 1
            self.lock.notify_all()


def matches(obj, fields, labels):
    md = obj.get("metadata", {})
    for k, v in fields:
        if k == "spec.nodeName":
            got = obj.get("spec", {}).get("nodeName", "")
        elif k == "metadata.namespace":
            got = md.get("namespace", "")
        elif k == "metadata.name":
            got = md.get("name", "")
        else:
            raise KeyError(k)
        if got != v:
            return False
    have = md.get("labels", {}) or {}
    return all(have.get(k) == v for k, v in labels)


def parse_selector(text, what):
    terms = []
    for term in filter(None, (text or "").split(",")):
        if "!=" in term or "=" not in term:
            raise ValueError("unsupported %s %r" % (what, term))
        k, v = term.split("=", 1)
        terms.append((k.rstrip("="), v))
    return terms


class Faults:
    def __init__(self):
        self.lock = threading.Lock()
        self.counts = {"throttle": 0, "stall": 0, "cut": 0, "garbage": 0}

    def take(self, name):
        with self.lock:
            if self.counts[name] > 0:
                self.counts[name] -= 1
                return True
            return False


class Api(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # events go out as they happen
    server_version = "tapvault-test-apiserver"

    def log_message(self, fmt, *args):  # the request log is /log, not stderr
        pass

    # ---- plumbing ----
    def send_json(self, code, body, extra=None):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def status(self, code, reason, message, extra=None):
        self.send_json(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "message": message, "reason": reason, "code": code}, extra)

    def authorized(self):
        want = open(self.server.token_file).read().strip()
        got = self.headers.get("Authorization", "")
        return got == "Bearer " + want

    # ---- routing ----
    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        self.server.log.append("GET %s %s" % (url.path, url.query))
        if not self.authorized():
            return self.status(401, "Unauthorized", "Unauthorized")
        if self.server.faults.take("throttle"):
            return self.status(429, "TooManyRequests", "slow down", {"Retry-After": "1"})
        if url.path == "/version":
            return self.send_json(200, {"major": "1", "minor": "32", "gitVersion": "v1.32.0-tapvault-test",
                                        "platform": "linux/amd64"})
        if url.path == "/api":
            return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                        "serverAddressByClientCIDRs": []})
        if url.path == "/apis":
            return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [{
                "name": "discovery.k8s.io",
                "versions": [{"groupVersion": "discovery.k8s.io/v1", "version": "v1"}],
                "preferredVersion": {"groupVersion": "discovery.k8s.io/v1", "version": "v1"}}]})
        if url.path in ("/api/v1", "/apis/discovery.k8s.io/v1"):
            return self.send_json(200, self.resource_list(url.path))
        parsed = self.parse_resource_path(url.path)
        if not parsed:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        (group, version, plural), ns, name = parsed
        if name:
            return self.get_one(RESOURCES[(group, version, plural)][0], ns, name)
        if q.get("watch") in ("1", "true"):
            return self.watch(group, version, plural, ns, q)
        return self.list(group, version, plural, ns, q)

    def resource_list(self, path):
        group = "" if path == "/api/v1" else "discovery.k8s.io"
        res = []
        for (g, v, plural), (kind, namespaced) in RESOURCES.items():
            if g == group:
                res.append({"name": plural, "singularName": kind.lower(), "namespaced": namespaced,
                            "kind": kind, "verbs": ["get", "list", "watch"],
                            "shortNames": SHORT_NAMES.get(plural, [])})
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": (group + "/v1") if group else "v1", "resources": res}

    def parse_resource_path(self, path):
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        ns = ""
        if len(rest) >= 3 and rest[0] == "namespaces":  # namespaces/NS/PLURAL[/NAME]
            ns, rest = rest[1], rest[2:]
        if not rest or (group, version, rest[0]) not in RESOURCES or len(rest) > 2:
            return None
        return (group, version, rest[0]), ns, rest[1] if len(rest) == 2 else ""

    def get_one(self, kind, ns, name):
        with self.server.store.lock:
            obj = self.server.store.objects.get((kind, ns, name))
            obj = copy.deepcopy(obj) if obj else None
        if not obj:
            return self.status(404, "NotFound", '%s "%s" not found' % (kind.lower(), name))
        return self.send_json(200, obj)

    def selectors(self, ns, q):
        fields = parse_selector(q.get("fieldSelector"), "field selector")
        if ns:
            fields.append(("metadata.namespace", ns))
        return fields, parse_selector(q.get("labelSelector"), "label selector")

    def list(self, group, version, plural, ns, q):
        kind = RESOURCES[(group, version, plural)][0]
        try:
            fields, labels = self.selectors(ns, q)
        except (ValueError, KeyError) as e:
            return self.status(400, "BadRequest", "bad selector: %s" % e)
        store = self.server.store
        token = q.get("continue")
        start_after, snap_rv = "", None
        if token:
            try:
                t = json.loads(base64.urlsafe_b64decode(token.encode()))
                start_after, snap_rv = t["after"], t["rv"]
            except Exception:
                return self.status(400, "BadRequest", "invalid continue token")
            if int(snap_rv) < store.oldest_rv:
                return self.status(410, "Expired", "The provided continue parameter is too old")
        with store.lock:
            items = sorted(((k[1], k[2]), o) for k, o in store.objects.items()
                           if k[0] == kind and matches(o, fields, labels))
            rv = snap_rv or str(store.rv)
        items = [(k, o) for k, o in items if "/".join(k) > start_after]
        limit = int(q.get("limit") or 0)
        meta = {"resourceVersion": rv}
        if limit and len(items) > limit:
            items = items[:limit]
            last = "/".join(items[-1][0])
            meta["continue"] = base64.urlsafe_b64encode(json.dumps({"after": last, "rv": rv}).encode()).decode()
            meta["remainingItemCount"] = 0
        body = {"kind": kind + "List", "apiVersion": (group + "/" + version) if group else version,
                "metadata": meta, "items": [copy.deepcopy(o) for _, o in items]}
        return self.send_json(200, body)

    # ---- watch ----
    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def event(self, etype, obj):
        self.chunk(json.dumps({"type": etype, "object": obj}).encode() + b"\n")

    def watch(self, group, version, plural, ns, q):
        kind = RESOURCES[(group, version, plural)][0]
        try:
            fields, labels = self.selectors(ns, q)
        except (ValueError, KeyError) as e:
            return self.status(400, "BadRequest", "bad selector: %s" % e)
        store = self.server.store
        rv_text = q.get("resourceVersion", "")
        timeout = min(float(q.get("timeoutSeconds") or 1800), 1800)
        bookmarks = q.get("allowWatchBookmarks") in ("1", "true")
        stall = self.server.faults.take("stall")
        cut = self.server.faults.take("cut")
        garbage = self.server.faults.take("garbage")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        end = time.monotonic() + timeout
        with store.lock:
            gen = store.expired_generation
            if rv_text in ("", "0"):
                # from "now", with the current objects as ADDED first (as the API server does)
                since = store.rv
                initial = [copy.deepcopy(o) for k, o in sorted(store.objects.items())
                           if k[0] == kind and matches(o, fields, labels)]
            else:
                try:
                    since = int(rv_text)
                except ValueError:
                    since = -1
                initial = []
            expired = since < store.oldest_rv
            # the first history entry after `since`: later wake-ups look only past it
            pos = store.base + next((i for i, h in enumerate(store.history) if h[0] > since), len(store.history))
        try:
            if expired:
                return self.gone(rv_text)
            for o in initial:
                self.event("ADDED", o)
            if garbage:
                # what a broken proxy or a newer server might send: not JSON, an
                # event without an object, an object of no known shape; then on
                for line in (b"this is not json {{{", b'{"type":"ADDED"}',
                             b'{"type":"ADDED","object":{"kind":"Pod","metadata":{"uid":"nameless"}}}',
                             b'{"type":"ADDED","object":{"kind":"Mystery","metadata":{"uid":"m1","name":"m"}}}'):
                    self.chunk(line + b"\n")
            if cut:
                # half an event, then the connection is dropped inside the chunk
                self.wfile.write(b"400\r\n{\"type\":\"ADDED\",\"obj")
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            last_bookmark = time.monotonic()
            while time.monotonic() < end:
                with store.lock:
                    if store.expired_generation != gen:
                        expired = True
                        pending = []
                    else:
                        if pos - store.base >= len(store.history):
                            store.lock.wait(0.5)
                        fresh = store.history[max(0, pos - store.base):]
                        pos = store.base + len(store.history)
                        pending = [(rv, et, o) for rv, k, et, o in fresh
                                   if rv > since and k == kind and matches(o, fields, labels)]
                    newest = store.rv
                if expired:
                    return self.gone(rv_text)
                if stall:
                    time.sleep(0.5)
                    continue
                for rv, et, o in pending:
                    self.event(et, o)
                    since = rv
                if bookmarks and time.monotonic() - last_bookmark > 1:
                    since = max(since, newest)
                    self.event("BOOKMARK", {"kind": kind, "apiVersion": (group + "/" + version) if group else version,
                                            "metadata": {"resourceVersion": str(since)}})
                    last_bookmark = time.monotonic()
            self.chunk(b"")
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            pass
        finally:
            self.close_connection = True

    def gone(self, rv_text):
        self.event("ERROR", {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                             "message": "too old resource version: %s" % rv_text,
                             "reason": "Expired", "code": 410})
        self.chunk(b"")
        self.close_connection = True


class Control(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, text):
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/log":
            return self.reply(200, "".join(line + "\n" for line in list(self.server.api.log)))
        self.reply(404, "no such control\n")

    def do_POST(self):
        url = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        api = self.server.api
        if url.path == "/objects":
            try:
                doc = json.loads(body)
                objs = doc["items"] if doc.get("kind", "").endswith("List") else [doc]
                out = [api.store.put(o)["metadata"]["resourceVersion"] for o in objs]
            except (ValueError, KeyError) as e:
                return self.reply(400, "bad object: %s\n" % e)
            return self.reply(200, " ".join(out) + "\n")
        name = url.path[len("/fault/"):] if url.path.startswith("/fault/") else ""
        if name == "expire":
            api.store.expire()
            return self.reply(200, "expired\n")
        if name in api.faults.counts:
            with api.faults.lock:
                api.faults.counts[name] += int(q.get("n", "1"))
            return self.reply(200, "%s armed\n" % name)
        self.reply(404, "no such control\n")

    def do_DELETE(self):
        parts = [p for p in self.path.split("/") if p]
        if len(parts) != 4 or parts[0] != "objects":
            return self.reply(404, "DELETE /objects/KIND/NS/NAME\n")
        kind, ns, name = parts[1], "" if parts[2] == "-" else parts[2], parts[3]
        obj = self.server.api.store.delete(kind, ns, name)
        self.reply(200 if obj else 404, "deleted\n" if obj else "not found\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--token-file", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--control-port", type=int, default=0)
    ap.add_argument("--objects", help="a JSON List or object to start with")
    ap.add_argument("--rv-start", type=int, default=1000,
                    help="first resourceVersion (a restarted server goes on from where it was)")
    a = ap.parse_args()

    api = ThreadingHTTPServer(("127.0.0.1", a.port), Api)
    api.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    # the handshake happens in each request's thread, not in accept()
    api.socket = ctx.wrap_socket(api.socket, server_side=True, do_handshake_on_connect=False)
    api.store, api.faults, api.log, api.token_file = Store(a.rv_start), Faults(), [], a.token_file
    if a.objects:
        doc = json.load(open(a.objects))
        for o in doc["items"] if doc.get("kind", "").endswith("List") else [doc]:
            api.store.put(o)
    control = ThreadingHTTPServer(("127.0.0.1", a.control_port), Control)
    control.daemon_threads = True
    control.api = api
    threading.Thread(target=control.serve_forever, daemon=True).start()
    print("control=%d api=%d" % (control.server_address[1], api.server_address[1]), flush=True)
    random.seed()
    api.serve_forever()


if __name__ == "__main__":
    main()
