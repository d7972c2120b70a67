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

# 5d. A deadline the call cannot meet comes back as DEADLINE_EXCEEDED, not a hang.
code, msg, _, _ = call(CHECK_SUBJECT, body, sign("e2e-sha", CHECK_SUBJECT, body), timeout=0.001)
check("an expired deadline -> DEADLINE_EXCEEDED", code == grpc.StatusCode.DEADLINE_EXCEEDED, f"{code} {msg}")

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
