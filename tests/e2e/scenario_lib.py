"""The cross-service scenario of issue 8, driven through the gateway by an independent client.

Shared by the scenario test (tests/e2e/scenario.py, one or two subjects) and the crash test
(tests/fault/crash.py, many subjects while processes are killed). The client signs every call
itself from the API.md text (HMAC-SHA256), uses only the public gRPC contract and the platform
stub's HTTP interface, and moves the services' clocks through the test-only offset file
(clock.test_offset_file) to cross statutory deadlines.

Every phase runs over a list of subjects, so that a time jump happens once for all of them.
Every step asserts the state it expects in each service; asynchronous (outbox) effects are
polled until a deadline.
"""
import base64
import hashlib
import hmac
import json
import os
import secrets
import time
import urllib.request

import grpc
from google.protobuf import json_format, symbol_database

from regsuite.credit.v1 import credit_pb2
from regsuite.disclosure.v1 import disclosure_pb2
from regsuite.exchange.v1 import exchange_pb2
from regsuite.inspection.v1 import inspection_pb2
from regsuite.licensing.v1 import licensing_pb2

SERVICES = {
    "credit": credit_pb2.DESCRIPTOR.services_by_name["CreditService"],
    "licensing": licensing_pb2.DESCRIPTOR.services_by_name["LicensingService"],
    "inspection": inspection_pb2.DESCRIPTOR.services_by_name["InspectionService"],
    "disclosure": disclosure_pb2.DESCRIPTOR.services_by_name["DisclosureService"],
    "exchange": exchange_pb2.DESCRIPTOR.services_by_name["ExchangeService"],
}
MODULES = [credit_pb2, licensing_pb2, inspection_pb2, disclosure_pb2, exchange_pb2]
DAY = 86400


class ScenarioError(AssertionError):
    pass


# ------------------------------------------------------------------------------------------
# Identifiers (GB 32100 USCC with its GB 11714 organisation code; GB 11643 ID numbers)

USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]


def make_uscc(region, serial):
    org8 = "%08d" % serial
    s = sum(int(c) * w for c, w in zip(org8, [3, 7, 9, 10, 5, 8, 4, 2]))
    org_check = {10: "X", 11: "0"}.get(11 - s % 11, str(11 - s % 11))
    first17 = "91" + region + org8 + org_check
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return first17 + USCC_CHARS[(31 - total % 31) % 31]


def make_id_number(first17="11010119900307451"):
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return first17 + "10X98765432"[sum(int(c) * w for c, w in zip(first17, weights)) % 11]


# ------------------------------------------------------------------------------------------
# Transport


class RpcFailed(Exception):
    def __init__(self, method, code, details):
        super().__init__("%s: %s %s" % (method, code.name, details))
        self.code = code
        self.details = details


class Gateway:
    """Signed gRPC calls through the gateway; requests and responses as proto3 JSON dicts."""

    def __init__(self, target, app_key, secret):
        self.target = target
        self.app_key = app_key
        self.secret = secret.encode()
        self.channel = grpc.insecure_channel(target)
        self.calls = 0
        self.retries = 0
        self.retry_for = 0  # seconds; the crash test retries transient failures

    def _metadata(self, path, body):
        timestamp = str(int(time.time()))
        nonce = secrets.token_urlsafe(24)
        to_sign = "\n".join(["POST", path, "", timestamp, nonce,
                             hashlib.sha256(body).hexdigest()]).encode()
        mac = hmac.new(self.secret, to_sign, hashlib.sha256).digest()
        return [("x-app-key", self.app_key), ("x-timestamp", timestamp), ("x-nonce", nonce),
                ("x-signature-method", "HMAC-SHA256"),
                ("x-signature", base64.b64encode(mac).decode())]

    def call(self, service, method, request=None, signed=True, timeout=10, maybe_done=True):
        """One call; with `retry_for` set (crash test), transient failures are retried until
        that many seconds passed. A retried call that then meets FAILED_PRECONDITION, ABORTED
        or ALREADY_EXISTS may have been applied by an attempt whose answer was lost: it returns
        None (when maybe_done) and the caller reads the state instead."""
        desc = SERVICES[service].methods_by_name[method]
        req = json_format.ParseDict(request or {}, message_class(desc.input_type)())
        body = req.SerializeToString()
        path = "/%s/%s" % (SERVICES[service].full_name, method)
        rpc = self.channel.unary_unary(path, request_serializer=None, response_deserializer=None)
        deadline = time.monotonic() + self.retry_for
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            try:
                raw = rpc(body, metadata=self._metadata(path, body) if signed else None,
                          timeout=timeout)
                break
            except grpc.RpcError as e:
                code = e.code()
                if attempt > 1 and maybe_done and code in MAYBE_DONE:
                    return None
                if code not in TRANSIENT or time.monotonic() >= deadline:
                    raise RpcFailed(path, code, e.details()) from None
                self.retries += 1
                time.sleep(min(0.2 * attempt, 1.0))
        resp = message_class(desc.output_type)()
        resp.ParseFromString(raw)
        return json_format.MessageToDict(resp)


TRANSIENT = (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED,
             grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.CANCELLED,
             grpc.StatusCode.RESOURCE_EXHAUSTED)
MAYBE_DONE = (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.ABORTED,
              grpc.StatusCode.ALREADY_EXISTS)


def message_class(descriptor):
    """The generated class of a message type (the pb2 modules above registered them)."""
    return symbol_database.Default().GetSymbol(descriptor.full_name)


class PlatformStub:
    """The stand-in provincial platform (tests/e2e/platform_stub): its test-only read API."""

    def __init__(self, base_url):
        self.base = base_url.rstrip("/")

    def _get(self, path):
        with urllib.request.urlopen(self.base + path, timeout=10) as r:
            return json.loads(r.read().decode())

    def changes(self):
        got = self._get("/_stub/changes")
        return got["changes"] if isinstance(got, dict) else got

    def batches(self):
        return self._get("/_stub/batches")

    def fail(self, spec):
        req = urllib.request.Request(self.base + "/_stub/fail", data=json.dumps(spec).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()


# ------------------------------------------------------------------------------------------
# Assertions


class Checker:
    def __init__(self, quiet=False):
        self.passed = 0
        self.quiet = quiet
        self.timeout_scale = 1

    def ok(self, name, condition, detail=""):
        if not condition:
            print("FAIL  " + name + ("  -- " + str(detail) if detail else ""), flush=True)
            raise ScenarioError(name)
        self.passed += 1
        if not self.quiet:
            print("ok    " + name, flush=True)

    def eq(self, name, got, want):
        self.ok(name, got == want, "got %r, want %r" % (got, want))

    def poll(self, name, fn, timeout=60, interval=0.2):
        timeout *= self.timeout_scale
        """Polls fn() until it returns a truthy value (returned); RpcFailed counts as not yet."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                value = fn()
                if value:
                    self.ok(name, True)
                    return value
                last = value
            except RpcFailed as e:
                last = e
            if time.monotonic() >= deadline:
                self.ok(name, False, "not reached in %d s; last: %r" % (timeout, last))
            time.sleep(interval)

    def raises(self, name, code, fn):
        try:
            fn()
        except RpcFailed as e:
            self.ok(name, e.code == code, "got %s %s" % (e.code.name, e.details))
            return e
        self.ok(name, False, "the call succeeded; want %s" % code.name)
        return None


# ------------------------------------------------------------------------------------------
# The scenario


class TimeMachine:
    """Moves every service's clock (clock.test_offset_file) forward; the gateway keeps real time."""

    def __init__(self, path):
        self.path = path
        self.offset = 0
        self.set(0)

    def set(self, seconds):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % seconds)
        os.replace(tmp, self.path)
        self.offset = seconds
        time.sleep(0.3)  # the services re-read the file at most every 100 ms

    def advance_days(self, days):
        self.set(self.offset + days * DAY)

    def today(self):
        return time.strftime("%Y-%m-%d", time.gmtime(time.time() + self.offset + 8 * 3600))


WHJY_MATERIALS = ["APPLICATION_FORM", "BUSINESS_LICENCE", "RESPONSIBLE_PERSON_CERTS",
                  "SAFETY_RULES", "PREMISES_PROOF", "EMERGENCY_PLAN"]
CHECK_ITEM = "E2E-HAZARD-CHECK"
PHONE = "13812345678"


class Subject:
    def __init__(self, run, index, region):
        self.index = index
        self.uscc = make_uscc(region, 71000000 + run * 1000 + index)
        self.name = "青岛e2e化工贸易有限公司%d号" % index
        self.legal_rep = "王建国"
        self.id_number = make_id_number()
        self.state = {}


class Scenario:
    def __init__(self, gw, stub, clock, check, run_id, region="370299", platform=True):
        self.gw = gw
        self.stub = stub
        self.clock = clock
        self.check = check
        self.run = run_id
        self.region = region
        self.platform = platform
        self.inspectors = ["E2E-INSP-%d-%d" % (run_id, i) for i in range(4)]
        self.allow_outages = False  # the crash test sets it
        self.credit_fallbacks = 0

    # -- helpers --------------------------------------------------------------------------
    def c(self, service, method, request=None, **kw):
        return self.gw.call(service, method, request, **kw)

    def do(self, service, method, request, reread):
        """A state transition; when a retried attempt may have applied it, read the state."""
        got = self.c(service, method, request)
        return got if got is not None else reread()

    def penalty(self, s):
        return self.c("inspection", "GetPenalty", {"caseId": s.state["caseId"]})

    def materials(self):
        today = self.clock.today()
        return [{"code": m, "documentRef": "doc://e2e/%s" % m.lower(), "issuedDate": today}
                for m in WHJY_MATERIALS]

    def verify_certificate(self, s):
        """Anonymous (public route); the gateway rate-limits anonymous callers: wait for it."""
        deadline = time.monotonic() + 30
        while True:
            try:
                return self.c("licensing", "VerifyCertificate",
                              {"certificateNo": s.state["certificateNo"],
                               "verificationCode": s.state["verificationCode"]}, signed=False)
            except RpcFailed as e:
                if e.code != grpc.StatusCode.RESOURCE_EXHAUSTED or time.monotonic() > deadline:
                    raise
                time.sleep(1)

    def certificate_status(self, s):
        return self.c("licensing", "GetCertificate",
                      {"certificateNo": s.state["certificateNo"]}).get("status")

    def records(self, s, category, status=None):
        req = {"uscc": s.uscc, "category": category, "pageSize": 50}
        if status:
            req["status"] = status
        return self.c("disclosure", "SearchRecords", req).get("records", [])

    def listing(self, s):
        return self.c("credit", "GetListing", {"listingId": s.state["listingId"]})

    def platform_changes_about(self, needle):
        return [ch for ch in self.stub.changes()
                if needle in str(ch.get("entityId", "")) or needle in json.dumps(
                    ch.get("payload", ""), ensure_ascii=False)]

    def outage_fallback(self, app):
        """Crash test only: with credit (or the gateway) down at that moment, a 告知承诺
        application must go to normal review with CREDIT_CHECK_UNAVAILABLE (never approved
        blind); the bureau then decides it by normal review. True when that happened."""
        reasons = app.get("normalReviewReasons", [])
        if not self.allow_outages or "NORMAL_REVIEW_REASON_CREDIT_CHECK_UNAVAILABLE" not in reasons:
            return False
        self.check.ok("licensing: credit unreachable, so normal review (never approved blind)",
                      app.get("status") != "APPLICATION_STATUS_APPROVED" and not app.get("certificate"),
                      app)
        self.credit_fallbacks += 1
        return True

    def entity_changes(self, entity_id):
        return [ch for ch in self.stub.changes() if ch.get("entityId") == entity_id]

    # -- phases ---------------------------------------------------------------------------
    def setup_directories(self):
        for i, inspector_id in enumerate(self.inspectors):
            self.c("inspection", "UpsertInspector", {
                "inspectorId": inspector_id,
                "inspector": {"inspectorId": inspector_id, "name": "执法员%d" % i,
                              "certificateNo": "E2E%08d" % (self.run * 10 + i),
                              "certificateExpiry": "2029-12-31", "unit": "执法支队",
                              "regionCode": self.region, "active": True}})
        self.c("inspection", "UpsertCheckItem", {
            "code": CHECK_ITEM,
            "checkItem": {"code": CHECK_ITEM, "name": "重大事故隐患排查",
                          "legalBasis": "《安全生产法》第四十一条", "safetyCritical": True,
                          "effectiveFrom": "2020-01-01"}})
        self.check.ok("directories: %d inspectors and check item %s upserted"
                      % (len(self.inspectors), CHECK_ITEM), True)

    def import_enterprises(self, subjects):
        """法人库 import through the exchange service (ImportEnterpriseBatch), which validates the
        rows and upserts them into the inspection directory; the inspection service's own bulk
        import while exchange does not implement it. One row with a bad USCC is rejected."""
        def bad(row):
            return dict(row, uscc=row["uscc"][:-1] + ("0" if row["uscc"][-1] != "0" else "1"))
        rows = [{"uscc": s.uscc, "name": s.name, "industry": "危险化学品",
                 "regionCode": self.region, "address": "青岛市黄岛区e2e路%d号" % s.index,
                 "legalRepresentative": s.legal_rep} for s in subjects]
        try:
            report = self.c("exchange", "ImportEnterpriseBatch", {
                "batchId": "e2e-import-%d" % self.run, "source": "province-legal-person-db",
                "enterprises": [dict(r, registrationStatus="存续") for r in rows] + [bad(rows[0])]})
            accepted, via = report.get("accepted", 0), "exchange"
        except RpcFailed as e:
            if e.code != grpc.StatusCode.UNIMPLEMENTED:
                raise
            report = self.c("inspection", "ImportEnterprises", {
                "enterprises": [dict(r, riskLevel="RISK_LEVEL_LARGER",
                                     operatingStatus="ENTERPRISE_STATUS_OPERATING")
                                for r in rows] + [bad(rows[0])],
                "source": "exchange", "batchId": "e2e-import-%d" % self.run})
            accepted, via = report.get("inserted", 0), "inspection (exchange import unimplemented)"
        self.check.eq("import via %s: every valid row accepted" % via, accepted, len(rows))
        self.check.eq("import: the bad USCC row rejected", report.get("rejected", 0), 1)
        self.check.eq("import: rejection names the field",
                      report["rejectedRows"][0].get("field"), "uscc")
        for s in subjects:
            self.check.poll("import: %s in the inspection directory" % s.uscc,
                            lambda s=s: self.c("inspection", "GetEnterprise",
                                               {"uscc": s.uscc}).get("name") == s.name)

    def instant_approval(self, subjects):
        for s in subjects:
            app = self.c("licensing", "SubmitApplication", {
                "permitTypeCode": "WHJY",
                "applicant": {"uscc": s.uscc, "name": s.name, "legalRepresentative": s.legal_rep},
                "materials": self.materials(), "commitmentSigned": True,
                "idempotencyKey": "e2e-%d-%d-first" % (self.run, s.index)})
            if self.outage_fallback(app):
                app = self.do("licensing", "DecideApplication", {
                    "applicationId": app["applicationId"], "approve": True,
                    "reason": "正常审查：材料齐全，符合条件", "decidedBy": "审批科",
                    "etag": app.get("etag", "")},
                    lambda a=app: self.c("licensing", "GetApplication",
                                         {"applicationId": a["applicationId"]}))
            self.check.eq("licensing: clean subject %s approved instantly (秒批)" % s.uscc,
                          app.get("status"), "APPLICATION_STATUS_APPROVED")
            cert = app.get("certificate", {})
            self.check.ok("licensing: certificate issued in the same call", cert.get("certificateNo"))
            s.state["certificateNo"] = cert["certificateNo"]
            s.state["verificationCode"] = cert["verificationCode"]
            v = self.verify_certificate(s)
            self.check.ok("licensing: anonymous VerifyCertificate genuine and VALID",
                          v.get("genuine") and v.get("status") == "CERTIFICATE_STATUS_VALID", v)

    def plan_and_draw(self, subjects):
        draw = self.c("inspection", "DrawInspections", {
            "checkItemCode": CHECK_ITEM, "filter": {"regionCode": self.region},
            "count": len(subjects), "teamSize": 2, "seed": str(20261201 + self.run),
            "drawnBy": "e2e", "idempotencyKey": "e2e-draw-%d" % self.run})
        drawn = {e["uscc"]: e for e in draw.get("enterprises", [])}
        self.check.eq("draw: every imported subject drawn", sorted(drawn),
                      sorted(s.uscc for s in subjects))
        verified = self.c("inspection", "VerifyDraw", {"drawId": draw["drawId"]})
        self.check.ok("draw: VerifyDraw recomputes the same result", verified.get("matches"), verified)
        teams = {t.get("teamIndex", 0): [m["inspectorId"] for m in t["members"]]
                 for t in draw["teams"]}
        for s in subjects:
            s.state["drawId"] = draw["drawId"]
            s.state["team"] = teams[drawn[s.uscc].get("teamIndex", 0)]
        month = self.clock.today()[:7]
        plan = self.c("inspection", "PublishMonthlyPlan", {
            "month": next_month(month), "regionCode": self.region, "publishedBy": "e2e",
            "idempotencyKey": "e2e-plan-%d" % self.run,
            "entries": [{"uscc": s.uscc, "checkItemCode": CHECK_ITEM, "drawId": draw["drawId"],
                         "origin": "INSPECTION_ORIGIN_DRAW"} for s in subjects]})
        self.check.ok("plan: monthly plan published from the draw", plan.get("planId"), plan)

    def inspect(self, subjects):
        for s in subjects:
            insp = self.c("inspection", "StartInspection", {
                "origin": "INSPECTION_ORIGIN_DRAW", "originRef": s.state["drawId"],
                "uscc": s.uscc, "checkItemCodes": [CHECK_ITEM], "inspectorIds": s.state["team"],
                "startedBy": "e2e", "idempotencyKey": "e2e-insp-%d-%d" % (self.run, s.index)})
            s.state["inspectionId"] = insp["inspectionId"]
            insp = self.do("inspection", "RecordFindings", {
                "inspectionId": insp["inspectionId"], "step": "INSPECTION_STEP_CHECK",
                "etag": insp.get("etag", ""),
                "findings": [{"findingId": "F1", "checkItemCode": CHECK_ITEM, "compliant": False,
                              "violationCode": "AQ-102", "description": "储罐区可燃气体报警装置失效",
                              "legalBasis": "《安全生产法》第一百零二条"}],
                "hazards": [{"level": "HAZARD_LEVEL_MAJOR", "checkItemCode": CHECK_ITEM,
                             "findingId": "F1", "description": "储罐区可燃气体报警装置失效",
                             "location": "储罐区", "rectificationWorkingDays": 1}],
                "recordEntries": [{"kind": "RECORD_ENTRY_KIND_PHOTO", "description": "现场照片",
                                   "documentRef": "doc://e2e/photo-%d" % s.index,
                                   "contentHash": hashlib.sha256(s.uscc.encode()).hexdigest(),
                                   "recordedBy": s.state["team"][0]}]},
                lambda s=s: self.c("inspection", "GetInspection",
                                   {"inspectionId": s.state["inspectionId"]}))
            hazards = insp.get("hazards", [])
            self.check.ok("inspection: one major hazard recorded for %s" % s.uscc,
                          len(hazards) == 1 and hazards[0]["level"] == "HAZARD_LEVEL_MAJOR", hazards)
            s.state["hazardId"] = hazards[0]["hazardId"]
            s.state["hazardDeadline"] = hazards[0]["rectificationDeadline"]

    def hazard_overdue(self, subjects):
        """Crosses the rectification deadline: the sweep reports each hazard to credit once."""
        latest = max(s.state["hazardDeadline"] for s in subjects)
        while self.clock.today() <= latest:
            self.clock.advance_days(1)
        for s in subjects:
            h = self.check.poll("inspection: overdue major hazard of %s reported to credit" % s.uscc,
                                lambda s=s: self._hazard(s) if self._hazard(s).get("creditEventSent")
                                else None)
            self.check.eq("inspection: hazard still open", h.get("status"), "HAZARD_STATUS_OPEN")
            self.check.poll("credit: REFUSAL_TO_RECTIFY record for %s" % s.uscc,
                            lambda s=s: self._records(s, "CREDIT_RECORD_KIND_REFUSAL_TO_RECTIFY"))

    def _hazard(self, s):
        got = self.c("inspection", "ListHazards", {"uscc": s.uscc}).get("hazards", [])
        return next(h for h in got if h["hazardId"] == s.state["hazardId"])

    def _records(self, s, kind):
        profile = self.c("credit", "GetCreditProfile", {"uscc": s.uscc})
        return [r for r in profile.get("records", []) if r.get("kind") == kind]

    def penalise(self, subjects):
        for s in subjects:
            facts = ("重大事故隐患逾期未整改。现场负责人%s，电话%s，身份证号%s。"
                     % (s.legal_rep, PHONE, s.id_number))
            case = self.c("inspection", "ProposePenalty", {
                "inspectionId": s.state["inspectionId"],
                "party": {"type": "PARTY_TYPE_LEGAL_PERSON", "name": s.name, "uscc": s.uscc,
                          "legalRepresentative": s.legal_rep, "phone": PHONE,
                          "address": "青岛市黄岛区e2e路%d号" % s.index},
                "violationCode": "AQ-102", "circumstance": "CIRCUMSTANCE_SEVERE", "facts": facts,
                "evidenceRefs": ["doc://e2e/photo-%d" % s.index],
                "proposedKinds": ["PENALTY_KIND_FINE", "PENALTY_KIND_LICENCE_SUSPENSION"],
                "proposedFineFen": "6000000",
                "idempotencyKey": "e2e-case-%d-%d" % (self.run, s.index)})
            s.state["caseId"] = case["caseId"]
            self.check.eq("inspection: penalty case proposed", case.get("status"),
                          "PENALTY_CASE_STATUS_PROPOSED")
            if case.get("hearing", {}).get("offered"):
                case = self.do("inspection", "RecordHearing", {
                    "caseId": case["caseId"], "requested": False, "etag": case.get("etag", ""),
                    "outcome": "当事人书面放弃听证"}, lambda s=s: self.penalty(s))
            if case.get("legalReview", {}).get("required"):
                case = self.do("inspection", "RecordLegalReview", {
                    "caseId": case["caseId"], "passed": True, "reviewer": "法制审核员",
                    "etag": case.get("etag", ""), "note": "事实清楚，证据确凿"},
                    lambda s=s: self.penalty(s))
            suspended_until = self.clock.today()[:4] + "-12-31"
            case = self.do("inspection", "DecidePenalty", {
                "caseId": case["caseId"], "etag": case.get("etag", ""), "decisionNo": "青应急罚〔%d〕%d号" % (self.run, s.index),
                "kinds": ["PENALTY_KIND_FINE", "PENALTY_KIND_LICENCE_SUSPENSION"],
                "fineFen": "6000000", "content": "罚款人民币6万元，暂扣危险化学品经营许可证",
                "decidedBy": "局长", "severity": "SEVERITY_SERIOUS", "fineMultiple": 2.0,
                "outsideRangeReason": "暂扣许可证：隐患逾期未整改，依法并处",
                "licenceCertificateNo": s.state["certificateNo"],
                "licenceSuspendedUntil": suspended_until}, lambda s=s: self.penalty(s))
            self.check.eq("inspection: penalty decided", case.get("status"),
                          "PENALTY_CASE_STATUS_DECIDED")
            s.state["decisionNo"] = case["decision"]["decisionNo"]
        for s in subjects:
            self.check.poll("licensing: certificate of %s SUSPENDED by the penalty" % s.uscc,
                            lambda s=s: self.certificate_status(s) == "CERTIFICATE_STATUS_SUSPENDED")
            v = self.verify_certificate(s)
            self.check.ok("licensing: anonymous VerifyCertificate says genuine and SUSPENDED",
                          v.get("genuine") and v.get("status") == "CERTIFICATE_STATUS_SUSPENDED", v)
            self.check.poll("credit: PENALTY record for %s" % s.uscc,
                            lambda s=s: self._records(s, "CREDIT_RECORD_KIND_PENALTY"))
            listing = self.check.poll(
                "credit: black listing PROPOSED automatically (fine 2x, Art 114)",
                lambda s=s: [l for l in self.c("credit", "ListListings", {"uscc": s.uscc}).get(
                    "listings", []) if l.get("listType") == "LIST_TYPE_BLACK"])
            self.check.eq("credit: one black listing proposal", len(listing), 1)
            self.check.eq("credit: it waits for a human decision", listing[0].get("status"),
                          "LISTING_STATUS_PROPOSED")
            s.state["listingId"] = listing[0]["listingId"]
            rec = self.check.poll("disclosure: penalty decision of %s published" % s.uscc,
                                  lambda s=s: self.records(s, "RECORD_CATEGORY_PENALTY_DECISION"))
            self.check_masked("disclosure: penalty record masked", rec[0], s)
            s.state["penaltyIndexNo"] = rec[0]["indexNo"]

    def check_masked(self, name, record, s):
        text = json.dumps(record, ensure_ascii=False)
        self.check.ok(name + " (no phone number)", PHONE not in text, text[:300])
        self.check.ok(name + " (no ID number)", s.id_number not in text, text[:300])

    def list_black(self, subjects):
        for s in subjects:
            l = self.do("credit", "NotifyListing", {
                "listingId": s.state["listingId"], "etag": self.listing(s).get("etag", ""),
                "noticeRef": "告知书-%d" % s.index, "notifiedBy": "信用科"},
                lambda s=s: self.listing(s))
            self.check.eq("credit: listing NOTIFIED", l.get("status"), "LISTING_STATUS_NOTIFIED")
            s.state["objectionDeadline"] = l["objectionDeadline"]
            self.check.raises("credit: deciding inside the objection period refused",
                              grpc.StatusCode.FAILED_PRECONDITION,
                              lambda s=s: self.c("credit", "DecideListing", {
                                  "listingId": s.state["listingId"], "approve": True,
                                  "reason": "early", "decidedBy": "信用科"}, maybe_done=False))
        latest = max(s.state["objectionDeadline"] for s in subjects)
        while self.clock.today() <= latest:
            self.clock.advance_days(1)
        for s in subjects:
            l = self.do("credit", "DecideListing", {
                "listingId": s.state["listingId"], "approve": True,
                "etag": self.listing(s).get("etag", ""),
                "reason": "重大事故隐患逾期未整改且被处2倍罚款，列入严重失信主体名单",
                "decidedBy": "信用科", "decisionNo": "青应急信〔%d〕%d号" % (self.run, s.index)},
                lambda s=s: self.listing(s))
            self.check.eq("credit: listing ACTIVE after the objection period",
                          l.get("status"), "LISTING_STATUS_ACTIVE")
            self.check.ok("credit: effective dates set", l.get("effectiveFrom") and
                          l.get("effectiveUntil"), l)
            st = self.c("credit", "CheckSubject", {"uscc": s.uscc})
            self.check.eq("credit: CheckSubject says BLACK at once", st.get("tier"),
                          "CREDIT_TIER_BLACK")
            codes = [m.get("code") for m in st.get("measures", [])]
            self.check.ok("credit: NO_COMMITMENT_APPROVAL in force", "NO_COMMITMENT_APPROVAL" in codes,
                          codes)
            rec = self.check.poll("disclosure: black listing of %s published" % s.uscc,
                                  lambda s=s: self.records(s, "RECORD_CATEGORY_CREDIT_LISTING"))
            s.state["listingIndexNo"] = rec[0]["indexNo"]
            self.check_masked("disclosure: listing record masked", rec[0], s)

    def commitment_refused(self, subjects):
        for s in subjects:
            app = self.c("licensing", "SubmitApplication", {
                "permitTypeCode": "WHJY",
                "applicant": {"uscc": s.uscc, "name": s.name, "legalRepresentative": s.legal_rep},
                "materials": self.materials(), "commitmentSigned": True,
                "idempotencyKey": "e2e-%d-%d-second" % (self.run, s.index)})
            self.check.ok("licensing: black-listed subject's 告知承诺 goes to normal review",
                          app.get("status") != "APPLICATION_STATUS_APPROVED"
                          and not app.get("certificate")
                          and app.get("reviewRoute", "").endswith("NORMAL"), app)
            if not self.outage_fallback(app):
                self.check.ok("licensing: the reason recorded is the black listing",
                              "NORMAL_REVIEW_REASON_BLACK_LIST" in app.get("normalReviewReasons", []),
                              app)
            s.state["secondApplication"] = app["applicationId"]
            self.check.eq("licensing: certificate still SUSPENDED", self.certificate_status(s),
                          "CERTIFICATE_STATUS_SUSPENDED")

    def platform_published(self, subjects):
        if not self.platform:
            print("SKIP  platform: penalty and listing on the platform stub (exchange push not "
                  "available)", flush=True)
            return
        for s in subjects:
            for key in ("penaltyIndexNo", "listingIndexNo"):
                got = self.check.poll("platform: %s %s received" % (key, s.state[key]),
                                      lambda s=s, key=key: self.platform_changes_about(
                                          s.state[key]), timeout=90)
                for ch in got:
                    text = json.dumps(ch, ensure_ascii=False)
                    self.check.ok("platform: masked (no phone, no ID number)",
                                  PHONE not in text and s.id_number not in text, text[:300])
            self.check.poll("platform: black listing %s received as an upsert" % s.state["listingId"],
                            lambda s=s: [ch for ch in self.entity_changes(s.state["listingId"])
                                         if not is_withdrawal(ch)], timeout=90)
            self.check.poll("platform: certificate %s received as SUSPENDED" % s.state["certificateNo"],
                            lambda s=s: [ch for ch in self.entity_changes(s.state["certificateNo"])
                                         if "SUSPENDED" in json.dumps(ch.get("payload", ""))],
                            timeout=90)

    def repair(self, subjects):
        for s in subjects:
            r = self.c("credit", "ApplyRepair", {
                "listingId": s.state["listingId"], "commitment": "已整改全部隐患并缴清罚款，公开承诺守信经营",
                "evidenceRefs": ["doc://e2e/repair-%d" % s.index], "penaltyFulfilled": True,
                "harmRemoved": True, "idempotencyKey": "e2e-repair-%d-%d" % (self.run, s.index)})
            self.check.ok("credit: repair applied", r.get("repairId"), r)
            repair_id = r["repairId"]
            r = self.do("credit", "DecideRepair", {"repairId": repair_id, "approve": True,
                                                   "reason": "符合信用修复条件", "decidedBy": "信用科",
                                                   "etag": r.get("etag", "")},
                        lambda rid=repair_id: self.c("credit", "GetRepair", {"repairId": rid}))
            self.check.ok("credit: repair approved", r.get("status", "").endswith("APPROVED"), r)
            l = self.listing(s)
            self.check.eq("credit: listing REMOVED", l.get("status"), "LISTING_STATUS_REMOVED")
            st = self.c("credit", "CheckSubject", {"uscc": s.uscc})
            self.check.ok("credit: CheckSubject no longer BLACK", st.get("tier") != "CREDIT_TIER_BLACK",
                          st)
        for s in subjects:
            self.check.poll("disclosure: listing publication of %s withdrawn" % s.uscc,
                            lambda s=s: self.c("disclosure", "GetRecord", {
                                "indexNo": s.state["listingIndexNo"]}).get("status") ==
                            "RECORD_STATUS_WITHDRAWN")
            self.check.ok("disclosure: withdrawn listing no longer found",
                          not self.records(s, "RECORD_CATEGORY_CREDIT_LISTING"))
            if self.platform:
                self.check.poll("platform: withdrawal of %s received" % s.state["listingIndexNo"],
                                lambda s=s: [ch for ch in self.platform_changes_about(
                                    s.state["listingIndexNo"]) if is_withdrawal(ch)], timeout=90)
                self.check.poll("platform: listing %s received as a delete" % s.state["listingId"],
                                lambda s=s: [ch for ch in self.entity_changes(s.state["listingId"])
                                             if is_withdrawal(ch)], timeout=90)
        if not self.platform:
            print("SKIP  platform: withdrawal on the platform stub (exchange push not available)",
                  flush=True)

    def change_certificate(self, s):
        """变更 of the holder's address: same number, revision 1, still genuine and VALID."""
        number = s.state["certificateNo"]
        cert = self.do("licensing", "ChangeCertificate", {
            "certificateNo": number, "holder": {"address": "青岛市黄岛区e2e新路%d号" % s.index},
            "reason": "住所变更（新营业执照）", "changedBy": "审批科"},
            lambda: self.c("licensing", "GetCertificate", {"certificateNo": number}))
        self.check.eq("licensing: 变更 keeps the certificate number", cert.get("certificateNo"), number)
        self.check.eq("licensing: 变更 raises the revision to 1", cert.get("revision"), 1)
        v = self.verify_certificate(s)
        self.check.ok("licensing: the changed certificate verifies genuine and VALID",
                      v.get("genuine") and v.get("status") == "CERTIFICATE_STATUS_VALID", v)

    def annual_plan(self, subjects):
        """年度检查计划 for the region, credit tiers from the batch check through the gateway."""
        plan = self.c("inspection", "BuildAnnualPlan", {
            "regionCode": self.region, "seed": str(20261202 + self.run), "builtBy": "e2e",
            "idempotencyKey": "e2e-annual-%d" % self.run})
        self.check.eq("annual plan: credit tiers through the gateway", plan.get("creditCheck"),
                      "gateway")
        counts = plan.get("counts", {})
        self.check.ok("annual plan: every operating subject of the region counted",
                      int(counts.get("enterprises", "0")) >= len(subjects), counts)
        self.check.ok("annual plan: a sample of at least one inspection due",
                      int(counts.get("inspectionsDue", "0")) >= 1, counts)

    def run_all(self, subjects, extended=False):
        """`extended`: also the steps the crash test leaves out (变更, annual plan)."""
        self.setup_directories()
        self.import_enterprises(subjects)
        self.instant_approval(subjects)
        if extended:
            self.change_certificate(subjects[0])
        self.plan_and_draw(subjects)
        if extended:
            self.annual_plan(subjects)
        self.inspect(subjects)
        self.hazard_overdue(subjects)
        self.penalise(subjects)
        self.list_black(subjects)
        self.commitment_refused(subjects)
        self.platform_published(subjects)
        self.repair(subjects)


def is_withdrawal(change):
    op = str(change.get("operation", "")).lower()
    return "delete" in op or "WITHDRAWN" in json.dumps(change.get("payload", ""))


def next_month(month):
    y, m = int(month[:4]), int(month[5:7])
    return "%04d-%02d" % (y + (m == 12), m % 12 + 1)
