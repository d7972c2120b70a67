// Shared by the inspection integration tests: the service in-process over a throwaway
// PostgreSQL schema, call helpers and a seeded directory.
#pragma once

#include <catch2/catch.hpp>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "inspection_service.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/check.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "store_util.h"
#include "test_env.h"

namespace inspection_test {

namespace v1 = regsuite::inspection::v1;
using regsuite::common::Uscc;


inline std::string MakeUscc(int n, const std::string& region = "330106") {
  std::string org8 = absl::StrFormat("%08d", n);
  std::string org = org8 + Uscc::ComputeOrganisationCheckCharacter(org8);
  std::string first17 = "91" + region + org;
  return first17 + Uscc::ComputeCheckCharacter(first17);
}

/// The service in-process on 127.0.0.1:0 over a fresh schema, with a fake clock.
class Harness {
 public:
  explicit Harness(regsuite::inspection::InspectionOptions options = DefaultOptions())
      : schema_(regsuite::testing::UniqueSchemaName("insp")),
        clock_(absl::CivilSecond(2026, 11, 23, 10, 0, 0)),
        workers_(2, 256) {
    regsuite::testing::MigrateSchema(schema_, "inspection",
                                     regsuite::inspection::MigrationFiles());
    pool_ = std::make_unique<regsuite::common::PgPool>(regsuite::testing::TestPgOptions(schema_));
    auto calendar = regsuite::common::WorkingDayCalendar::Builtin();
    RS_CHECK(calendar.ok());
    service_ = std::make_unique<regsuite::inspection::InspectionServiceImpl>(
        regsuite::inspection::InspectionDeps{
            .pg = *pool_,
            .workers = workers_,
            .clock = clock_,
            .calendar = std::make_shared<regsuite::common::WorkingDayCalendar>(*calendar),
            .gateway = nullptr,
            .options = options});
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    stub_ = v1::InspectionService::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  ~Harness() {
    server_->Shutdown();
    workers_.Shutdown();
    service_.reset();
    pool_.reset();
    regsuite::testing::DropSchema(schema_);
  }

  /// Defaults, without the background hazard sweep (tests run it explicitly).
  static regsuite::inspection::InspectionOptions DefaultOptions() {
    regsuite::inspection::InspectionOptions options;
    options.hazard_sweep_interval = absl::ZeroDuration();
    return options;
  }

  v1::InspectionService::Stub& stub() { return *stub_; }
  regsuite::common::FakeClock& clock() { return clock_; }
  regsuite::inspection::InspectionServiceImpl& service() { return *service_; }

  int64_t Count(const std::string& sql) {
    pqxx::connection conn(regsuite::testing::TestPgOptions(schema_).ConnectionString());
    pqxx::nontransaction txn(conn);
    return txn.exec(sql)[0][0].as<int64_t>();
  }
  void Exec(const std::string& sql) {
    pqxx::connection conn(regsuite::testing::TestPgOptions(schema_).ConnectionString());
    pqxx::nontransaction txn(conn);
    txn.exec(sql);
  }

  /// A draw's recorded candidate snapshot text (stored zstd-compressed).
  std::string CandidateSnapshot(const std::string& draw_id) {
    pqxx::connection conn(regsuite::testing::TestPgOptions(schema_).ConnectionString());
    pqxx::nontransaction txn(conn);
    const pqxx::binarystring bytes(txn.exec_params(
        "SELECT candidate_snapshot_zstd FROM draws WHERE draw_id = $1", draw_id)[0][0]);
    auto text = regsuite::inspection::DecompressSnapshot(
        absl::string_view(bytes.get(), bytes.size()));
    RS_CHECK(text.ok()) << text.status().message();
    return *text;
  }
  /// Replaces it, compressed (`as_text`: in the text column of draws recorded before zstd).
  void SetCandidateSnapshot(const std::string& draw_id, const std::string& text, bool as_text) {
    pqxx::connection conn(regsuite::testing::TestPgOptions(schema_).ConnectionString());
    pqxx::nontransaction txn(conn);
    if (as_text) {
      txn.exec_params("UPDATE draws SET candidate_snapshot = $2, candidate_snapshot_zstd = NULL "
                      "WHERE draw_id = $1", draw_id, text);
    } else {
      txn.exec_params("UPDATE draws SET candidate_snapshot_zstd = $2 WHERE draw_id = $1", draw_id,
                      pqxx::binarystring(regsuite::inspection::CompressSnapshot(text)));
    }
  }

 private:
  std::string schema_;
  regsuite::common::FakeClock clock_;
  regsuite::common::WorkerPool workers_;
  std::unique_ptr<regsuite::common::PgPool> pool_;
  std::unique_ptr<regsuite::inspection::InspectionServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::InspectionService::Stub> stub_;
};

template <typename Method, typename Request, typename Response>
grpc::Status Call(Method method, v1::InspectionService::Stub& stub, const Request& request,
                  Response* response) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return (stub.*method)(&ctx, request, response);
}

#define CALL(h, Method, request, response) \
  Call(&v1::InspectionService::Stub::Method, (h).stub(), request, response)

inline v1::Enterprise EnterpriseRow(int n, const std::string& industry = "危险化学品") {
  v1::Enterprise e;
  e.set_uscc(MakeUscc(n));
  e.set_name(absl::StrCat("企业", n));
  e.set_industry(industry);
  e.set_region_code("330106");
  e.set_risk_level(v1::RISK_LEVEL_GENERAL);
  return e;
}

inline void SeedDirectory(Harness& h, int enterprises, int inspectors) {
  v1::ImportEnterprisesRequest import;
  for (int i = 1; i <= enterprises; ++i) *import.add_enterprises() = EnterpriseRow(i);
  v1::ImportEnterprisesResponse report;
  REQUIRE(CALL(h, ImportEnterprises, import, &report).ok());
  REQUIRE(report.inserted() == enterprises);
  for (int i = 0; i < inspectors; ++i) {
    v1::UpsertInspectorRequest req;
    auto* in = req.mutable_inspector();
    in->set_inspector_id(absl::StrFormat("I%03d", i));
    in->set_name(absl::StrCat("检查员", i));
    in->set_certificate_no(absl::StrCat("3301", 1000 + i));
    in->set_certificate_expiry("2028-12-31");
    in->set_region_code("330100");
    in->set_active(true);
    if (i == 0) in->add_conflict_usccs(MakeUscc(1));
    v1::Inspector out;
    REQUIRE(CALL(h, UpsertInspector, req, &out).ok());
  }
  v1::UpsertCheckItemRequest item;
  item.mutable_check_item()->set_code("WHP-01");
  item.mutable_check_item()->set_name("危险化学品储存安全");
  item.mutable_check_item()->set_legal_basis("《危险化学品安全管理条例》第二十四条");
  v1::CheckItem out;
  REQUIRE(CALL(h, UpsertCheckItem, item, &out).ok());
  item.mutable_check_item()->set_code("GEN-02");
  item.mutable_check_item()->set_name("安全生产教育培训");
  item.mutable_check_item()->set_legal_basis("《安全生产法》第二十八条");
  REQUIRE(CALL(h, UpsertCheckItem, item, &out).ok());
}

/// A start of enterprise n's inspection on `item` by I001 and I002 on 2026-11-23.
inline v1::StartInspectionRequest Start(int n, v1::InspectionOrigin origin,
                                        const std::string& item) {
  v1::StartInspectionRequest start;
  start.set_origin(origin);
  start.set_origin_ref(absl::StrCat("REF-", n, "-", origin));
  start.set_uscc(MakeUscc(n));
  start.add_check_item_codes(item);
  start.add_inspector_ids("I001");
  start.add_inspector_ids("I002");
  start.set_planned_date("2026-11-23");
  start.set_started_by("科长");
  return start;
}

}  // namespace inspection_test
