#!/usr/bin/env python3
"""TEST-ONLY stand-in for the provincial data-sharing platform (数据共享交换平台).

Never deploy this: it exists so that tests can watch what the exchange service pushes and make
the platform misbehave on purpose. Python 3 standard library only.

    python3 platform_stub.py --listen 127.0.0.1:0 --app-key KEY --secret-file FILE \
        --record FILE.jsonl [--enterprises FILE.jsonl]

prints `LISTENING <port>` on stdout once it accepts connections.

Endpoints
  POST /api/v1/feed/batches   {"batchId": "...", "changes": [...]} signed per API.md, with an
                              Idempotency-Key header. 401 on a bad signature; a repeated
                              Idempotency-Key answers 200 again but is recorded once (counted
                              as a duplicate). 200 {"accepted": n}.
  GET  /api/v1/enterprises?offset=&limit=   signed; {"enterprises": [...], "next": offset|null}
                              from the --enterprises file (法人库 pull).
  GET  /_stub/batches         {"batches": [...], "duplicates": n, "rejected": n, "failed": n}
  GET  /_stub/changes         {"changes": [...]}: every recorded change in arrival order
  POST /_stub/fail            {"status": 503|400|..., "count": N} or
                              {"mode": "timeout", "count": N, "seconds": S}: the next N feed
                              requests fail that way (a timeout sleeps S seconds, then 504).

The record file is JSON lines of what happened (batches, duplicates, rejections); a restarted
stub reads it back and keeps its history.
"""
import argparse
import base64
import hashlib
import hmac
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

FEED_PATH = "/api/v1/feed/batches"
ENTERPRISES_PATH = "/api/v1/enterprises"
CLOCK_SKEW_SECONDS = 300
NONCE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def digest_of(method):
    if method == "HMAC-SM3":
        return lambda data=b"": hashlib.new("sm3", data)
    if method in ("", "HMAC-SHA256"):
        return hashlib.sha256
    return None


def canonical_query(raw_query):
    """API.md: parameters sorted by name then value, name=value joined by &, as sent."""
    pairs = []
    for part in raw_query.split("&") if raw_query else []:
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((name, value))
    return "&".join(f"{n}={v}" for n, v in sorted(pairs))


class Platform:
    """State shared by the handler threads; every mutation holds the lock."""

    def __init__(self, app_key, secret, record_path, enterprises):
        self.app_key = app_key
        self.secret = secret
        self.record_path = record_path
        self.enterprises = enterprises
        self.lock = threading.Lock()
        self.batches = []
        self.by_key = {}
        self.duplicates = 0
        self.rejected = 0
        self.failed = 0
        self.failures = []  # pending injected failures: dicts with count left
        self.nonces = {}
        self._replay()

    def _replay(self):
        try:
            with open(self.record_path, encoding="utf-8") as f:
                lines = [json.loads(line) for line in f if line.strip()]
        except FileNotFoundError:
            return
        for entry in lines:
            self._apply(entry)

    def _apply(self, entry):
        kind = entry.get("type")
        if kind == "batch":
            self.batches.append(entry["batch"])
            self.by_key[entry["batch"]["idempotencyKey"]] = entry["batch"]
        elif kind == "duplicate":
            self.duplicates += 1
        elif kind == "rejected":
            self.rejected += 1
        elif kind == "failed":
            self.failed += 1

    def record(self, entry):
        """Appends to the record file, then to memory (caller holds the lock)."""
        with open(self.record_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
            f.flush()
        self._apply(entry)

    def take_failure(self):
        with self.lock:
            if not self.failures:
                return None
            failure = self.failures[0]
            failure["count"] -= 1
            if failure["count"] <= 0:
                self.failures.pop(0)
            return dict(failure)

    def verify(self, method, path, raw_query, headers, body):
        """None when the request is signed per API.md, else the reason."""
        if headers.get("x-app-key") != self.app_key:
            return "unknown app key"
        sig_method = headers.get("x-signature-method", "")
        digest = digest_of(sig_method)
        if digest is None:
            return "unknown signature method"
        timestamp = headers.get("x-timestamp", "")
        nonce = headers.get("x-nonce", "")
        if not timestamp.isdigit() or abs(int(timestamp) - time.time()) > CLOCK_SKEW_SECONDS:
            return "stale or missing timestamp"
        if not NONCE_RE.match(nonce):
            return "bad nonce"
        to_sign = "\n".join([method, path, canonical_query(raw_query), timestamp, nonce,
                             digest(body).hexdigest()]).encode()
        expected = base64.b64encode(hmac.new(self.secret.encode(), to_sign, digest).digest())
        if not hmac.compare_digest(expected.decode(), headers.get("x-signature", "")):
            return "signature mismatch"
        with self.lock:
            now = time.time()
            for old in [n for n, t in self.nonces.items() if now - t > 2 * CLOCK_SKEW_SECONDS]:
                del self.nonces[old]
            if nonce in self.nonces:
                return "nonce reused"
            self.nonces[nonce] = now
        return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    platform = None  # set in main

    def log_message(self, fmt, *args):
        sys.stderr.write("platform_stub: " + (fmt % args) + "\n")

    def _send(self, status, obj):
        data = json.dumps(obj, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _lower_headers(self):
        return {k.lower(): v for k, v in self.headers.items()}

    def _reject(self, status, reason):
        with self.platform.lock:
            self.platform.record({"type": "rejected", "status": status, "reason": reason,
                                  "at": time.time()})
        self._send(status, {"error": {"code": status, "message": reason}})

    def do_GET(self):
        url = urlsplit(self.path)
        p = self.platform
        if url.path == "/_stub/batches":
            with p.lock:
                self._send(200, {"batches": list(p.batches), "duplicates": p.duplicates,
                                 "rejected": p.rejected, "failed": p.failed})
        elif url.path == "/_stub/changes":
            with p.lock:
                changes = [c for b in p.batches for c in b.get("changes", [])]
            self._send(200, {"changes": changes})
        elif url.path == ENTERPRISES_PATH:
            reason = p.verify("GET", url.path, url.query, self._lower_headers(), b"")
            if reason:
                return self._reject(401, reason)
            query = dict(parse_qsl(url.query))
            try:
                offset = int(query.get("offset", "0"))
                limit = int(query.get("limit", "100"))
            except ValueError:
                return self._send(400, {"error": {"code": 400, "message": "offset/limit"}})
            page = p.enterprises[offset:offset + limit]
            following = offset + len(page)
            self._send(200, {"enterprises": page,
                             "next": following if following < len(p.enterprises) else None})
        else:
            self._send(404, {"error": {"code": 404, "message": "no such path"}})

    def do_POST(self):
        url = urlsplit(self.path)
        body = self._body()
        if url.path == "/_stub/fail":
            try:
                failure = json.loads(body or b"{}")
                failure["count"] = int(failure.get("count", 1))
            except (ValueError, TypeError):
                return self._send(400, {"error": {"code": 400, "message": "bad failure"}})
            with self.platform.lock:
                self.platform.failures.append(failure)
            return self._send(200, {"queued": failure})
        if url.path != FEED_PATH:
            return self._send(404, {"error": {"code": 404, "message": "no such path"}})
        self._feed(url, body)

    def _feed(self, url, body):
        p = self.platform
        failure = p.take_failure()
        if failure is not None:
            if failure.get("mode") == "timeout":
                time.sleep(float(failure.get("seconds", 5)))
                status = 504
            else:
                status = int(failure.get("status", 503))
            if status >= 500:
                with p.lock:
                    p.record({"type": "failed", "status": status, "at": time.time()})
                return self._send(status, {"error": {"code": status, "message": "injected"}})
            return self._reject(status, "injected rejection")
        reason = p.verify("POST", url.path, url.query, self._lower_headers(), body)
        if reason:
            return self._reject(401, reason)
        key = self.headers.get("Idempotency-Key", "")
        if not key:
            return self._reject(400, "Idempotency-Key header is required")
        try:
            batch = json.loads(body)
            changes = batch["changes"]
            if not isinstance(changes, list) or not batch.get("batchId"):
                raise ValueError("changes must be a list and batchId set")
        except (ValueError, KeyError, TypeError) as e:
            return self._reject(400, f"bad batch: {e}")
        with p.lock:
            if key in p.by_key:
                p.record({"type": "duplicate", "idempotencyKey": key, "at": time.time()})
                accepted = len(p.by_key[key]["changes"])
                return self._send(200, {"accepted": accepted, "duplicate": True})
            p.record({"type": "batch", "batch": {
                "batchId": batch["batchId"], "idempotencyKey": key, "changes": changes,
                "receivedAt": time.time()}})
        self._send(200, {"accepted": len(changes)})


def load_jsonl(path):
    if not path:
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    parser = argparse.ArgumentParser(description="TEST-ONLY provincial platform stand-in")
    parser.add_argument("--listen", required=True, help="HOST:PORT (port 0 picks a free one)")
    parser.add_argument("--app-key", required=True)
    parser.add_argument("--secret-file", required=True)
    parser.add_argument("--record", required=True, help="JSON lines file of the history")
    parser.add_argument("--enterprises", default="", help="JSON lines of 法人库 rows to serve")
    args = parser.parse_args()
    host, _, port = args.listen.rpartition(":")
    with open(args.secret_file, encoding="utf-8") as f:
        secret = f.read().strip()
    Handler.platform = Platform(args.app_key, secret, args.record, load_jsonl(args.enterprises))
    server = ThreadingHTTPServer((host, int(port)), Handler)
    server.daemon_threads = True
    print(f"LISTENING {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
