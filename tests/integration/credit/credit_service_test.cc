// The credit service against real PostgreSQL and Redis, through gRPC: the listing procedure,
// idempotent records and automatic proposals, the multi-replica expiry job, read-your-writes
// on the cached subject check (Redis and every replica's local cache), and checks answered
// from PostgreSQL while Redis or a replica's invalidation subscription is down.
#include "credit_service.h"

#include <grpcpp/grpcpp.h>
#include <hiredis/hiredis.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "credit_logic.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/check.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/redis.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/common/worker_pool.h"
#include "regsuite/credit/v1/credit.grpc.pb.h"
#include "test_env.h"

namespace v1 = regsuite::credit::v1;
using regsuite::common::FakeClock;
using regsuite::common::PgPool;
using regsuite::common::RedisClient;
using regsuite::common::WorkerPool;
using regsuite::credit::CreditLogic;
using regsuite::credit::CreditServiceImpl;
using regsuite::credit::CreditSettings;
using regsuite::credit::LocalCache;
using regsuite::credit::LocalCacheSync;
using regsuite::credit::SubjectCache;

namespace {

// A valid USCC that no earlier run used (the shared Redis may hold their cache entries).
std::string FreshUscc() {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(getpid()));
  static const char kDigits[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  for (;;) {
    std::string org;
    for (int i = 0; i < 8; ++i) org += "0123456789"[rng() % 10];
    const char org_check = regsuite::common::Uscc::ComputeOrganisationCheckCharacter(org);
    std::string first17 = absl::StrCat("91330100", org, std::string(1, org_check));
    const char check = regsuite::common::Uscc::ComputeCheckCharacter(first17);
    if (check == '\0') continue;
    std::string uscc = first17 + check;
    if (regsuite::common::IsValidUscc(uscc)) return uscc;
    (void)kDigits;
  }
}

// Migrated throwaway schema with the credit tables; dropped at the end.
struct Schema {
  Schema() : name(regsuite::testing::UniqueSchemaName("credit_it")) {
    regsuite::testing::MigrateSchema(name, "credit", regsuite::credit::MigrationFiles());
  }
  ~Schema() { regsuite::testing::DropSchema(name); }
  std::string name;
};

std::shared_ptr<const regsuite::common::WorkingDayCalendar> Calendar() {
  return std::make_shared<const regsuite::common::WorkingDayCalendar>(
      *regsuite::common::WorkingDayCalendar::Builtin());
}

// The local cache's invalidation subscriber on the test Redis, or on a port where nothing
// listens (the subscriber then never connects).
LocalCacheSync::Options SyncOptions(const CreditSettings& settings, bool reachable) {
  LocalCacheSync::Options options;
  options.ack_timeout = settings.local_cache_ack_timeout;
  options.redis = regsuite::testing::TestRedisOptions();
  if (!reachable) options.redis.port = 1;
  return options;
}

// One service replica in-process, on its own PostgreSQL pool, Redis client, local cache with
// its invalidation subscriber, and gRPC port.
struct Replica {
  Replica(const std::string& schema, FakeClock& clock, CreditSettings settings = {},
          bool subscriber_reachable = true)
      : pg(regsuite::testing::TestPgOptions(schema)),
        redis(regsuite::testing::TestRedisOptions()),
        cache(redis, absl::Minutes(10)),
        sync(local, redis, SyncOptions(settings, subscriber_reachable)),
        logic(pg, &cache, clock, Calendar(), settings, &sync),
        batcher(cache, clock),
        service(logic, workers, &batcher, &local) {
    RS_CHECK(logic.Init().ok());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service);
    server = builder.BuildAndStart();
    RS_CHECK(server != nullptr && port != 0);
    stub = v1::CreditService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~Replica() {
    server->Shutdown();
    workers.Shutdown();
  }

  PgPool pg;
  RedisClient redis;
  SubjectCache cache;
  LocalCache local{1000};
  LocalCacheSync sync;
  CreditLogic logic;
  WorkerPool workers{4, 1000};
  // CheckSubject's hot path (cache reads batched off the worker pool), as the binary wires it.
  regsuite::credit::CheckBatcher batcher;
  CreditServiceImpl service;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<v1::CreditService::Stub> stub;
};

template <typename Request, typename Response, typename Method>
grpc::Status Call(v1::CreditService::Stub& stub, Method method, const Request& request,
                  Response* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  grpc::Status status = (stub.*method)(&ctx, request, response);
  if (!status.ok()) UNSCOPED_INFO("call failed: " << status.error_message());
  return status;
}

v1::SubjectStatus Check(v1::CreditService::Stub& stub, const std::string& uscc) {
  v1::CheckSubjectRequest request;
  request.set_uscc(uscc);
  v1::SubjectStatus status;
  grpc::Status st = Call(stub, &v1::CreditService::Stub::CheckSubject, request, &status);
  RS_CHECK(st.ok()) << st.error_message();
  return status;
}

int64_t Count(PgPool& pg, const std::string& sql, const std::string& arg) {
  auto n = pg.Transact([&](pqxx::work& txn) -> absl::StatusOr<int64_t> {
    return txn.exec_params(sql, arg)[0][0].as<int64_t>();
  });
  RS_CHECK(n.ok()) << n.status();
  return *n;
}

// Proposes, notifies, waives and approves a black listing; returns it ACTIVE.
v1::Listing ListBlack(v1::CreditService::Stub& stub, const std::string& uscc) {
  v1::ProposeListingRequest propose;
  propose.set_uscc(uscc);
  propose.set_subject_name("某化工有限公司");
  propose.set_list_type(v1::LIST_TYPE_BLACK);
  propose.set_reason_code("BLACK_OTHER");
  propose.set_basis("应急管理部令第11号");
  v1::Listing listing;
  RS_CHECK(Call(stub, &v1::CreditService::Stub::ProposeListing, propose, &listing).ok());
  v1::NotifyListingRequest notify;
  notify.set_listing_id(listing.listing_id());
  RS_CHECK(Call(stub, &v1::CreditService::Stub::NotifyListing, notify, &listing).ok());
  v1::RecordObjectionRequest waive;
  waive.set_listing_id(listing.listing_id());
  waive.set_waive(true);
  RS_CHECK(Call(stub, &v1::CreditService::Stub::RecordObjection, waive, &listing).ok());
  v1::DecideListingRequest decide;
  decide.set_listing_id(listing.listing_id());
  decide.set_approve(true);
  decide.set_reason("事实清楚, 证据确凿");
  decide.set_decision_no("应急信〔2026〕1号");
  grpc::Status st = Call(stub, &v1::CreditService::Stub::DecideListing, decide, &listing);
  RS_CHECK(st.ok()) << st.error_message();
  return listing;
}

}  // namespace

TEST_CASE(
    "the black-list procedure through gRPC: propose, notify, object, decide, repair, revoke") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));  // a Monday
  Replica replica(schema.name, clock);
  auto& stub = *replica.stub;
  const std::string uscc = FreshUscc();
  CHECK(Check(stub, uscc).tier() == v1::CREDIT_TIER_NORMAL);

  v1::ProposeListingRequest propose;
  propose.set_uscc(uscc);
  propose.set_subject_name("某危化品经营公司");
  propose.set_list_type(v1::LIST_TYPE_BLACK);
  propose.set_reason_code("BLACK_FINE_MULTIPLE");
  propose.set_basis("安全生产法第一百一十四条");
  propose.add_evidence_refs("应急罚〔2026〕7号");
  v1::Listing listing;
  REQUIRE(Call(stub, &v1::CreditService::Stub::ProposeListing, propose, &listing).ok());
  CHECK(listing.status() == v1::LISTING_STATUS_PROPOSED);
  CHECK(Check(stub, uscc).tier() == v1::CREDIT_TIER_WATCH);

  v1::DecideListingRequest decide;
  decide.set_listing_id(listing.listing_id());
  decide.set_approve(true);
  decide.set_reason("事实清楚");
  grpc::Status early = Call(stub, &v1::CreditService::Stub::DecideListing, decide, &listing);
  CHECK(early.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(early.error_message().find("PROPOSED") != std::string::npos);

  v1::NotifyListingRequest notify;
  notify.set_listing_id(listing.listing_id());
  notify.set_notice_ref("告知书〔2026〕3号");
  REQUIRE(Call(stub, &v1::CreditService::Stub::NotifyListing, notify, &listing).ok());
  CHECK(listing.status() == v1::LISTING_STATUS_NOTIFIED);
  CHECK(listing.notified_date() == "2026-03-02");
  CHECK(listing.objection_deadline() == "2026-03-09");

  v1::RecordObjectionRequest object;
  object.set_listing_id(listing.listing_id());
  object.set_statement("罚款倍数计算有误");
  REQUIRE(Call(stub, &v1::CreditService::Stub::RecordObjection, object, &listing).ok());
  REQUIRE(listing.objections_size() == 1);

  clock.SetNow(
      absl::FromCivil(absl::CivilSecond(2026, 3, 9, 16, 0, 0), regsuite::common::BureauTimeZone()));
  grpc::Status during = Call(stub, &v1::CreditService::Stub::DecideListing, decide, &listing);
  CHECK(during.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(during.error_message().find("2026-03-09") != std::string::npos);

  clock.SetNow(
      absl::FromCivil(absl::CivilSecond(2026, 3, 10, 9, 0, 0), regsuite::common::BureauTimeZone()));
  v1::DecideListingRequest no_reason = decide;
  no_reason.clear_reason();
  grpc::Status unreasoned =
      Call(stub, &v1::CreditService::Stub::DecideListing, no_reason, &listing);
  CHECK(unreasoned.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(unreasoned.error_message().rfind("reason:", 0) == 0);

  (*decide.mutable_objection_responses())[listing.objections(0).objection_id()] =
      "经复核, 计算无误";
  decide.set_decision_no("应急信〔2026〕2号");
  REQUIRE(Call(stub, &v1::CreditService::Stub::DecideListing, decide, &listing).ok());
  CHECK(listing.status() == v1::LISTING_STATUS_ACTIVE);
  CHECK(listing.effective_from() == "2026-03-10");
  CHECK(listing.effective_until() == "2029-03-09");
  CHECK(listing.repair_eligible_from() == "2027-03-10");
  CHECK(listing.objections(0).response() == "经复核, 计算无误");
  CHECK(listing.history_size() == 4);  // proposed, notified, objection, approved

  v1::SubjectStatus status = Check(stub, uscc);
  CHECK(status.tier() == v1::CREDIT_TIER_BLACK);
  REQUIRE(status.active_listings_size() == 1);
  bool no_commitment = false;
  for (const auto& m : status.measures()) {
    if (m.code() == "NO_COMMITMENT_APPROVAL" && m.enforcing_service() == "licensing") {
      no_commitment = true;
    }
  }
  CHECK(no_commitment);
  CHECK(Count(replica.pg, "SELECT count(*) FROM outbox WHERE aggregate_id = $1",
              listing.listing_id()) == 4);

  grpc::Status again = Call(stub, &v1::CreditService::Stub::NotifyListing, notify, &listing);
  CHECK(again.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(again.error_message().find("ACTIVE") != std::string::npos);

  v1::ApplyRepairRequest apply;
  apply.set_listing_id(listing.listing_id());
  apply.set_commitment("本单位承诺依法守信经营");
  apply.set_penalty_fulfilled(true);
  apply.set_harm_removed(true);
  v1::Repair repair;
  CHECK(Call(stub, &v1::CreditService::Stub::ApplyRepair, apply, &repair).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);  // not yet 12 months on the list

  clock.SetNow(
      absl::FromCivil(absl::CivilSecond(2027, 3, 15, 9, 0, 0), regsuite::common::BureauTimeZone()));
  // 2027 has no calendar data yet: the due date cannot be computed, and that is an error.
  grpc::Status no_calendar = Call(stub, &v1::CreditService::Stub::ApplyRepair, apply, &repair);
  CHECK(no_calendar.error_code() == grpc::StatusCode::FAILED_PRECONDITION);

  clock.SetNow(absl::FromCivil(absl::CivilSecond(2026, 12, 20, 9, 0, 0),
                               regsuite::common::BureauTimeZone()));
  CHECK(Call(stub, &v1::CreditService::Stub::ApplyRepair, apply, &repair).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE(
    "a repair removes the listing at once and its revocation restores the original end date") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2025, 3, 3, 10, 0, 0));
  CreditSettings settings;
  settings.procedure.repair_min_listed_months = 12;
  Replica replica(schema.name, clock, settings);
  auto& stub = *replica.stub;
  const std::string uscc = FreshUscc();
  v1::Listing listing = ListBlack(stub, uscc);
  CHECK(listing.effective_until() == "2028-03-02");

  clock.SetNow(
      absl::FromCivil(absl::CivilSecond(2026, 3, 10, 9, 0, 0), regsuite::common::BureauTimeZone()));
  v1::ApplyRepairRequest apply;
  apply.set_listing_id(listing.listing_id());
  apply.set_commitment("信用承诺书");
  apply.set_penalty_fulfilled(true);
  v1::Repair repair;
  // 信用修复 needs the harm removed as well as the penalty carried out.
  CHECK(Call(stub, &v1::CreditService::Stub::ApplyRepair, apply, &repair).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
  apply.set_harm_removed(true);
  REQUIRE(Call(stub, &v1::CreditService::Stub::ApplyRepair, apply, &repair).ok());
  CHECK(repair.status() == v1::REPAIR_STATUS_PENDING);
  CHECK(repair.due_date() == "2026-03-13");  // 3 WD after Tue 2026-03-10

  v1::ListOverdueRepairsRequest overdue;
  overdue.set_as_of_date("2026-03-16");
  v1::ListOverdueRepairsResponse overdue_list;
  REQUIRE(Call(stub, &v1::CreditService::Stub::ListOverdueRepairs, overdue, &overdue_list).ok());
  CHECK(overdue_list.repairs_size() >= 1);

  CHECK(Check(stub, uscc).tier() == v1::CREDIT_TIER_BLACK);
  v1::DecideRepairRequest decide;
  decide.set_repair_id(repair.repair_id());
  decide.set_approve(true);
  decide.set_reason("已履行处罚, 作出信用承诺");
  REQUIRE(Call(stub, &v1::CreditService::Stub::DecideRepair, decide, &repair).ok());
  CHECK(repair.status() == v1::REPAIR_STATUS_APPROVED);
  CHECK(Check(stub, uscc).tier() == v1::CREDIT_TIER_NORMAL);
  v1::GetListingRequest get;
  get.set_listing_id(listing.listing_id());
  REQUIRE(Call(stub, &v1::CreditService::Stub::GetListing, get, &listing).ok());
  CHECK(listing.status() == v1::LISTING_STATUS_REMOVED);
  CHECK(listing.repair_id() == repair.repair_id());

  v1::RevokeRepairRequest revoke;
  revoke.set_repair_id(repair.repair_id());
  revoke.set_reason("承诺材料系伪造");
  REQUIRE(Call(stub, &v1::CreditService::Stub::RevokeRepair, revoke, &repair).ok());
  CHECK(repair.status() == v1::REPAIR_STATUS_REVOKED);
  REQUIRE(Call(stub, &v1::CreditService::Stub::GetListing, get, &listing).ok());
  CHECK(listing.status() == v1::LISTING_STATUS_ACTIVE);
  CHECK(listing.effective_until() == "2028-03-02");
  CHECK(Check(stub, uscc).tier() == v1::CREDIT_TIER_BLACK);
  CHECK(Call(stub, &v1::CreditService::Stub::RevokeRepair, revoke, &repair).error_code() ==
        grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_CASE("a repeated RecordCreditEvent creates one record") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 5, 6, 10, 0, 0));
  Replica replica(schema.name, clock);
  const std::string uscc = FreshUscc();
  v1::RecordCreditEventRequest event;
  event.set_event_id("7f1b3c1e-0d5e-4a59-9d1e-2f0e7c1a0001");
  event.set_uscc(uscc);
  event.set_kind(v1::CREDIT_RECORD_KIND_PENALTY);
  event.set_severity(v1::SEVERITY_MINOR);
  event.set_decided_date("2026-04-01");
  event.set_decision_ref("应急罚〔2026〕9号");
  v1::RecordCreditEventResponse first, second;
  REQUIRE(Call(*replica.stub, &v1::CreditService::Stub::RecordCreditEvent, event, &first).ok());
  REQUIRE(Call(*replica.stub, &v1::CreditService::Stub::RecordCreditEvent, event, &second).ok());
  CHECK_FALSE(first.duplicate());
  CHECK(second.duplicate());
  CHECK(first.record().record_id() == second.record().record_id());
  CHECK(first.record().publication_end_date() == "2026-06-30");  // 36号令 minor: 3 months
  CHECK(Count(replica.pg, "SELECT count(*) FROM credit_records WHERE uscc = $1", uscc) == 1);

  v1::RecordCreditEventRequest bad = event;
  bad.set_uscc("913100007109242800");
  v1::RecordCreditEventResponse ignored;
  grpc::Status invalid =
      Call(*replica.stub, &v1::CreditService::Stub::RecordCreditEvent, bad, &ignored);
  CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(invalid.error_message().rfind("uscc:", 0) == 0);
}

TEST_CASE("two 较大 accidents 11 months apart propose a black listing, 13 months apart do not") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 5, 6, 10, 0, 0));
  Replica replica(schema.name, clock);
  auto record = [&](const std::string& uscc, const std::string& id, const std::string& date) {
    v1::RecordCreditEventRequest event;
    event.set_event_id(id);
    event.set_uscc(uscc);
    event.set_kind(v1::CREDIT_RECORD_KIND_ACCIDENT);
    event.set_accident_level(v1::ACCIDENT_LEVEL_LARGER);
    event.set_occurred_date(date);
    event.add_evidence_refs(absl::StrCat("事故调查报告-", id));
    v1::RecordCreditEventResponse response;
    grpc::Status st =
        Call(*replica.stub, &v1::CreditService::Stub::RecordCreditEvent, event, &response);
    RS_CHECK(st.ok()) << st.error_message();
    return response;
  };
  auto proposals = [&](const std::string& uscc) {
    v1::ListListingsRequest list;
    list.set_uscc(uscc);
    v1::ListListingsResponse response;
    RS_CHECK(Call(*replica.stub, &v1::CreditService::Stub::ListListings, list, &response).ok());
    return response;
  };

  const std::string near = FreshUscc();
  record(near, "acc-near-1", "2025-02-01");
  auto second = record(near, "acc-near-2", "2026-01-01");
  REQUIRE(second.listing_reason_codes_size() == 1);
  CHECK(second.listing_reason_codes(0) == "BLACK_TWO_LARGER_ACCIDENTS_12M");
  auto near_listings = proposals(near);
  REQUIRE(near_listings.listings_size() == 1);
  CHECK(near_listings.listings(0).status() == v1::LISTING_STATUS_PROPOSED);
  CHECK(near_listings.listings(0).record_ids_size() == 2);
  CHECK(near_listings.listings(0).evidence_refs_size() == 2);
  CHECK(Check(*replica.stub, near).tier() == v1::CREDIT_TIER_WATCH);

  const std::string far = FreshUscc();
  record(far, "acc-far-1", "2024-11-01");
  auto far_second = record(far, "acc-far-2", "2025-12-01");
  CHECK(far_second.listing_reason_codes_size() == 0);
  CHECK(proposals(far).listings_size() == 0);
}

TEST_CASE("the expiry job run by two replicas at once expires each listing exactly once") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  Replica a(schema.name, clock);
  Replica b(schema.name, clock);
  std::vector<std::string> ids;
  std::vector<std::string> usccs;
  for (int i = 0; i < 12; ++i) {
    usccs.push_back(FreshUscc());
    ids.push_back(ListBlack(*a.stub, usccs.back()).listing_id());
  }
  CHECK(Check(*b.stub, usccs[0]).tier() == v1::CREDIT_TIER_BLACK);

  v1::ExpireListingsRequest request;
  request.set_as_of_date("2029-03-10");  // listed 2026-03-02 .. 2029-03-01
  v1::ExpireListingsResponse from_a, from_b;
  grpc::Status sa, sb;
  auto expire = [&](Replica& replica, v1::ExpireListingsResponse* out) {
    grpc::ClientContext ctx;  // not Call(): Catch2 assertions are main-thread only
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    return replica.stub->ExpireListings(&ctx, request, out);
  };
  std::thread ta([&] { sa = expire(a, &from_a); });
  std::thread tb([&] { sb = expire(b, &from_b); });
  ta.join();
  tb.join();
  REQUIRE(sa.ok());
  REQUIRE(sb.ok());
  std::multiset<std::string> expired(from_a.expired_listing_ids().begin(),
                                     from_a.expired_listing_ids().end());
  expired.insert(from_b.expired_listing_ids().begin(), from_b.expired_listing_ids().end());
  CHECK(expired.size() == ids.size());
  for (const auto& id : ids) {
    CHECK(expired.count(id) == 1);
    CHECK(Count(a.pg,
                "SELECT count(*) FROM listing_events WHERE listing_id = $1::uuid AND action = 7",
                id) == 1);
  }
  CHECK(
      Count(a.pg, "SELECT count(*) FROM outbox WHERE event_type = $1", "credit.listing_changed") ==
      static_cast<int64_t>(ids.size()) * 8);  // 4 subscribers x (published + expired)

  clock.SetNow(
      absl::FromCivil(absl::CivilSecond(2029, 3, 10, 9, 0, 0), regsuite::common::BureauTimeZone()));
  CHECK(Check(*b.stub, usccs[0]).tier() == v1::CREDIT_TIER_NORMAL);
}

TEST_CASE(
    "a check made after DecideListing returned never sees the old tier, even while others fill the "
    "cache") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  Replica writer(schema.name, clock);
  Replica reader(schema.name, clock);
  std::vector<std::string> usccs;
  for (int i = 0; i < 10; ++i) usccs.push_back(FreshUscc());

  std::atomic<bool> stop{false};
  std::atomic<int> filler_errors{0};
  std::vector<std::thread> fillers;
  for (int t = 0; t < 3; ++t) {
    fillers.emplace_back([&] {
      while (!stop.load()) {
        v1::BatchCheckSubjectsRequest batch;
        for (const auto& u : usccs) batch.add_usccs(u);
        v1::BatchCheckSubjectsResponse ignored;
        grpc::ClientContext ctx;  // not Call(): Catch2 assertions are main-thread only
        ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
        if (!reader.stub->BatchCheckSubjects(&ctx, batch, &ignored).ok()) ++filler_errors;
      }
    });
  }
  int stale = 0;
  for (const auto& uscc : usccs) {
    (void)Check(*reader.stub, uscc);  // warm the cache with NORMAL
    ListBlack(*writer.stub, uscc);
    if (Check(*reader.stub, uscc).tier() != v1::CREDIT_TIER_BLACK) ++stale;
    if (Check(*writer.stub, uscc).tier() != v1::CREDIT_TIER_BLACK) ++stale;
  }
  stop.store(true);
  for (auto& t : fillers) t.join();
  CHECK(stale == 0);
  CHECK(filler_errors.load() == 0);
  // And the cache settles on the new value.
  for (const auto& uscc : usccs) CHECK(Check(*reader.stub, uscc).tier() == v1::CREDIT_TIER_BLACK);
}

TEST_CASE("batch check: request order, duplicates, unknown subjects NORMAL, invalid index named") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  Replica replica(schema.name, clock);
  const std::string listed = FreshUscc();
  ListBlack(*replica.stub, listed);
  v1::BatchCheckSubjectsRequest batch;
  const std::string unknown = FreshUscc();
  batch.add_usccs(unknown);
  batch.add_usccs(listed);
  batch.add_usccs(absl::AsciiStrToLower(listed));
  v1::BatchCheckSubjectsResponse response;
  REQUIRE(Call(*replica.stub, &v1::CreditService::Stub::BatchCheckSubjects, batch, &response).ok());
  REQUIRE(response.statuses_size() == 3);
  CHECK(response.statuses(0).tier() == v1::CREDIT_TIER_NORMAL);
  CHECK(response.statuses(0).uscc() == unknown);
  CHECK(response.statuses(1).tier() == v1::CREDIT_TIER_BLACK);
  CHECK(response.statuses(2).tier() == v1::CREDIT_TIER_BLACK);

  batch.add_usccs("913100007109242800");
  grpc::Status invalid =
      Call(*replica.stub, &v1::CreditService::Stub::BatchCheckSubjects, batch, &response);
  CHECK(invalid.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(invalid.error_message().rfind("usccs[3]:", 0) == 0);

  v1::BatchCheckSubjectsRequest too_many;
  for (int i = 0; i < 1001; ++i) too_many.add_usccs(unknown);
  CHECK(Call(*replica.stub, &v1::CreditService::Stub::BatchCheckSubjects, too_many, &response)
            .error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_CASE(
    "with Redis stopped, checks are answered from PostgreSQL and stay correct after it restarts") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  Replica replica(schema.name, clock);
  const std::string before = FreshUscc();
  const std::string during = FreshUscc();
  ListBlack(*replica.stub, before);
  CHECK(Check(*replica.stub, before).tier() == v1::CREDIT_TIER_BLACK);
  CHECK(Check(*replica.stub, during).tier() == v1::CREDIT_TIER_NORMAL);  // cached NORMAL

  regsuite::testing::StopRedis();
  CHECK(Check(*replica.stub, before).tier() == v1::CREDIT_TIER_BLACK);
  ListBlack(*replica.stub, during);  // invalidation fails and is kept for replay
  CHECK(Check(*replica.stub, during).tier() == v1::CREDIT_TIER_BLACK);
  regsuite::testing::StartRedis();

  CHECK(
      regsuite::testing::Eventually([&] { return replica.redis.Ping().ok(); }, absl::Seconds(20)));
  CHECK(Check(*replica.stub, during).tier() == v1::CREDIT_TIER_BLACK);
  CHECK(Check(*replica.stub, before).tier() == v1::CREDIT_TIER_BLACK);
}

namespace {

// The envelope of a serious PenaltyDecided with a fine at 3× its base (a black-list situation).
regsuite::events::v1::EventEnvelope SeriousPenaltyEvent(const std::string& uscc,
                                                       const std::string& event_id) {
  regsuite::events::v1::PenaltyDecided penalty;
  penalty.set_case_id("case-" + uscc);
  penalty.set_decision_no("应急罚〔2026〕" + uscc.substr(14) + "号");
  penalty.set_decision_date("2026-05-06");
  penalty.set_uscc(uscc);
  penalty.set_party_name("某矿业公司");
  penalty.set_severity(regsuite::events::v1::SEVERITY_SERIOUS);
  penalty.set_fine_fen(30000000);
  penalty.set_fine_multiple(3);
  regsuite::events::v1::EventEnvelope envelope;
  envelope.set_event_id(event_id);
  envelope.set_source_service("inspection");
  envelope.set_aggregate_type("penalty_case");
  envelope.set_aggregate_id(penalty.case_id());
  envelope.set_event_type("inspection.penalty_decided");
  envelope.set_payload_type("regsuite.events.v1.PenaltyDecided");
  envelope.set_payload(penalty.SerializeAsString());
  return envelope;
}

}  // namespace

TEST_CASE("DeliverEvent: a PenaltyDecided at a 3x fine records once and proposes a black listing") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 5, 6, 10, 0, 0));
  Replica replica(schema.name, clock);
  const std::string uscc = FreshUscc();
  const auto envelope = SeriousPenaltyEvent(uscc, "0b8a4a8e-8a34-4c8f-9a59-1e0d2c3b4a01");
  regsuite::events::v1::EventAck ack, again;
  REQUIRE(Call(*replica.stub, &v1::CreditService::Stub::DeliverEvent, envelope, &ack).ok());
  REQUIRE(Call(*replica.stub, &v1::CreditService::Stub::DeliverEvent, envelope, &again).ok());
  CHECK_FALSE(ack.duplicate());
  CHECK(again.duplicate());
  CHECK(Count(replica.pg, "SELECT count(*) FROM credit_records WHERE uscc = $1", uscc) == 1);
  CHECK(
      Count(replica.pg,
            "SELECT count(*) FROM listings WHERE uscc = $1 AND reason_code = 'BLACK_FINE_MULTIPLE' "
            "AND status = 1",
            uscc) == 1);
  CHECK(Check(*replica.stub, uscc).tier() == v1::CREDIT_TIER_WATCH);
}

TEST_CASE("DeliverEvents: a batch records each penalty once and drops the cached answers after") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 5, 6, 10, 0, 0));
  Replica replica(schema.name, clock);
  const std::string first = FreshUscc(), second = FreshUscc();
  // Both answered NORMAL and cached before the batch.
  REQUIRE(Check(*replica.stub, first).tier() == v1::CREDIT_TIER_NORMAL);
  REQUIRE(Check(*replica.stub, second).tier() == v1::CREDIT_TIER_NORMAL);
  regsuite::events::v1::EventBatch batch;
  *batch.add_events() = SeriousPenaltyEvent(first, "5d7c3f0a-1b2c-4d5e-8f90-a1b2c3d4e501");
  auto foreign = SeriousPenaltyEvent(first, "5d7c3f0a-1b2c-4d5e-8f90-a1b2c3d4e502");
  foreign.set_payload_type("regsuite.events.v1.DrawPublished");
  *batch.add_events() = foreign;
  *batch.add_events() = SeriousPenaltyEvent(second, "5d7c3f0a-1b2c-4d5e-8f90-a1b2c3d4e503");
  regsuite::events::v1::EventBatchAck ack, again;
  REQUIRE(Call(*replica.stub, &v1::CreditService::Stub::DeliverEvents, batch, &ack).ok());
  REQUIRE(ack.results_size() == 3);
  CHECK(ack.results(0).code() == 0);
  CHECK(ack.results(1).code() == static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  CHECK(ack.results(1).message() ==
        "payload_type: credit does not handle regsuite.events.v1.DrawPublished");
  CHECK(ack.results(2).code() == 0);
  REQUIRE(Call(*replica.stub, &v1::CreditService::Stub::DeliverEvents, batch, &again).ok());
  CHECK(again.results(0).duplicate());
  CHECK(again.results(2).duplicate());
  for (const auto& uscc : {first, second}) {
    INFO(uscc);
    CHECK(Count(replica.pg, "SELECT count(*) FROM credit_records WHERE uscc = $1", uscc) == 1);
    // At once, without waiting for a cache to expire: the batch's commit dropped the answers.
    CHECK(Check(*replica.stub, uscc).tier() == v1::CREDIT_TIER_WATCH);
  }
}

TEST_CASE(
    "profile grade follows the records; measures name their enforcing service; late objections are "
    "refused") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 5, 6, 10, 0, 0));
  Replica replica(schema.name, clock);
  auto& stub = *replica.stub;
  const std::string uscc = FreshUscc();
  v1::RecordCreditEventRequest event;
  event.set_event_id("grade-1");
  event.set_uscc(uscc);
  event.set_kind(v1::CREDIT_RECORD_KIND_PENALTY);
  event.set_severity(v1::SEVERITY_SERIOUS);
  event.set_decided_date("2026-04-20");
  v1::RecordCreditEventResponse recorded;
  REQUIRE(Call(stub, &v1::CreditService::Stub::RecordCreditEvent, event, &recorded).ok());
  v1::GetCreditProfileRequest get;
  get.set_uscc(uscc);
  v1::CreditProfile profile;
  REQUIRE(Call(stub, &v1::CreditService::Stub::GetCreditProfile, get, &profile).ok());
  CHECK(profile.records_size() == 1);
  CHECK(profile.score() == 80);
  CHECK(profile.grade() == v1::CREDIT_GRADE_B);
  CHECK(profile.grade_rule_version() == "2026-01-01");
  CHECK(Check(stub, uscc).grade() == v1::CREDIT_GRADE_B);

  v1::ListMeasuresRequest measures_request;
  measures_request.set_list_type(v1::LIST_TYPE_RED);
  v1::ListMeasuresResponse measures;
  REQUIRE(Call(stub, &v1::CreditService::Stub::ListMeasures, measures_request, &measures).ok());
  bool max_inspections = false;
  for (const auto& m : measures.measures()) {
    CHECK(m.list_type() == v1::LIST_TYPE_RED);
    if (m.code() == "MAX_INSPECTIONS_1_PER_YEAR")
      max_inspections = m.enforcing_service() == "inspection";
  }
  CHECK(max_inspections);

  v1::ProposeListingRequest propose;
  propose.set_uscc(uscc);
  propose.set_list_type(v1::LIST_TYPE_BLACK);
  propose.set_reason_code("BLACK_OTHER");
  propose.set_basis("应急管理部令第11号");
  v1::Listing listing;
  REQUIRE(Call(stub, &v1::CreditService::Stub::ProposeListing, propose, &listing).ok());
  v1::NotifyListingRequest notify;
  notify.set_listing_id(listing.listing_id());
  REQUIRE(Call(stub, &v1::CreditService::Stub::NotifyListing, notify, &listing).ok());
  CHECK(listing.objection_deadline() == "2026-05-12");  // 5/7, 5/8, Sat 5/9 (make-up), 5/11, 5/12
  clock.SetNow(
      absl::FromCivil(absl::CivilSecond(2026, 5, 14, 9, 0, 0), regsuite::common::BureauTimeZone()));
  v1::RecordObjectionRequest late;
  late.set_listing_id(listing.listing_id());
  late.set_statement("迟到的申辩");
  grpc::Status refused = Call(stub, &v1::CreditService::Stub::RecordObjection, late, &listing);
  CHECK(refused.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK(refused.error_message().find("NOTIFIED") != std::string::npos);
  v1::DecideListingRequest stale;
  stale.set_listing_id(listing.listing_id());
  stale.set_reason("r");
  stale.set_etag("999");
  CHECK(Call(stub, &v1::CreditService::Stub::DecideListing, stale, &listing).error_code() ==
        grpc::StatusCode::ABORTED);
}

namespace {

bool Subscribed(Replica& replica) {
  return regsuite::testing::Eventually([&] { return replica.sync.subscribed(); },
                                       absl::Seconds(10));
}

// Checks `uscc` until the replica answers it from its local cache.
bool WarmLocally(Replica& replica, const std::string& uscc, absl::CivilDay today) {
  for (int i = 0; i < 3; ++i) {
    (void)Check(*replica.stub, uscc);
    if (replica.local.Get(uscc, today) != nullptr) return true;
  }
  return false;
}

}  // namespace

TEST_CASE(
    "a check on replica B right after DecideListing returned on replica A sees the new tier, "
    "though B held the old one in its local cache") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  Replica a(schema.name, clock);
  Replica b(schema.name, clock);
  REQUIRE(Subscribed(a));
  REQUIRE(Subscribed(b));
  for (int i = 0; i < 5; ++i) {
    const std::string uscc = FreshUscc();
    REQUIRE(WarmLocally(a, uscc, clock.Today()));
    REQUIRE(WarmLocally(b, uscc, clock.Today()));
    const uint64_t hits_before = b.local.stats().hits;
    CHECK(Check(*b.stub, uscc).tier() == v1::CREDIT_TIER_NORMAL);
    CHECK(b.local.stats().hits == hits_before + 1);  // served on gRPC's thread, no Redis

    ListBlack(*a.stub, uscc);
    CHECK(Check(*b.stub, uscc).tier() == v1::CREDIT_TIER_BLACK);
    CHECK(Check(*a.stub, uscc).tier() == v1::CREDIT_TIER_BLACK);
    // Both caches hold the new tier again.
    REQUIRE(WarmLocally(b, uscc, clock.Today()));
    CHECK(b.local.Get(uscc, clock.Today())->tier() == v1::CREDIT_TIER_BLACK);
  }
  CHECK(a.sync.ack_timeouts() == 0);
  CHECK(a.sync.publish_failures() == 0);
}

TEST_CASE(
    "a replica whose invalidation subscriber is not connected bypasses its local cache and "
    "sees every change") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  Replica a(schema.name, clock);
  Replica cut_off(schema.name, clock, {}, /*subscriber_reachable=*/false);
  REQUIRE(Subscribed(a));
  const std::string uscc = FreshUscc();
  for (int i = 0; i < 3; ++i) {
    CHECK(Check(*cut_off.stub, uscc).tier() == v1::CREDIT_TIER_NORMAL);
  }
  CHECK_FALSE(cut_off.sync.subscribed());
  CHECK(cut_off.local.Get(uscc, clock.Today()) == nullptr);
  CHECK(cut_off.local.stats().entries == 0);
  ListBlack(*a.stub, uscc);
  CHECK(Check(*cut_off.stub, uscc).tier() == v1::CREDIT_TIER_BLACK);
  CHECK(cut_off.local.stats().hits == 0);
}

TEST_CASE("a replica that loses its subscription empties its local cache until it resubscribes") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  Replica replica(schema.name, clock);
  REQUIRE(Subscribed(replica));
  const std::string uscc = FreshUscc();
  REQUIRE(WarmLocally(replica, uscc, clock.Today()));
  // Redis drops every subscriber connection (as on a restart or a network cut).
  auto killed = replica.redis.Command({"CLIENT", "KILL", "TYPE", "pubsub"});
  REQUIRE(killed.ok());
  CHECK(regsuite::testing::Eventually(
      [&] { return replica.local.Get(uscc, clock.Today()) == nullptr; }, absl::Seconds(10)));
  REQUIRE(Subscribed(replica));
  ListBlack(*replica.stub, uscc);
  CHECK(Check(*replica.stub, uscc).tier() == v1::CREDIT_TIER_BLACK);
  CHECK(WarmLocally(replica, uscc, clock.Today()));
}

TEST_CASE(
    "a subscriber that never acknowledges makes the decision wait at most the ack timeout; the "
    "timeout is counted and the decision succeeds") {
  Schema schema;
  FakeClock clock(absl::CivilSecond(2026, 3, 2, 10, 0, 0));
  CreditSettings settings;
  settings.local_cache_ack_timeout = absl::Milliseconds(50);
  Replica replica(schema.name, clock, settings);
  REQUIRE(Subscribed(replica));
  // A stalled replica: subscribed, never reads its messages.
  const auto redis = regsuite::testing::TestRedisOptions();
  std::unique_ptr<redisContext, void (*)(redisContext*)> stalled(
      redisConnect(redis.host.c_str(), redis.port), redisFree);
  REQUIRE(stalled != nullptr);
  REQUIRE(stalled->err == 0);
  void* subscribed = redisCommand(stalled.get(), "SUBSCRIBE %s", LocalCacheSync::kChannel);
  REQUIRE(subscribed != nullptr);
  freeReplyObject(subscribed);

  const std::string uscc = FreshUscc();
  ListBlack(*replica.stub, uscc);  // every change of the procedure publishes
  CHECK(replica.sync.ack_timeouts() >= 1);
  CHECK(replica.sync.publish_failures() == 0);
  CHECK(Check(*replica.stub, uscc).tier() == v1::CREDIT_TIER_BLACK);
}
