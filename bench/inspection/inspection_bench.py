"""Directory import and draw timings of a running inspection service (bench/inspection/run.sh).

1. ImportEnterprises: BENCH_ENTERPRISES rows (default 1,000,000) in batches of 10,000 over
   gRPC, directly to the service; rows/s includes this client's serialisation.
2. BENCH_INSPECTORS inspectors (default 10,000) through UpsertInspector (not timed).
3. DrawInspections over every enterprise (5%, teams of 2, fixed seed), then VerifyDraw.
With BENCH_REUSE_DATA=1 (and run.sh not emptying the schema) steps 1-2 are skipped when the
directory already holds the last enterprise of a previous run.
"""
import os
import sys
import time

import grpc

from benchlib import make_uscc

from regsuite.inspection.v1 import inspection_pb2 as pb

SERVICE = "/regsuite.inspection.v1.InspectionService/"
ENTERPRISES = int(os.environ.get("BENCH_ENTERPRISES", "1000000"))
INSPECTORS = int(os.environ.get("BENCH_INSPECTORS", "10000"))
BATCH = 10000
REGIONS = ["350102", "350103", "350104", "350105", "350111", "350121", "350122", "350123"]
INDUSTRIES = ["危险化学品", "烟花爆竹", "非煤矿山", "冶金", "工贸"]


def rpc(channel, method, request_type, response_type):
    return channel.unary_unary(SERVICE + method, request_serializer=request_type.SerializeToString,
                               response_deserializer=response_type.FromString)


def main():
    channel = grpc.insecure_channel(os.environ["BENCH_TARGET"],
                                    options=[("grpc.max_send_message_length", 64 << 20),
                                             ("grpc.max_receive_message_length", 64 << 20)])
    if os.environ.get("BENCH_REUSE_DATA") == "1" and already_imported(channel):
        print("import: skipped (BENCH_REUSE_DATA=1, directory already loaded)")
    else:
        load_directory(channel)
    return measure_draws(channel)


def already_imported(channel):
    get = rpc(channel, "GetEnterprise", pb.GetEnterpriseRequest, pb.Enterprise)
    try:
        get(pb.GetEnterpriseRequest(uscc=make_uscc(REGIONS[(ENTERPRISES - 1) % len(REGIONS)],
                                                   ENTERPRISES)), timeout=30)
        return True
    except grpc.RpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            return False
        raise


def load_directory(channel):
    import_rpc = rpc(channel, "ImportEnterprises", pb.ImportEnterprisesRequest,
                     pb.ImportEnterprisesResponse)
    started = time.perf_counter()
    inserted = rejected = 0
    for first in range(0, ENTERPRISES, BATCH):
        request = pb.ImportEnterprisesRequest(source="bench", batch_id="bench-%d" % first)
        for n in range(first, min(first + BATCH, ENTERPRISES)):
            region = REGIONS[n % len(REGIONS)]
            request.enterprises.add(uscc=make_uscc(region, n + 1), name="企业%07d有限公司" % n,
                                    industry=INDUSTRIES[n % len(INDUSTRIES)], region_code=region,
                                    address="福州市某区某路%d号" % n)
        response = import_rpc(request, timeout=600)
        inserted += response.inserted + response.updated + response.unchanged
        rejected += response.rejected
    seconds = time.perf_counter() - started
    print(f"import: {inserted} rows accepted, {rejected} rejected in {seconds:.1f} s "
          f"= {inserted / seconds:,.0f} rows/s")

    inspector_rpc = rpc(channel, "UpsertInspector", pb.UpsertInspectorRequest, pb.Inspector)
    for n in range(INSPECTORS):
        inspector_id = "BENCH%05d" % n
        inspector_rpc(pb.UpsertInspectorRequest(inspector_id=inspector_id, inspector=pb.Inspector(
            inspector_id=inspector_id, name="检查员%05d" % n, certificate_no="ZF%08d" % n,
            certificate_expiry="2030-12-31", unit="应急管理局执法支队",
            region_code=REGIONS[n % len(REGIONS)], active=True)), timeout=30)
    rpc(channel, "UpsertCheckItem", pb.UpsertCheckItemRequest, pb.CheckItem)(
        pb.UpsertCheckItemRequest(code="BENCH-ITEM", check_item=pb.CheckItem(
            code="BENCH-ITEM", name="安全生产基础管理", legal_basis="《中华人民共和国安全生产法》",
            safety_critical=True)), timeout=30)


def measure_draws(channel):
    draw_rpc = rpc(channel, "DrawInspections", pb.DrawInspectionsRequest, pb.Draw)
    # The first draw right after the import also pays PostgreSQL's first pass over the fresh
    # rows (hint bits); the second is the steady state.
    for label in ("draw (first after the import)", "draw (again)"):
        started = time.perf_counter()
        draw = draw_rpc(pb.DrawInspectionsRequest(
            check_item_code="BENCH-ITEM", ratio=0.05, team_size=2, seed=20261201,
            drawn_by="bench", idempotency_key="bench-draw-%d" % time.time_ns()), timeout=600)
        print(f"{label}: {draw.candidate_count:,} candidates, {draw.inspector_count:,} "
              f"inspectors, {len(draw.enterprises):,} drawn in {time.perf_counter() - started:.2f} s "
              f"(credit: {draw.credit_check})")
    verify_rpc = rpc(channel, "VerifyDraw", pb.VerifyDrawRequest, pb.VerifyDrawResponse)
    started = time.perf_counter()
    verified = verify_rpc(pb.VerifyDrawRequest(draw_id=draw.draw_id), timeout=600)
    print(f"verify: matches={verified.matches} in {time.perf_counter() - started:.2f} s")
    return 0 if verified.matches else 1


if __name__ == "__main__":
    sys.exit(main())
