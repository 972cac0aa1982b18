#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
# An OIDC identity provider as small as RGW's STS needs, playing the part of
# a cluster's service-account issuer (EKS IRSA): an RSA key and a
# self-signed certificate, the discovery document and the JWKS (with x5c, as
# RGW reads the key from the certificate), RS256 tokens for a
# service account. With Debian's python3-jwt and python3-cryptography.
#   oidc_provider.py setup DIR            prints OIDC_PORT= OIDC_ISSUER= (sh)
#   oidc_provider.py serve DIR            serves the discovery document and keys
#   oidc_provider.py register DIR STORE   the provider, a role trusting one
#                                         service account, its S3 policy (aws iam
#                                         on RGW); prints the role ARN
#   oidc_provider.py token DIR SUBJECT    a signed token for SUBJECT
import base64, datetime, hashlib, http.server, json, os, socket, subprocess, sys, time

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

AUDIENCE = "sts.amazonaws.com"  # what EKS puts in projected service-account tokens
REALM = "/realms/tapvault"


def b64url(n):
    return base64.urlsafe_b64encode(n.to_bytes((n.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()


def setup(d):
    os.makedirs(d, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tapvault test OIDC issuer")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30)).sign(key, hashes.SHA256()))
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    der = cert.public_bytes(serialization.Encoding.DER)
    pub = key.public_key().public_numbers()
    cfg = {"port": port, "issuer": f"http://localhost:{port}{REALM}",
           "thumbprint": hashlib.sha1(der).hexdigest().upper(),
           "jwk": {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "tapvault-test",
                   "n": b64url(pub.n), "e": b64url(pub.e), "x5c": [base64.b64encode(der).decode()]}}
    open(os.path.join(d, "key.pem"), "wb").write(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    json.dump(cfg, open(os.path.join(d, "provider.json"), "w"))
    print(f"OIDC_PORT={port}\nOIDC_ISSUER={cfg['issuer']}")


def load(d):
    return json.load(open(os.path.join(d, "provider.json")))


def serve(d):
    cfg = load(d)
    docs = {REALM + "/.well-known/openid-configuration":
            {"issuer": cfg["issuer"], "jwks_uri": cfg["issuer"] + "/protocol/openid-connect/certs",
             "id_token_signing_alg_values_supported": ["RS256"]},
            REALM + "/protocol/openid-connect/certs": {"keys": [cfg["jwk"]]}}

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            body = json.dumps(docs[self.path]).encode() if self.path in docs else b"{}"
            self.send_response(200 if self.path in docs else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    http.server.ThreadingHTTPServer(("127.0.0.1", cfg["port"]), H).serve_forever()


def aws(*args):
    r = subprocess.run(["/usr/bin/aws", "--endpoint-url", os.environ["AWS_ENDPOINT_URL_S3"], "--output", "json",
                        *args], capture_output=True, text=True, timeout=60)
    if r.returncode:
        sys.exit(f"aws {' '.join(args[:2])}: {r.stderr.strip()}")
    return json.loads(r.stdout) if r.stdout.strip() else {}


def register(d, store):
    cfg = load(d)
    host = cfg["issuer"].split("://", 1)[1]
    aws("iam", "create-open-id-connect-provider", "--url", cfg["issuer"], "--client-id-list", AUDIENCE,
        "--thumbprint-list", cfg["thumbprint"])
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": [f"arn:aws:iam:::oidc-provider/{host}"]},
        "Action": ["sts:AssumeRoleWithWebIdentity"],
        "Condition": {"StringEquals": {f"{host}:sub": "system:serviceaccount:tapvault:tapvault"}}}]}
    role = aws("iam", "create-role", "--role-name", f"tapvault-irsa-{os.getpid()}", "--path", "/",
               "--assume-role-policy-document", json.dumps(trust, separators=(",", ":")))["Role"]
    bucket = store[5:].split("/", 1)[0]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["s3:*"], "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}
    aws("iam", "put-role-policy", "--role-name", role["RoleName"], "--policy-name", "tapvault-store",
        "--policy-document", json.dumps(policy, separators=(",", ":")))
    print(role["Arn"])


def token(d, subject):
    cfg = load(d)
    now = int(time.time())
    claims = {"iss": cfg["issuer"], "sub": subject, "aud": AUDIENCE, "azp": AUDIENCE, "iat": now, "nbf": now,
              "exp": now + 3600, "kubernetes.io": {"serviceaccount": {"name": subject.rsplit(":", 1)[1]}}}
    key = open(os.path.join(d, "key.pem"), "rb").read()
    print(jwt.encode(claims, key, algorithm="RS256", headers={"kid": cfg["jwk"]["kid"]}))


if __name__ == "__main__":
    cmd, d = sys.argv[1], sys.argv[2]
    {"setup": lambda: setup(d), "serve": lambda: serve(d), "register": lambda: register(d, sys.argv[3]),
     "token": lambda: token(d, sys.argv[3])}[cmd]()
