#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
# A stand-in for the two credential endpoints no Debian package provides:
# the EKS Pod Identity agent (container credentials: GET with the pod's
# token in Authorization) and EC2's IMDSv2 (PUT a session token, then GET
# the role and its keys with it), speaking their documented HTTP. The keys
# it hands out are real ones of the test's RGW user, so every S3 request
# made with them is checked by RGW. Each fetch is logged to LOG (one line:
# kind), so tests count renewals.
#   cred_endpoint.py PORT LOG TOKEN_FILE EXPIRES_IN_S
import datetime, http.server, json, os, sys

port, log, token_file, expires_in = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
AK, SK = os.environ["CRED_ACCESS_KEY"], os.environ["CRED_SECRET_KEY"]
ROLE = "tapvault-node"
imds_tokens = set()

def creds():
    exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in)
    return {"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": AK, "SecretAccessKey": SK,
            "Token": "", "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ")}

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="application/json"):
        b = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)

    def note(self, kind):
        with open(log, "a") as f:
            f.write(kind + "\n")

    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            t = os.urandom(16).hex()
            imds_tokens.add(t)
            return self.reply(200, t, "text/plain")
        self.reply(400, "bad token request", "text/plain")

    def do_GET(self):
        if self.path == "/pod-identity/credentials":
            want = open(token_file).read().strip()  # re-read: the test rotates it
            if self.headers.get("Authorization") != want:
                return self.reply(401, '{"Message":"bad token"}')
            self.note("container")
            return self.reply(200, json.dumps(creds()))
        if self.path.startswith("/latest/meta-data/iam/security-credentials/"):
            if self.headers.get("X-aws-ec2-metadata-token") not in imds_tokens:
                return self.reply(401, "", "text/plain")  # IMDSv2 only: no token, no answer
            role = self.path.rsplit("/", 1)[1]
            if not role:
                return self.reply(200, ROLE, "text/plain")
            if role != ROLE:
                return self.reply(404, "", "text/plain")
            self.note("imds")
            return self.reply(200, json.dumps(creds()))
        self.reply(404, "", "text/plain")

http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
