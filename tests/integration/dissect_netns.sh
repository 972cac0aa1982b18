#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tapvault dissect on real traffic between two namespaces: curl <-> nginx
# (keep-alive, POST with a body, Expect: 100-continue, HEAD, 404, gzip,
# HTTP/1.0), a port nginx also serves HTTP on (detection by content), dig <->
# dnsmasq (UDP, TCP, NXDOMAIN), redis-cli <-> redis-server (commands,
# pipelining, an error reply). tcpdump records it; the entries are checked
# field by field against what the clients did, HTTP/1 and DNS against
# tshark's dissection, Redis against the server's own MONITOR stream (tshark
# 4.0 has no RESP dissector). Then the same capture goes through a store
# (import, dissect --store) and gives the same entries.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/common.sh"
TV=$(realpath "${1:?usage: $0 path/to/tapvault}")
need_root
need_cmd ip nginx curl tcpdump dig dnsmasq redis-server redis-cli python3 nghttpd nghttpx
# Debian's python3 (with python3-grpcio), not whatever python3 comes first in PATH
PY3=/usr/bin/python3
$PY3 -c 'import grpc' 2>/dev/null || fail "python3-grpcio missing: run scripts/install-deps.sh"
tv_tmpdir
cd "$TV_TMP"
C=tvdc$$ S=tvds$$
netns_pair "$C" "$S" 10.216.0.1 10.216.0.2
mkdir -p www
echo hello > www/index.html
head -c 2500000 /dev/urandom > www/blob.bin
python3 -c "import json; print(json.dumps([{'id': i, 'name': 'item %d' % i} for i in range(3000)]))" > www/items.json
# also on an unusual port, to show detection does not go by port
start_nginx "$S" "$TV_TMP" 10.216.0.2 80 5432
bg ip netns exec "$S" dnsmasq --no-daemon --no-resolv --no-hosts --listen-address=10.216.0.2 --bind-interfaces \
    --address=/svc.test/10.9.8.7 --pid-file="$TV_TMP/dnsmasq.pid" -q 2>dnsmasq.log
bg ip netns exec "$S" redis-server --bind 10.216.0.2 --port 6379 --save "" --appendonly no --dir "$TV_TMP" \
    --protected-mode no >redis.log 2>&1
wait_for 10 ip netns exec "$C" redis-cli -h 10.216.0.2 ping || fail "redis-server did not start"
# pushes items.json with index.html (curl refuses pushes; nghttp takes them)
bg ip netns exec "$S" nghttpd --no-tls -a 10.216.0.2 -d "$TV_TMP/www" --push=/index.html=/items.json 8080 \
    >nghttpd.log 2>&1
# nghttpd does not take `Upgrade: h2c`; nghttpx in front of nginx does
: >nghttpx.conf
bg ip netns exec "$S" nghttpx --frontend='10.216.0.2,8081;no-tls' --backend='10.216.0.2,80' --single-process \
    --conf="$TV_TMP/nghttpx.conf" --errorlog-file="$TV_TMP/nghttpx.log" >nghttpx.out 2>&1
bg ip netns exec "$S" env -u http_proxy -u https_proxy $PY3 "$HERE/../lib/grpc_echo.py" server 10.216.0.2:50051 >grpc.log 2>&1
wait_for 10 ip netns exec "$C" bash -c "exec 3<>/dev/tcp/10.216.0.2/8080" || fail "nghttpd did not start"
# a real request: the port opens before nghttpx's worker serves it
wait_for 10 ip netns exec "$C" curl -sf -o /dev/null http://10.216.0.2:8081/index.html || fail "nghttpx did not start"
wait_for 20 ip netns exec "$C" bash -c "exec 3<>/dev/tcp/10.216.0.2/50051" || fail "gRPC server did not start: $(cat grpc.log)"
start_tcpdump "$S" veth-b cap.pcap --immediate-mode -B 65536 # 64 MiB: no drops on 2.5 MB bursts
# Wireshark 4.0 has no RESP dissector: the reference for Redis is the server's
# own MONITOR stream, read over the server namespace's loopback (not captured)
bg ip netns exec "$S" redis-cli -h 10.216.0.2 monitor >monitor.txt 2>&1
MONITOR_PID=$BG_PID
wait_for 10 grep -q OK monitor.txt || fail "redis MONITOR did not start: $(cat monitor.txt)"

note "traffic"
cc() { ip netns exec "$C" "$@"; }
cc curl -sf -o /dev/null -o /dev/null http://10.216.0.2/index.html http://10.216.0.2/items.json || fail curl
cc curl -sf -o /dev/null --compressed http://10.216.0.2/items.json || fail "curl gzip"
cc curl -s -o /dev/null http://10.216.0.2/missing
cc curl -s -o /dev/null http://10.216.0.2/boom
cc curl -sf -o /dev/null http://10.216.0.2/blob.bin || fail "curl large body"
cc curl -sf -o /dev/null -I http://10.216.0.2/index.html || fail "curl HEAD"
cc curl -sf -o /dev/null -H 'Expect: 100-continue' --data-binary @www/items.json http://10.216.0.2/echo || fail "curl POST"
cc curl -sf -o /dev/null -0 http://10.216.0.2/index.html || fail "curl HTTP/1.0"
cc curl -sf -o /dev/null http://10.216.0.2:5432/index.html || fail "curl odd port"
[ "$(cc dig +short @10.216.0.2 a.svc.test)" = 10.9.8.7 ] || fail "dig UDP"
[ "$(cc dig +short +tcp @10.216.0.2 b.svc.test)" = 10.9.8.7 ] || fail "dig TCP"
cc dig @10.216.0.2 nothing.invalid >/dev/null
cc redis-cli -h 10.216.0.2 set greeting hello >/dev/null
cc redis-cli -h 10.216.0.2 get greeting >/dev/null
cc redis-cli -h 10.216.0.2 incr greeting >/dev/null  # an error reply: not an integer
printf 'SET k1 v1\r\nGET k1\r\nLPUSH l a b c\r\nLRANGE l 0 -1\r\n' | cc redis-cli -h 10.216.0.2 --pipe >/dev/null 2>&1
printf 'MULTI\r\nSET t 1\r\nINCR t\r\nEXEC\r\n' | cc redis-cli -h 10.216.0.2 --pipe >/dev/null 2>&1
cc curl -sf -o /dev/null --http2-prior-knowledge http://10.216.0.2:8080/items.json || fail "curl h2c prior knowledge"
cc nghttp -n http://10.216.0.2:8080/index.html || fail "nghttp with a server push"
# a small body: curl 7.88 fails (error 16) when more than 32 KiB follow a 101
cc curl -sf -o /dev/null --http2 http://10.216.0.2:8081/index.html || fail "curl h2c Upgrade"
# nginx's gzip through nghttpx: a compressed HTTP/2 body (about 14 KB: under curl's 32 KiB after a 101)
cc curl -sf -o /dev/null --http2 --compressed http://10.216.0.2:8081/items.json || fail "curl h2c Upgrade, gzip"
cc env -u http_proxy -u https_proxy $PY3 "$HERE/../lib/grpc_echo.py" client 10.216.0.2:50051 || fail "gRPC client"
sleep 0.5
stop_pid "$TCPDUMP_PID"
kill "$MONITOR_PID" 2>/dev/null; wait "$MONITOR_PID" 2>/dev/null

note "dissect the capture"
"$TV" dissect --pcap cap.pcap -o entries.jsonl --stats || fail "dissect"
python3 - entries.jsonl <<'PY' || fail "entries do not match the traffic"
import json, sys
E = [json.loads(l) for l in open(sys.argv[1])]
by = lambda p: [e for e in E if e["protocol"]["name"] == p]
h2 = [e for e in by("http") if e["protocol"]["version"] == "2"]
http = [e for e in by("http") if e["protocol"]["version"] != "2"]
dns, redis, grpcs = by("dns"), by("redis"), by("grpc")
def need(cond, what):
    if not cond:
        raise SystemExit(f"FAIL: {what}")
for e in E:
    for k in ("id", "index", "stream", "node", "protocol", "src", "dst", "outgoing", "request", "response",
              "requestSize", "responseSize", "startTime", "timestamp", "elapsedTime", "failed", "error", "tls"):
        need(k in e, f"field {k} missing in {e['id']}")
need(len({e["id"] for e in E}) == len(E), "ids are not unique")
paths = [(e["request"]["method"], e["request"]["path"], e["response"]["status"]) for e in http]
print("http:", paths)
for want in [("GET", "/index.html", 200), ("GET", "/items.json", 200), ("GET", "/missing", 404),
             ("HEAD", "/index.html", 200), ("POST", "/echo", 200)]:
    need(want in paths, f"no HTTP entry {want}")
need(len(http) == 10, f"10 HTTP/1 exchanges expected, got {len(http)}")
boom = [e for e in http if e["request"]["path"] == "/boom"][0]
need(boom["response"]["status"] == 500 and boom["failed"] and boom["response"]["content"]["text"] == "boom\n", "500")
blob = [e for e in http if e["request"]["path"] == "/blob.bin"][0]
c = blob["response"]["content"]
need(blob["response"]["bodySize"] == 2500000 and c.get("encoding") == "base64" and c.get("truncated"), "large binary body: capped, base64")
ka = [e for e in http if e["request"]["path"] in ("/index.html", "/items.json") and e["index"] == 1]
need(ka, "the keep-alive connection's second request is not index 1")
items = json.dumps([{'id': i, 'name': 'item %d' % i} for i in range(3000)]).replace(", ", ", ")
gz = [e for e in http if any(h["name"].lower() == "content-encoding" and h["value"] == "gzip" for h in e["response"]["headers"])]
chunked = [e for e in gz if any(h["name"].lower() == "transfer-encoding" and h["value"] == "chunked" for h in e["response"]["headers"])]
need(chunked, "the gzip response was expected chunked")
need(gz, "no gzip response")
need(json.loads(gz[0]["response"]["content"]["text"])[2999]["id"] == 2999, "gzip body not decoded")
plain = [e for e in http if e["request"]["path"] == "/items.json" and e not in gz][0]
need(len(json.loads(plain["response"]["content"]["text"])) == 3000, "JSON body not whole")
post = [e for e in http if e["request"]["method"] == "POST"][0]
need(post["request"]["bodySize"] == len(open("www/items.json", "rb").read()), "POST body size")
need(post["response"]["content"]["text"] == "ok\n", "POST response body")
head = [e for e in http if e["request"]["method"] == "HEAD"][0]
need(head["response"]["bodySize"] == 0, "HEAD response has a body")
need([e for e in http if e["request"]["path"] == "/missing"][0]["failed"], "404 not failed")
need([e for e in http if e["request"]["httpVersion"] == "HTTP/1.0"], "no HTTP/1.0 request")
need([e for e in http if e["dst"]["port"] == 5432], "HTTP on port 5432 not detected")
need(all(e["elapsedTime"] >= 0 and e["response"] for e in http), "an HTTP entry without response")
q = {(e["request"]["questions"][0]["name"], e["protocol"]["version"]): e for e in dns}
print("dns:", sorted(q))
need(q[("a.svc.test", "udp")]["response"]["answers"][0]["data"] == "10.9.8.7", "DNS UDP answer")
need(q[("b.svc.test", "tcp")]["response"]["answers"][0]["data"] == "10.9.8.7", "DNS TCP answer")
nx = q[("nothing.invalid", "udp")]["response"]["rcode"]
need(nx in ("NXDOMAIN", "REFUSED"), f"NXDOMAIN rcode {nx}")
cmds = [(e["request"]["command"].upper(), e["request"]["args"], e["response"]["type"], e["response"]["value"]) for e in redis]
print("redis:", cmds)
for want in [("SET", ["greeting", "hello"], "simple", "OK"), ("GET", ["greeting"], "bulk", "hello"),
             ("SET", ["k1", "v1"], "simple", "OK"), ("GET", ["k1"], "bulk", "v1"),
             ("LPUSH", ["l", "a", "b", "c"], "integer", 3), ("LRANGE", ["l", "0", "-1"], "array", ["c", "b", "a"])]:
    need(want in cmds, f"no Redis entry {want}")
for want in [("MULTI", [], "simple", "OK"), ("SET", ["t", "1"], "simple", "QUEUED"), ("INCR", ["t"], "simple", "QUEUED"),
             ("EXEC", [], "array", ["OK", 2])]:
    need(want in cmds, f"no Redis transaction entry {want}")
err = [c for c in cmds if c[0] == "INCR"]
need(err and err[0][2] == "error" and "not an integer" in err[0][3], "Redis error reply")
need([e for e in redis if e["request"]["command"].upper() == "INCR"][0]["failed"], "Redis error not failed")
h2p = {(e["request"]["path"], e["dst"]["port"], bool(e["request"].get("pushPromise"))): e for e in h2}
print("http/2:", sorted(h2p))
need(len(h2) == 5, f"5 HTTP/2 exchanges expected, got {len(h2)}")
gz = h2p[("/items.json", 8081, False)]["response"]
need(any(h["name"] == "content-encoding" and h["value"] == "gzip" for h in gz["headers"]), "no gzip over HTTP/2")
need(len(json.loads(gz["content"]["text"])) == 3000 and gz["content"]["compression"] < gz["content"]["size"],
     "the HTTP/2 gzip body decoded")
push = h2p.get(("/items.json", 8080, True))
need(push and push["response"]["status"] == 200 and len(json.loads(push["response"]["content"]["text"])) == 3000
     and not push["failed"], "the pushed /items.json (PUSH_PROMISE request, response on the promised stream)")
pushed_by = h2p.get(("/index.html", 8080, False))
need(pushed_by and pushed_by["stream"] == push["stream"] and pushed_by["response"]["content"]["text"] == "hello\n",
     "the request the push came with")
pk = h2p[("/items.json", 8080, False)]
need(pk["response"]["status"] == 200 and len(json.loads(pk["response"]["content"]["text"])) == 3000, "h2c prior knowledge")
up = h2p[("/index.html", 8081, False)]
need(up["response"]["status"] == 200 and up["response"]["content"]["text"] == "hello\n", "h2c Upgrade: one transaction with the HTTP/2 response")
need(any(h["name"].lower() == "upgrade" for h in up["request"]["headers"]), "the upgraded request keeps its HTTP/1 headers")
need(up["request"]["method"] == "GET" and not up["failed"], "h2c Upgrade request")
g = {e["request"]["grpcMethod"]: e for e in grpcs}
print("grpc:", sorted(g))
need(g["Reverse"]["request"]["service"] == "demo.Echo", "gRPC service")
need(g["Reverse"]["response"]["grpcStatus"] == 0 and not g["Reverse"]["failed"], "gRPC OK status")
import base64
need(base64.b64decode(g["Reverse"]["request"]["messages"][0]["base64"]) == b"hello grpc", "gRPC request message")
zm = g["ReverseZip"]["request"]["messages"][0]
need(zm["compressed"] and base64.b64decode(zm["base64"]) == b"zip me " * 100 and zm["size"] == 700
     and zm["compressedSize"] < 100, f"gRPC gzip-compressed message decoded: {zm}")
need(base64.b64decode(g["Reverse"]["response"]["messages"][0]["base64"]) == b"cprg olleh", "gRPC response message")
need(g["Fail"]["response"]["grpcStatus"] == 5 and g["Fail"]["response"]["grpcMessage"] == "no such thing" and g["Fail"]["failed"], "gRPC error status")
print(f"PASS: {len(http)} HTTP/1, {len(h2)} HTTP/2, {len(grpcs)} gRPC, {len(dns)} DNS, {len(redis)} Redis entries as expected")
PY

note "agreement with redis-server's MONITOR (every command, in order per client)"
python3 - entries.jsonl monitor.txt <<'PY' || fail "Redis commands differ from what the server executed"
import base64, json, re, sys
def arg_bytes(a):
    return base64.b64decode(a["base64"]) if isinstance(a, dict) else a.encode()
ours = {}
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["protocol"]["name"] == "redis":
        r = e["request"]
        ours.setdefault(e["src"]["port"], []).append([r["command"].encode().upper()] + [arg_bytes(a) for a in r["args"]])
# 1700000000.123456 [0 10.216.0.1:45678] "SET" "greeting" "hello"  (C escapes inside quotes)
line_re = re.compile(r'^[0-9.]+ \[\d+ 10\.216\.0\.1:(\d+)\] (.*)$')
def unquote(s):
    return [bytes(m, "latin-1").decode("unicode_escape").encode("latin-1") for m in re.findall(r'"((?:[^"\\]|\\.)*)"', s)]
theirs = {}
for l in open(sys.argv[2], encoding="latin-1"):
    m = line_re.match(l.rstrip("\n"))
    if m:
        words = unquote(m.group(2))
        theirs.setdefault(int(m.group(1)), []).append([words[0].upper()] + words[1:])
if ours != theirs:
    raise SystemExit(f"FAIL: Redis commands differ:\n ours    {ours}\n MONITOR {theirs}")
print(f"redis-server's MONITOR agrees: {sum(map(len, ours.values()))} commands on {len(ours)} connections")
PY

note "HAR 1.2"
"$TV" dissect --pcap cap.pcap --format har -o entries.har || fail "dissect --format har"
python3 - entries.har <<'PY' || fail "HAR output"
import json, sys
log = json.load(open(sys.argv[1]))["log"]
assert log["version"] == "1.2" and log["creator"]["name"] == "tapvault", log.keys()
E = log["entries"]
assert len(E) == 15, f"{len(E)} HAR entries, expected the 15 HTTP/1 and HTTP/2 exchanges"
pushed = [e for e in E if e["request"].get("_pushPromise")]
assert len(pushed) == 1 and "pushPromise" not in pushed[0]["request"], "a pushed exchange in HAR: _pushPromise"
for e in E:
    for k in ("startedDateTime", "time", "request", "response", "cache", "timings"):
        assert k in e, k
    for k in ("method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"):
        assert k in e["request"], k
    for k in ("status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL", "headersSize", "bodySize"):
        assert k in e["response"], k
    assert e["request"]["url"].startswith("http://10.216.0.2"), e["request"]["url"]
post = [e for e in E if e["request"]["method"] == "POST"][0]
assert post["request"]["postData"]["text"].startswith("[{"), "POST body in HAR"
print(f"HAR: {len(E)} entries, valid shape")
PY

note "agreement with tshark's dissection of the same capture"
tshark -r cap.pcap -d tcp.port==5432,http -Y http.request -T fields -E separator='|' \
    -e frame.number -e http.request.method -e http.request.uri -e http.host >ts-req.txt 2>/dev/null || fail "tshark"
tshark -r cap.pcap -d tcp.port==5432,http -Y http.response -T fields -E separator='|' \
    -e http.request_in -e http.response.code -e http.content_length -e http.chunk_size >ts-resp.txt 2>/dev/null \
    || fail "tshark"
tshark -r cap.pcap -Y "dns.flags.response == 1" -T fields -E separator='|' \
    -e dns.qry.name -e dns.qry.type -e dns.flags.rcode >ts-dns.txt 2>/dev/null || fail "tshark"
python3 - entries.jsonl <<'PY' || fail "tapvault and tshark disagree"
import json, sys
E = [json.loads(l) for l in open(sys.argv[1])]
req = {}
for l in open("ts-req.txt"):
    f, m, uri, host = l.rstrip("\n").split("|")
    req[f] = (m, uri, host)
# tshark 4.0 does not link the answers to an `Expect: 100-continue` request
# (request_in is empty): give its unanswered requests the unlinked final
# answers in order. A 101 to `Upgrade: h2c` is, for tapvault, one HTTP/2
# transaction with the response that follows on stream 1: checked apart.
# The body size as sent: Content-Length, or the sum of the chunk sizes.
def body_size(length, chunks):
    return int(length) if length else sum(int(c) for c in chunks.split(",")) if chunks else 0
resp = [l.rstrip("\n").split("|") for l in open("ts-resp.txt")]
linked = {f: (int(code), body_size(n, ch)) for f, code, n, ch in resp if f}
unlinked = [(int(code), body_size(n, ch)) for f, code, n, ch in resp if not f and int(code) >= 200]
for f in sorted((f for f in req if f not in linked), key=int):
    linked[f] = unlinked.pop(0) if unlinked else (None, None)
# a HEAD response states the length of a body it does not carry
theirs = sorted(req[f] + (code, 0 if req[f][0] == "HEAD" else size)
                for f, (code, size) in linked.items() if code != 101)
upgrades = sorted(req[f][1] for f, (code, size) in linked.items() if code == 101)
h2_paths = sorted(e["request"]["path"] for e in E if e["protocol"]["version"] == "2" and e["protocol"]["name"] == "http"
                  and any(h["name"].lower() == "upgrade" for h in e["request"]["headers"]))
if upgrades != h2_paths:
    raise SystemExit(f"FAIL: h2c upgrades: tshark {upgrades}, ours {h2_paths}")
def host(e):
    return next((h["value"] for h in e["request"]["headers"] if h["name"].lower() == "host"), "")
ours = sorted((e["request"]["method"], e["request"]["path"], host(e), e["response"]["status"], e["response"]["bodySize"])
              for e in E if e["protocol"]["name"] == "http" and e["protocol"]["version"] != "2")
if ours != theirs:
    raise SystemExit(f"FAIL: HTTP/1 transactions differ:\n ours   {ours}\n tshark {theirs}")
types = {"A": 1, "AAAA": 28, "CNAME": 5, "MX": 15, "TXT": 16, "PTR": 12, "NS": 2, "SRV": 33}
rcodes = {"NOERROR": 0, "FORMERR": 1, "SERVFAIL": 2, "NXDOMAIN": 3, "NOTIMP": 4, "REFUSED": 5}
theirs_dns = sorted(tuple(l.rstrip("\n").split("|")) for l in open("ts-dns.txt"))
ours_dns = sorted((e["request"]["questions"][0]["name"], str(types[e["request"]["questions"][0]["type"]]),
                   str(rcodes[e["response"]["rcode"]])) for e in E if e["protocol"]["name"] == "dns")
if ours_dns != theirs_dns:
    raise SystemExit(f"FAIL: DNS transactions differ:\n ours   {ours_dns}\n tshark {theirs_dns}")
print(f"tshark agrees: {len(ours)} HTTP/1 transactions (method, path, host, status, body size), {len(ours_dns)} DNS (name, type, rcode)")
PY

note "reordered, duplicated and dropped segments"
summary() { # JSONL -> the pairs, without what depends on packet order
    python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    r, s = e["request"] or {}, e["response"] or {}
    c = s.get("content") or {}
    print(e["protocol"]["name"], e["stream"], r.get("method"), r.get("path"), r.get("command"), r.get("args"),
          s.get("status"), s.get("value"), s.get("rcode"), c.get("size"), len(c.get("text") or ""), e["error"])' "$1" | sort
}
summary entries.jsonl >orig.txt
for v in reorder duplicate; do
    python3 "$HERE/../lib/pcap_variants.py" cap.pcap "$v.pcap" "$v" || fail "variant $v"
    "$TV" dissect --pcap "$v.pcap" -o "$v.jsonl" || fail "dissect $v"
    # includes the h2c Upgrade on :8081, where reordering can deliver the
    # server's 101 before the request it answers
    summary "$v.jsonl" >"$v.txt"
    diff orig.txt "$v.txt" >/dev/null || fail "$v: entries differ from the original: $(diff orig.txt "$v.txt" | head -5)"
done
python3 "$HERE/../lib/pcap_variants.py" cap.pcap drop.pcap drop || fail "variant drop"
"$TV" dissect --pcap drop.pcap -o drop.jsonl --stats 2>drop.err || fail "dissect drop"
summary drop.jsonl >drop.txt
changed=$(diff orig.txt drop.txt | grep -c '^>' || true)
[ "$changed" -ge 1 ] && [ "$changed" -le 2 ] || fail "a dropped segment changed $changed entries: $(diff orig.txt drop.txt | head)"
diff orig.txt drop.txt | grep '^>' | grep -q "gap in the capture\|frames lost" || fail "the damaged entry does not say why: $(diff orig.txt drop.txt)"
grep -q " [1-9][0-9]* gaps" drop.err || fail "no gap counted: $(cat drop.err)"
note "reordered and duplicated: same entries; dropped: $changed entry marked, the rest unchanged"

note "the same through a store"
"$TV" import -q --store store --node n1 cap.pcap 2>/dev/null || fail import
"$TV" dissect --store store --from 0 --to now -o from-store.jsonl || fail "dissect --store"
python3 - entries.jsonl from-store.jsonl <<'PY' || fail "dissect --store differs from dissect --pcap"
import json, sys
strip = lambda e: {k: v for k, v in e.items() if k not in ("id", "node")}
a = [strip(json.loads(l)) for l in open(sys.argv[1])]
b = [strip(json.loads(l)) for l in open(sys.argv[2])]
if a != b:
    raise SystemExit(f"FAIL: {len(a)} vs {len(b)} entries, first difference at {next(i for i, (x, y) in enumerate(zip(a, b)) if x != y) if len(a) == len(b) else 'length'}")
print(f"store path: the same {len(b)} entries, node n1")
PY
grep -q '"node":"n1"' from-store.jsonl || fail "entries from the store do not name the node"
echo "PASS: dissect from a capture and from a store"
