"""Instant approvals through the gateway (bench/licensing/run.sh).

  prepare FILE N   writes N SubmitApplicationRequests (a clean subject and its own idempotency
                   key each, every material, the commitment signed) as a length-delimited
                   stream for gateway_loadgen --requests-file, and their USCCs to FILE.usccs
  outcomes FILE    reads back, through the gateway, what became of the first N submissions
                   (N = the first line of FILE.sent): APPROVED with a certificate or not
"""
import os
import random
import sys
import time

from google.protobuf.internal.encoder import _VarintBytes

import scenario_lib as sl
from benchlib import make_uscc
from regsuite.licensing.v1 import licensing_pb2


def gateway():
    with open(os.path.join(os.environ["BENCH_INSTANCE"], "demo-client.txt")) as f:
        app_key, secret = f.read().split()[:2]
    return sl.Gateway(os.environ["BENCH_GATEWAY"], app_key, secret)


def prepare(path, count):
    today = time.strftime("%Y-%m-%d", time.localtime())
    first_serial = random.Random(time.time_ns()).randrange(10_000_000, 80_000_000)
    with open(path, "wb") as out, open(path + ".usccs", "w") as usccs:
        for n in range(count):
            uscc = make_uscc("350100", first_serial + n)
            req = licensing_pb2.SubmitApplicationRequest(
                permit_type_code="WHJY", commitment_signed=True, idempotency_key="bench-" + uscc)
            req.applicant.uscc = uscc
            req.applicant.name = "基准测试%08d有限公司" % n
            req.applicant.legal_representative = "张三"
            for code in sl.WHJY_MATERIALS:
                req.materials.add(code=code, document_ref="doc://bench/" + code.lower(),
                                  issued_date=today)
            body = req.SerializeToString()
            out.write(_VarintBytes(len(body)) + body)
            usccs.write(uscc + "\n")


def outcomes(path, sent):
    gw = gateway()
    with open(path + ".usccs") as f:
        usccs = [line.strip() for line in f][:sent]
    counts = {}

    def applications(uscc):
        while True:  # the client's own rate limit (ratelimit.default_rate) applies here too
            try:
                return gw.call("licensing", "ListApplications", {"uscc": uscc}).get(
                    "applications", [])
            except sl.RpcFailed as e:
                if e.code.name != "RESOURCE_EXHAUSTED":
                    raise
                time.sleep(0.2)

    for uscc in usccs:
        apps = applications(uscc)
        outcome = ("none" if not apps else apps[0].get("status", "?") +
                   (" + certificate" if apps[0].get("certificate", {}).get("certificateNo") else ""))
        counts[outcome] = counts.get(outcome, 0) + 1
    print(f"outcomes of the {sent} submissions sent: {counts}")


if __name__ == "__main__":
    if sys.argv[1] == "prepare":
        prepare(sys.argv[2], int(sys.argv[3]))
    else:
        outcomes(sys.argv[2], int(sys.argv[3]))
