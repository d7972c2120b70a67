"""Gateway end-to-end checks with an independent client (Python grpcio), per API.md.

Signing is implemented here from the API.md text, not with regsuite's C++ code, so the test
also checks that the contract is implementable as written.
"""
import base64
import hashlib
import hmac
import os
import secrets
import signal
import subprocess
import sys
import time

import grpc

from regsuite.credit.v1 import credit_pb2
from regsuite.licensing.v1 import licensing_pb2
from regsuite.gateway.v1 import admin_pb2

GATEWAY = os.environ["E2E_GATEWAY"]
WORK = os.environ["E2E_WORK"]
BIN = os.environ["E2E_BIN"]
CHECK_SUBJECT = "/regsuite.credit.v1.CreditService/CheckSubject"
VALID_USCC = "91350100M000100Y43"
failures = []
audited = 0  # calls this script makes that the gateway must audit


def secret_of(app_key):
    with open(os.path.join(WORK, app_key + ".secret")) as f:
        return f.read().strip()


def digest(method):
    return (lambda *a: hashlib.new("sm3", *a)) if method == "HMAC-SM3" else hashlib.sha256


def sign(app_key, path, body, method="HMAC-SHA256", secret=None, timestamp=None, nonce=None):
    timestamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(24)
    body_hash = digest(method)(body).hexdigest()
    to_sign = "\n".join(["POST", path, "", timestamp, nonce, body_hash]).encode()
    mac = hmac.new((secret or secret_of(app_key)).encode(), to_sign, digest(method)).digest()
    return [("x-app-key", app_key), ("x-timestamp", timestamp), ("x-nonce", nonce),
            ("x-signature-method", method), ("x-signature", base64.b64encode(mac).decode())]


channel = grpc.insecure_channel(GATEWAY)


def call(path, request_bytes, metadata, timeout=5):
    """Returns (code, message, initial metadata, trailing metadata)."""
    global audited
    audited += 1
    rpc = channel.unary_unary(path, request_serializer=None, response_deserializer=None)
    try:
        _, c = rpc.with_call(request_bytes, metadata=metadata, timeout=timeout)
        return grpc.StatusCode.OK, "", dict(c.initial_metadata()), dict(c.trailing_metadata())
    except grpc.RpcError as e:
        return e.code(), e.details(), dict(e.initial_metadata() or ()), dict(e.trailing_metadata() or ())


def check(name, condition, detail=""):
    print(("ok    " if condition else "FAIL  ") + name + ("" if condition else "  -- " + detail))
    if not condition:
        failures.append(name)


def subject_request(uscc=VALID_USCC):
    return credit_pb2.CheckSubjectRequest(uscc=uscc).SerializeToString()


PASSED_THROUGH = (grpc.StatusCode.OK,)

# 1. A valid signed gRPC call reaches the credit service; the answer comes back unchanged.
body = subject_request()
rpc = channel.unary_unary(CHECK_SUBJECT, request_serializer=None, response_deserializer=None)
try:
    audited += 1
    reply = credit_pb2.SubjectStatus.FromString(
        rpc(body, metadata=sign("e2e-sha", CHECK_SUBJECT, body), timeout=5))
    check("a call signed with HMAC-SHA256 reaches the credit service: an unknown valid USCC is NORMAL",
          reply.uscc == VALID_USCC and reply.tier == credit_pb2.CREDIT_TIER_NORMAL, str(reply))
except grpc.RpcError as e:
    check("a call signed with HMAC-SHA256 reaches the credit service: an unknown valid USCC is NORMAL",
          False, f"{e.code()} {e.details()}")
code, msg, initial, _ = call(CHECK_SUBJECT, body, sign("e2e-sha", CHECK_SUBJECT, body))
check("the response carries x-request-id", "x-request-id" in initial, str(initial))
bad = subject_request("913100007109242800")
code, msg, _, _ = call(CHECK_SUBJECT, bad, sign("e2e-sha", CHECK_SUBJECT, bad))
check("the backend's own status and message pass back unchanged (invalid USCC)",
      code == grpc.StatusCode.INVALID_ARGUMENT and msg.startswith("uscc:"), f"{code} {msg}")

# 2. 国密: HMAC-SM3 with SM3 body hash.
code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-sm3", CHECK_SUBJECT, body, method="HMAC-SM3"))
check("a call signed with HMAC-SM3 passes the gateway", code in PASSED_THROUGH, f"{code} {msg}")
code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-sm3", CHECK_SUBJECT, body, method="HMAC-SHA256"))
check("an SM3 client signing with SHA-256 is refused (no downgrade)",
      code == grpc.StatusCode.UNAUTHENTICATED, f"{code} {msg}")

# 3. Rejections.
code, msg, _, _ = call(CHECK_SUBJECT, body, [])
check("no signature -> UNAUTHENTICATED", code == grpc.StatusCode.UNAUTHENTICATED, f"{code} {msg}")
code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-sha", CHECK_SUBJECT, body, secret="wrong-secret"))
check("wrong secret -> UNAUTHENTICATED", code == grpc.StatusCode.UNAUTHENTICATED, f"{code} {msg}")
other = subject_request("91110000802100433B")
code, msg, _, _ = call(CHECK_SUBJECT, other, sign("e2e-sha", CHECK_SUBJECT, body))
check("body changed after signing -> UNAUTHENTICATED", code == grpc.StatusCode.UNAUTHENTICATED,
      f"{code} {msg}")
code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-sha", CHECK_SUBJECT, body, timestamp=int(time.time()) - 301))
check("timestamp 301 s old -> UNAUTHENTICATED", code == grpc.StatusCode.UNAUTHENTICATED and
      "x-timestamp" in msg, f"{code} {msg}")
md = sign("e2e-sha", CHECK_SUBJECT, body)
first, _, _, _ = call(CHECK_SUBJECT, body, md)
code, msg, _, _ = call(CHECK_SUBJECT, body, md)
check("reused nonce -> UNAUTHENTICATED", first in PASSED_THROUGH and
      code == grpc.StatusCode.UNAUTHENTICATED and "x-nonce" in msg, f"{first} then {code} {msg}")
code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-narrow", CHECK_SUBJECT, body))
check("method not allowed for the client -> PERMISSION_DENIED",
      code == grpc.StatusCode.PERMISSION_DENIED, f"{code} {msg}")
code, msg, _, _ = call(CHECK_SUBJECT, body, sign("nobody", CHECK_SUBJECT, body, secret="x"))
check("unknown client -> UNAUTHENTICATED", code == grpc.StatusCode.UNAUTHENTICATED, f"{code} {msg}")

subprocess.run([os.path.join(BIN, "regctl"), "client", "disable", "e2e-off"], check=True,
               stdout=subprocess.DEVNULL)
deadline = time.time() + 5
while True:
    code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-off", CHECK_SUBJECT, body))
    if code == grpc.StatusCode.UNAUTHENTICATED or time.time() > deadline:
        break
    time.sleep(0.1)
check("disabled client -> UNAUTHENTICATED (registry refreshed without restart)",
      code == grpc.StatusCode.UNAUTHENTICATED, f"{code} {msg}")

# 4. Anonymous access only to public methods.
verify_path = "/regsuite.licensing.v1.LicensingService/VerifyCertificate"
req = licensing_pb2.VerifyCertificateRequest(certificate_no="X", verification_code="Y").SerializeToString()
code, msg, _, _ = call(verify_path, req, [])
check("anonymous VerifyCertificate passes auth (public method); with no licensing backend here it is UNAVAILABLE",
      code == grpc.StatusCode.UNAVAILABLE, f"{code} {msg}")
code, msg, _, _ = call(CHECK_SUBJECT, body, [])
check("anonymous call to a non-public method -> UNAUTHENTICATED", code == grpc.StatusCode.UNAUTHENTICATED, f"{code} {msg}")

# 5. Rate limit: rate 1/s, burst 2 -> the third call at once is refused with retry-after.
codes = []
retry_after = None
for _ in range(4):
    code, msg, _, trailing = call(CHECK_SUBJECT, body, sign("e2e-slow", CHECK_SUBJECT, body))
    codes.append(code)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        retry_after = trailing.get("retry-after")
check("over quota -> RESOURCE_EXHAUSTED with retry-after",
      grpc.StatusCode.RESOURCE_EXHAUSTED in codes and retry_after is not None and int(retry_after) >= 1,
      f"{codes} retry-after={retry_after}")

# 5b. GatewayAdmin through the gateway: allowed for the operator client, denied otherwise.
list_path = "/regsuite.gateway.v1.GatewayAdmin/ListClients"
req = admin_pb2.ListClientsRequest().SerializeToString()
rpc = channel.unary_unary(list_path, request_serializer=None, response_deserializer=None)
try:
    audited += 1
    reply = admin_pb2.ListClientsResponse.FromString(rpc(req, metadata=sign("e2e-admin", list_path, req), timeout=5))
    keys = sorted(c.app_key for c in reply.clients)
    check("GatewayAdmin.ListClients through the gateway lists the clients",
          "e2e-sha" in keys and "e2e-admin" in keys, str(keys))
except grpc.RpcError as e:
    check("GatewayAdmin.ListClients through the gateway lists the clients", False, f"{e.code()} {e.details()}")
code, msg, _, _ = call(list_path, req, sign("e2e-sha", list_path, req))
check("GatewayAdmin is denied to a client without access", code == grpc.StatusCode.PERMISSION_DENIED, f"{code} {msg}")

# 5c. HTTP/JSON ingress, driven with curl.
HTTP = os.environ["E2E_GATEWAY_HTTP"]
import json


def http_sign(app_key, method, path, query="", body=b"", sig_method="HMAC-SHA256"):
    ts, nonce = str(int(time.time())), secrets.token_urlsafe(24)
    sts = "\n".join([method, path, query, ts, nonce, digest(sig_method)(body).hexdigest()]).encode()
    mac = hmac.new(secret_of(app_key).encode(), sts, digest(sig_method)).digest()
    return {"x-app-key": app_key, "x-timestamp": ts, "x-nonce": nonce,
            "x-signature-method": sig_method, "x-signature": base64.b64encode(mac).decode()}


def curl(method, path, headers=None, body=None):
    global audited
    if path not in ("/healthz", "/metrics"):
        audited += 1
    cmd = ["curl", "-sS", "-X", method, "-o", "-", "-D", os.path.join(WORK, "headers.txt"),
           "-w", "\n%{http_code}", f"http://{HTTP}{path}"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    if body is not None:
        cmd += ["-H", "content-type: application/json", "--data-binary", "@-"]
    out = subprocess.run(cmd, input=body, capture_output=True, check=True).stdout.decode()
    text, _, status = out.rpartition("\n")
    with open(os.path.join(WORK, "headers.txt")) as f:
        hdrs = {line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip()
                for line in f.read().splitlines() if ":" in line}
    try:
        return int(status), json.loads(text) if text else None, hdrs
    except json.JSONDecodeError:
        return int(status), text, hdrs


path = f"/v1/credit/subjects/{VALID_USCC}"
status, doc, hdrs = curl("GET", path, http_sign("e2e-sha", "GET", path))
check("HTTP: a signed GET is transcoded, answered in camelCase JSON, with x-request-id",
      status == 200 and isinstance(doc, dict) and doc.get("tier") == "CREDIT_TIER_NORMAL" and
      "x-request-id" in hdrs, f"{status} {doc}")
batch_body = json.dumps({"usccs": [VALID_USCC, "91110000802100433B"]}).encode()
status, doc, _ = curl("POST", "/v1/credit/subjects:batchCheck",
                      http_sign("e2e-sm3", "POST", "/v1/credit/subjects:batchCheck", body=batch_body,
                                sig_method="HMAC-SM3"), batch_body)
check("HTTP: a POST signed with HMAC-SM3 returns statuses in request order",
      status == 200 and [x.get("uscc") for x in doc.get("statuses", [])] == [VALID_USCC, "91110000802100433B"],
      f"{status} {doc}")
bad_path = "/v1/credit/subjects/913100007109242800"
status, doc, _ = curl("GET", bad_path, http_sign("e2e-sha", "GET", bad_path))
check("HTTP: an invalid USCC is 400 INVALID_ARGUMENT with details naming the field",
      status == 400 and doc["error"]["status"] == "INVALID_ARGUMENT" and
      doc["error"]["details"][0]["field"] == "uscc" and doc["error"].get("requestId"), f"{status} {doc}")
status, doc, _ = curl("GET", path)
check("HTTP: unsigned call to a non-public method is 401 in the error shape",
      status == 401 and doc["error"]["status"] == "UNAUTHENTICATED", f"{status} {doc}")
status, doc, _ = curl("GET", "/v1/credit/nothing-here")
check("HTTP: unknown route is 404 in the error shape",
      status == 404 and doc["error"]["code"] == 404 and doc["error"]["status"] == "NOT_FOUND", f"{status} {doc}")
status, doc, _ = curl("DELETE", path)
check("HTTP: wrong method is 405 in the error shape", status == 405 and doc["error"]["code"] == 405, f"{status} {doc}")
status, doc, _ = curl("POST", "/v1/credit/subjects:batchCheck", {}, b"{not json")
check("HTTP: bad JSON is 400 in the error shape", status == 400 and doc["error"]["status"] == "INVALID_ARGUMENT",
      f"{status} {doc}")
status, doc, _ = curl("POST", "/v1/credit/subjects:batchCheck", {}, b'{"usccs":["' + b"9" * 5000 + b'"]}')
check("HTTP: a body over the limit is 413 in the error shape", status == 413 and doc["error"]["code"] == 413,
      f"{status} {doc}")
status, doc, _ = curl("GET", "/healthz")
check("HTTP: /healthz answers without credentials", status == 200, f"{status} {doc}")
status, text, _ = curl("GET", "/metrics")
check("HTTP: /metrics exposes gateway request counters and auth failures",
      status == 200 and "regsuite_gateway_requests_total" in text and
      "regsuite_gateway_auth_failures_total" in text, f"{status}")

# 5c. Server streaming, through the echo backend (bench/gateway/echo_backend.cc): each message
# is forwarded as it arrives; headers, status and trailers come back unchanged.
COUNT = "/regsuite.bench.v1.Bench/Count"


def stream_call(request_bytes, metadata, timeout=10):
    """Returns (messages, code, message, initial metadata, trailing metadata)."""
    global audited
    audited += 1
    rpc = channel.unary_stream(COUNT, request_serializer=None, response_deserializer=None)
    responses = rpc(request_bytes, metadata=metadata, timeout=timeout)
    received = []
    try:
        for m in responses:
            received.append(m)
    except grpc.RpcError:
        pass
    return (received, responses.code(), responses.details(), dict(responses.initial_metadata() or ()),
            dict(responses.trailing_metadata() or ()))


msgs, code, msg, initial, trailing = stream_call(b"5", sign("e2e-stream", COUNT, b"5"))
check("server streaming: every message in order, OK, backend headers and trailers passed back",
      code == grpc.StatusCode.OK and msgs == [b"message %d" % i for i in range(1, 6)] and
      initial.get("x-backend") == "echo" and "x-request-id" in initial and
      trailing.get("x-stream-count") == "5" and trailing.get("x-seen-caller") == "e2e-stream",
      f"{code} {msg} {msgs} {initial} {trailing}")
msgs, code, msg, _, trailing = stream_call(b"3!", sign("e2e-stream", COUNT, b"3!"))
check("server streaming: messages sent before a backend error arrive, then the backend's status",
      len(msgs) == 3 and code == grpc.StatusCode.ABORTED and msg == "stopped after 3" and
      trailing.get("x-stream-count") == "3", f"{len(msgs)} {code} {msg} {trailing}")
msgs, code, msg, _, _ = stream_call(b"20000", sign("e2e-stream", COUNT, b"20000"), timeout=60)
check("server streaming: a 20000-message stream arrives whole and in order (flow-controlled)",
      code == grpc.StatusCode.OK and len(msgs) == 20000 and msgs[-1] == b"message 20000" and
      all(m == b"message %d" % (i + 1) for i, m in enumerate(msgs)), f"{len(msgs)} {code} {msg}")
msgs, code, msg, _, _ = stream_call(b"5", [])
check("server streaming: an unsigned call is refused UNAUTHENTICATED before any message",
      msgs == [] and code == grpc.StatusCode.UNAUTHENTICATED, f"{msgs} {code} {msg}")

# 5f. Secret rotation: with a grace period the previous secret keeps working beside the new one;
# with 0s it is revoked at once.
def rotate(app_key, grace):
    out = os.path.join(WORK, app_key + ".secret.new")
    r = subprocess.run([os.path.join(BIN, "regctl"), "client", "rotate", app_key, "--grace", grace,
                        "--secret-out", out], capture_output=True, text=True)
    with open(out) as f:
        return r, f.read().strip()


def signed_ok_within(app_key, secret, seconds=5):
    """Polls (the registry refreshes every 200 ms here) until a call signed with `secret` passes."""
    deadline = time.time() + seconds
    while True:
        code, msg, _, _ = call(CHECK_SUBJECT, body, sign(app_key, CHECK_SUBJECT, body, secret=secret))
        if code == grpc.StatusCode.OK or time.time() > deadline:
            return code, msg
        time.sleep(0.1)


old = secret_of("e2e-rot")
r, new = rotate("e2e-rot", "1h")
code_new, msg_new = signed_ok_within("e2e-rot", new)
code_old, msg_old, _, _ = call(CHECK_SUBJECT, body, sign("e2e-rot", CHECK_SUBJECT, body, secret=old))
check("rotate --grace 1h: the new secret works and the previous one still does",
      r.returncode == 0 and "previous secret valid until" in r.stdout and new != old and
      code_new == grpc.StatusCode.OK and code_old == grpc.StatusCode.OK,
      f"{r.stdout}{r.stderr} new={code_new} {msg_new} old={code_old} {msg_old}")
old = secret_of("e2e-rot0")
r, new = rotate("e2e-rot0", "0s")
code_new, msg_new = signed_ok_within("e2e-rot0", new)
code_old, msg_old, _, _ = call(CHECK_SUBJECT, body, sign("e2e-rot0", CHECK_SUBJECT, body, secret=old))
check("rotate --grace 0s: the previous secret is refused at once (UNAUTHENTICATED)",
      r.returncode == 0 and code_new == grpc.StatusCode.OK and code_old == grpc.StatusCode.UNAUTHENTICATED,
      f"{r.stdout}{r.stderr} new={code_new} {msg_new} old={code_old} {msg_old}")

# 5g. Mutual TLS: a registered client certificate authenticates without signature headers.
TLS = os.environ["E2E_GATEWAY_TLS"]
ECHO = "/regsuite.bench.v1.Bench/Echo"


def read(name):
    with open(os.path.join(WORK, "tls", name), "rb") as f:
        return f.read()


def tls_call(client, path, request_bytes, metadata=(), audit=True):
    global audited
    audited += 1 if audit else 0
    creds = grpc.ssl_channel_credentials(
        root_certificates=read("ca.pem"),
        private_key=read(client + ".key") if client else None,
        certificate_chain=read(client + ".pem") if client else None)
    with grpc.secure_channel(TLS, creds, options=[("grpc.ssl_target_name_override", "localhost")]) as ch:
        rpc = ch.unary_unary(path, request_serializer=None, response_deserializer=None)
        try:
            reply, c = rpc.with_call(request_bytes, metadata=list(metadata), timeout=5)
            return grpc.StatusCode.OK, reply, dict(c.trailing_metadata())
        except grpc.RpcError as e:
            return e.code(), e.details(), dict(e.trailing_metadata() or ())


code, reply, trailing = tls_call("registered", ECHO, b"over mtls")
check("mTLS: a registered client certificate authenticates without signature headers",
      code == grpc.StatusCode.OK and reply == b"over mtls" and trailing.get("x-seen-caller") == "e2e-mtls",
      f"{code} {reply} {trailing}")
code, reply, _ = tls_call("registered", CHECK_SUBJECT, body)
check("mTLS: the certificate's client is held to its own access list (credit not granted)",
      code == grpc.StatusCode.PERMISSION_DENIED, f"{code} {reply}")
code, reply, _ = tls_call("unknown", ECHO, b"x")
check("mTLS: a certificate from the trusted CA but registered to no client -> UNAUTHENTICATED",
      code == grpc.StatusCode.UNAUTHENTICATED and "not registered" in reply, f"{code} {reply}")
code, reply, _ = tls_call("rogue", ECHO, b"x", audit=False)
check("mTLS: a certificate from another CA is refused in the handshake", code == grpc.StatusCode.UNAVAILABLE,
      f"{code} {reply}")
code, reply, _ = tls_call(None, ECHO, b"x", audit=False)
check("mTLS (tls.client_cert = require): no client certificate is refused in the handshake",
      code == grpc.StatusCode.UNAVAILABLE, f"{code} {reply}")

# 5d. A deadline the call cannot meet comes back as DEADLINE_EXCEEDED, not a hang.
# The echo backend's Sleep answers after the given milliseconds; Echo reports the deadline it got.
SLEEP = "/regsuite.bench.v1.Bench/Sleep"
started = time.time()
code, msg, _, _ = call(SLEEP, b"3000", sign("e2e-stream", SLEEP, b"3000"), timeout=0.3)
elapsed = time.time() - started
check("a deadline the backend cannot meet -> DEADLINE_EXCEEDED at the deadline, not after the backend",
      code == grpc.StatusCode.DEADLINE_EXCEEDED and elapsed < 2.5, f"{code} {msg} after {elapsed:.2f}s")
# A caller that cancels while the backend is still working: the gateway cancels its backend
# call at once (the audit row says CANCELLED after well under the backend's 3 s).
cancel_id = "e2e-cancel-" + secrets.token_hex(6)
audited += 1
sleeper = channel.unary_unary(SLEEP, request_serializer=None, response_deserializer=None)
future = sleeper.future(b"3000", metadata=sign("e2e-stream", SLEEP, b"3000") + [("x-request-id", cancel_id)],
                        timeout=10)
time.sleep(0.3)
future.cancel()
ECHO_PATH = "/regsuite.bench.v1.Bench/Echo"
code, msg, _, trailing = call(ECHO_PATH, b"x", sign("e2e-stream", ECHO_PATH, b"x"), timeout=4)
left = int(trailing.get("x-deadline-ms", "-1"))
check("the caller's deadline is propagated to the backend (not the 30 s default)",
      code == grpc.StatusCode.OK and 0 < left <= 4100, f"{code} {msg} {trailing}")  # grpc-timeout rounds up

# 5e. Redis stopped during traffic: replay protection fails closed (UNAVAILABLE, no crash),
# public anonymous calls still answered by the local limiter; all recovers when Redis returns.
subprocess.run(os.environ["REGSUITE_TEST_REDIS_STOP_CMD"], shell=True, check=True,
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-sha", CHECK_SUBJECT, body))
    check("Redis down: a signed call is refused UNAVAILABLE (replay protection fails closed)",
          code == grpc.StatusCode.UNAVAILABLE and "replay" in msg, f"{code} {msg}")
    req = licensing_pb2.VerifyCertificateRequest(certificate_no="X", verification_code="Y").SerializeToString()
    code, msg, _, _ = call(verify_path, req, [])
    check("Redis down: an anonymous public call passes the local limiter (then the absent backend)",
          code == grpc.StatusCode.UNAVAILABLE and "replay" not in msg, f"{code} {msg}")
finally:
    subprocess.run(os.environ["REGSUITE_TEST_REDIS_START_CMD"], shell=True, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
deadline = time.time() + 10
while True:
    code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-sha", CHECK_SUBJECT, body))
    if code == grpc.StatusCode.OK or time.time() > deadline:
        break
    time.sleep(0.2)
check("Redis back: signed calls succeed again without restarting the gateway",
      code == grpc.StatusCode.OK, f"{code} {msg}")

# 6. Backend killed: UNAVAILABLE quickly, not a hang.
os.kill(int(os.environ["E2E_CREDIT_PID"]), signal.SIGKILL)
time.sleep(0.3)
started = time.time()
code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-sha", CHECK_SUBJECT, body), timeout=10)
elapsed = time.time() - started
check("backend killed -> UNAVAILABLE well before the deadline",
      code == grpc.StatusCode.UNAVAILABLE and elapsed < 5, f"{code} {msg} after {elapsed:.2f}s")

# 7. Every call above is in the audit log, and the chain verifies; an edited row breaks it.
time.sleep(0.5)
env = dict(os.environ)
psql = ["psql", "-qtA", "-h", env["REGSUITE_POSTGRES_HOST"], "-p", env["REGSUITE_POSTGRES_PORT"],
        "-U", env["REGSUITE_POSTGRES_USER"], env["REGSUITE_POSTGRES_DBNAME"]]
with open(env["REGSUITE_POSTGRES_PASSWORD_FILE"]) as f:
    env["PGPASSWORD"] = f.read().strip()
rows = int(subprocess.run(psql + ["-c", "SELECT count(*) FROM gateway.audit_log"], env=env,
                          capture_output=True, text=True, check=True).stdout.strip())
check("every call is in the audit log, refusals and HTTP errors included (one row per call)",
      rows == audited, f"{rows} rows for {audited} calls")
uscc_rows = int(subprocess.run(psql + ["-c", f"SELECT count(*) FROM gateway.audit_log WHERE target_uscc = '{VALID_USCC}'"],
                               env=env, capture_output=True, text=True, check=True).stdout.strip())
check("audit rows name the target USCC read from the request", uscc_rows >= 3, f"{uscc_rows}")
cancelled = subprocess.run(psql + ["-c", "SELECT status_code, latency_us FROM gateway.audit_log "
                                  f"WHERE request_id = '{cancel_id}'"], env=env, capture_output=True,
                           text=True, check=True).stdout.strip()
status_code, latency_us = (int(x) for x in cancelled.split("|")) if cancelled else (-1, -1)
check("a caller's cancellation cancels the backend call (audited CANCELLED, not after the backend's 3 s)",
      status_code == 1 and latency_us < 2_500_000, cancelled)
verify = subprocess.run([os.path.join(BIN, "regctl"), "audit", "verify"], capture_output=True, text=True)
check("regctl audit verify: the chain is intact", verify.returncode == 0, verify.stdout + verify.stderr)
subprocess.run(psql + ["-c", "UPDATE gateway.audit_log SET status_code = 0 WHERE id = 5"], env=env, check=True)
verify = subprocess.run([os.path.join(BIN, "regctl"), "audit", "verify"], capture_output=True, text=True)
check("a row edited in the database makes regctl audit verify fail at that row",
      verify.returncode == 1 and "row 5" in verify.stdout, verify.stdout + verify.stderr)

vpath = "/regsuite.gateway.v1.GatewayAdmin/VerifyAuditChain"
vreq = admin_pb2.VerifyAuditChainRequest().SerializeToString()
vrpc = channel.unary_unary(vpath, request_serializer=None, response_deserializer=None)
vreply = admin_pb2.VerifyAuditChainResponse.FromString(vrpc(vreq, metadata=sign("e2e-admin", vpath, vreq), timeout=10))
check("GatewayAdmin.VerifyAuditChain names the edited row too",
      not vreply.ok and vreply.first_bad_row_id == 5, str(vreply))

print(f"{len(failures)} failed" if failures else "all gateway e2e checks passed")
sys.exit(1 if failures else 0)
