"""Instant approvals through the gateway at a fixed rate (bench/licensing/run.sh)."""
import concurrent.futures
import os
import random
import statistics
import threading
import time

import scenario_lib as sl
from benchlib import make_uscc, percentile

RATE = float(os.environ.get("BENCH_RATE", "100"))
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))


def main():
    with open(os.path.join(os.environ["BENCH_INSTANCE"], "demo-client.txt")) as f:
        app_key, secret = f.read().split()[:2]
    gateway = sl.Gateway(os.environ["BENCH_GATEWAY"], app_key, secret)
    today = time.strftime("%Y-%m-%d", time.localtime())
    materials = [{"code": m, "documentRef": "doc://bench/%s" % m.lower(), "issuedDate": today}
                 for m in sl.WHJY_MATERIALS]
    first_serial = random.Random(time.time_ns()).randrange(10_000_000, 90_000_000)
    lock = threading.Lock()
    latencies, outcomes = [], {}

    def submit(n):
        uscc = make_uscc("350100", first_serial + n)
        started = time.perf_counter()
        try:
            app = gateway.call("licensing", "SubmitApplication", {
                "permitTypeCode": "WHJY",
                "applicant": {"uscc": uscc, "name": "基准测试%08d有限公司" % n,
                              "legalRepresentative": "张三"},
                "materials": materials, "commitmentSigned": True,
                "idempotencyKey": "bench-%s" % uscc})
            outcome = app.get("status", "?") + (" + certificate" if app.get("certificate") else "")
        except sl.RpcFailed as e:
            outcome = e.code.name
        elapsed = (time.perf_counter() - started) * 1000
        with lock:
            latencies.append(elapsed)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1

    total = int(RATE * SECONDS)
    begin = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=32) as pool:
        for n in range(total):
            delay = begin + n / RATE - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(submit, n)
    wall = time.perf_counter() - begin
    print(f"{total} submissions offered at {RATE:.0f}/s; achieved {total / wall:.1f}/s")
    print(f"outcomes: {outcomes}")
    print(f"latency ms: p50 {statistics.median(latencies):.1f}, p99 {percentile(latencies, 99):.1f}, "
          f"max {max(latencies):.1f}")


if __name__ == "__main__":
    main()
