"""Search and annual-report latency of a running disclosure service (bench/disclosure/run.sh).

Calls SearchRecords directly over gRPC (no gateway: this measures the service) for a set of
queries, each REPEAT times after a warm-up, and prints p50/p99 per query; then times
GetAnnualReport for a year of the seeded data.
"""
import os
import statistics
import sys
import time

import grpc

from benchlib import percentile

from regsuite.disclosure.v1 import disclosure_pb2

TARGET = os.environ["BENCH_TARGET"]
REPEAT = int(os.environ.get("BENCH_REPEAT", "200"))
PENALTY = disclosure_pb2.RECORD_CATEGORY_PENALTY_DECISION
LICENCE = disclosure_pb2.RECORD_CATEGORY_LICENSING_DECISION

# (label, query, category): common and rare texts, two and six characters.
QUERIES = [
    ("2 chars, common (矿业), penalty", "矿业", PENALTY),
    ("2 chars, absent (丁七), penalty", "丁七", PENALTY),
    ("6 chars, common (隐患排查治理), penalty", "隐患排查治理", PENALTY),
    ("6 chars, absent (福州市丁七), licence", "福州市丁七", LICENCE),
    ("6 chars, any category (安全条件审查)", "安全条件审查", 0),
    ("2 chars, no category (冶金)", "冶金", 0),
]



def main():
    channel = grpc.insecure_channel(TARGET)
    search = channel.unary_unary(
        "/regsuite.disclosure.v1.DisclosureService/SearchRecords",
        request_serializer=disclosure_pb2.SearchRecordsRequest.SerializeToString,
        response_deserializer=disclosure_pb2.SearchRecordsResponse.FromString)
    print(f"| query | results (total) | p50 ms | p99 ms | max ms |")
    print(f"|---|---|---|---|---|")
    for label, query, category in QUERIES:
        request = disclosure_pb2.SearchRecordsRequest(query=query, category=category, page_size=20)
        for _ in range(5):
            search(request, timeout=30)
        times = []
        for _ in range(REPEAT):
            t0 = time.perf_counter()
            response = search(request, timeout=30)
            times.append((time.perf_counter() - t0) * 1000)
        total = f"{response.total_size}{'+' if response.total_size_capped else ''}"
        print(f"| {label} | {len(response.records)} ({total}) | {percentile(times, 50):.1f} | "
              f"{percentile(times, 99):.1f} | {max(times):.1f} |")
    report = channel.unary_unary(
        "/regsuite.disclosure.v1.DisclosureService/GetAnnualReport",
        request_serializer=disclosure_pb2.GetAnnualReportRequest.SerializeToString,
        response_deserializer=disclosure_pb2.AnnualReport.FromString)
    year = int(os.environ.get("BENCH_REPORT_YEAR", "2025"))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        report(disclosure_pb2.GetAnnualReportRequest(year=year), timeout=120)
        times.append((time.perf_counter() - t0) * 1000)
    print(f"\nGetAnnualReport({year}): {statistics.median(times):.0f} ms median of 3 "
          f"(min {min(times):.0f}, max {max(times):.0f})")


if __name__ == "__main__":
    sys.exit(main())
