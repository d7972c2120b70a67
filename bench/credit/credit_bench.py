"""Data and drivers for bench/credit/run.sh.

  credit_bench.py prepare DIR   writes DIR/subjects.csv (BENCH_SUBJECTS valid USCCs, default
                                100,000) and DIR/requests.bin (one CheckSubjectRequest per
                                subject, varint length-delimited, for gateway_loadgen)
  credit_bench.py warm DIR      BatchCheckSubjects over every subject (fills the cache)
  credit_bench.py batch DIR     BatchCheckSubjects of 1,000 random subjects, BENCH_REPEAT
                                times one after another: p50/p99
"""
import os
import random
import statistics
import sys
import time

import grpc

from benchlib import make_uscc, percentile
from google.protobuf.internal import encoder

from regsuite.credit.v1 import credit_pb2 as pb

SUBJECTS = int(os.environ.get("BENCH_SUBJECTS", "100000"))
REPEAT = int(os.environ.get("BENCH_REPEAT", "200"))


def subjects():
    return [make_uscc("350100", n + 1) for n in range(SUBJECTS)]


def batch_rpc():
    channel = grpc.insecure_channel(os.environ["BENCH_TARGET"])
    return channel.unary_unary("/regsuite.credit.v1.CreditService/BatchCheckSubjects",
                               request_serializer=pb.BatchCheckSubjectsRequest.SerializeToString,
                               response_deserializer=pb.BatchCheckSubjectsResponse.FromString)


def prepare(directory):
    usccs = subjects()
    with open(os.path.join(directory, "subjects.csv"), "w", encoding="utf-8") as out:
        for n, uscc in enumerate(usccs):
            out.write(f"{uscc},企业{n:06d}有限公司\n")
    with open(os.path.join(directory, "requests.bin"), "wb") as out:
        for uscc in usccs:
            body = pb.CheckSubjectRequest(uscc=uscc).SerializeToString()
            out.write(encoder._VarintBytes(len(body)) + body)


def warm(_directory):
    call = batch_rpc()
    usccs = subjects()
    started = time.perf_counter()
    for first in range(0, len(usccs), 1000):
        response = call(pb.BatchCheckSubjectsRequest(usccs=usccs[first:first + 1000]), timeout=60)
        assert len(response.statuses) == len(usccs[first:first + 1000])
    print(f"cache filled: {len(usccs):,} subjects in {time.perf_counter() - started:.1f} s "
          f"(BatchCheckSubjects, misses read PostgreSQL)")


def batch(_directory):
    call = batch_rpc()
    usccs = subjects()
    rng = random.Random(20261201)
    times = []
    for _ in range(REPEAT):
        request = pb.BatchCheckSubjectsRequest(usccs=rng.sample(usccs, 1000))
        started = time.perf_counter()
        response = call(request, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        assert [s.uscc for s in response.statuses] == list(request.usccs)
    times.sort()
    p99 = times[min(len(times) - 1, int(0.99 * (len(times) - 1)))]
    print(f"BatchCheckSubjects x1000 (cached), {REPEAT} calls one at a time: "
          f"p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, max {times[-1]:.1f} ms")


if __name__ == "__main__":
    {"prepare": prepare, "warm": warm, "batch": batch}[sys.argv[1]](sys.argv[2])
