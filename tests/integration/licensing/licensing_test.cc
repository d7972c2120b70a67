// Licensing against real PostgreSQL and Redis, with an in-process fake CreditService as the
// gateway target: the application state machine, 一次性告知, the 5-WD rule, 容缺, 告知承诺 / 秒批
// and its fall-backs, e-certificate signatures, lifecycle events and the reminder job.
#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>
#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "certificate_signer.h"
#include "credit_checker.h"
#include "licensing_logic.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/gateway_client.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "regsuite/credit/v1/credit.grpc.pb.h"
#include "test_env.h"

namespace {

namespace v1 = regsuite::licensing::v1;
namespace ev = regsuite::events::v1;
using regsuite::common::FakeClock;
using regsuite::common::PgPool;
using regsuite::common::RedisClient;
using namespace regsuite::licensing;  // NOLINT

constexpr char kClean[] = "91350100M000100Y43";
constexpr char kBlack[] = "91110000802100433B";
constexpr char kOther[] = "91330100799655058B";

/// CreditService.CheckSubject with answers set by the test; unknown subjects are NORMAL.
class FakeCreditService final : public regsuite::credit::v1::CreditService::Service {
 public:
  grpc::Status CheckSubject(grpc::ServerContext*,
                            const regsuite::credit::v1::CheckSubjectRequest* request,
                            regsuite::credit::v1::SubjectStatus* response) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    response->set_uscc(request->uscc());
    response->set_tier(regsuite::credit::v1::CREDIT_TIER_NORMAL);
    if (no_commitment_.count(request->uscc())) {
      response->set_tier(regsuite::credit::v1::CREDIT_TIER_BLACK);
      response->add_measures()->set_code("NO_COMMITMENT_APPROVAL");
    }
    return grpc::Status::OK;
  }
  void SetNoCommitmentApproval(const std::string& uscc) {
    std::lock_guard<std::mutex> lock(mu_);
    no_commitment_.insert(uscc);
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::set<std::string> no_commitment_;
  int calls_ = 0;
};

/// One throwaway schema with the licensing migrations, a fake credit server behind a
/// GatewayClient, a fresh signing key and the logic under test.
struct Fixture {
  enum class Credit { kFake, kUnreachable, kNoGateway };

  explicit Fixture(Credit mode = Credit::kFake)
      : schema(regsuite::testing::UniqueSchemaName("licensing")),
        pool(regsuite::testing::TestPgOptions(schema)),
        redis(regsuite::testing::TestRedisOptions()),
        clock(absl::CivilSecond(2026, 9, 28, 10, 0, 0)),
        calendar(std::make_shared<regsuite::common::WorkingDayCalendar>(
            *regsuite::common::WorkingDayCalendar::Builtin())) {
    regsuite::testing::MigrateSchema(schema, schema, MigrationFiles());
    ClearCreditCache();
    if (mode == Credit::kFake) {
      grpc::ServerBuilder builder;
      int port = 0;
      builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
      builder.RegisterService(&fake_credit);
      server = builder.BuildAndStart();
      REQUIRE(server != nullptr);
      gateway = std::make_unique<regsuite::common::GatewayClient>(
          grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()),
          regsuite::common::ServiceIdentity{}, absl::Seconds(5),
          regsuite::common::SystemClock::Get());  // deadlines need real time
    } else if (mode == Credit::kUnreachable) {
      int port = regsuite::testing::FreePort();  // nothing listens there
      gateway = std::make_unique<regsuite::common::GatewayClient>(
          grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()),
          regsuite::common::ServiceIdentity{}, absl::Milliseconds(300),
          regsuite::common::SystemClock::Get());
    }
    credit = std::make_unique<GatewayCreditChecker>(gateway.get(), &redis, absl::Seconds(60),
                                                    absl::Seconds(2));
    auto key = CertificateSigner::Generate("test-key");
    REQUIRE(key.ok());
    signer = std::move(*key);
    logic = std::make_unique<LicensingLogic>(pool, clock, calendar, credit.get(), signer.get(),
                                             LicensingOptions{});
  }
  ~Fixture() {
    if (server) server->Shutdown();
    ClearCreditCache();  // the service binary test shares this Redis
    regsuite::testing::DropSchema(schema);
  }

  void ClearCreditCache() {
    for (const char* uscc : {kClean, kBlack, kOther}) {
      CHECK(redis.Command({"DEL", GatewayCreditChecker::CacheKey(uscc)}).ok());
    }
  }

  v1::PermitType Type(const std::string& code) {
    v1::GetPermitTypeRequest req;
    req.set_code(code);
    v1::PermitType type;
    REQUIRE(logic->GetPermitType(req, &type).ok());
    return type;
  }

  // A submission with every required material except `omit`.
  v1::SubmitApplicationRequest Submission(const std::string& code, const std::string& uscc,
                                          bool commitment_signed,
                                          std::set<std::string> omit = {}) {
    v1::SubmitApplicationRequest req;
    req.set_permit_type_code(code);
    req.mutable_applicant()->set_uscc(uscc);
    req.mutable_applicant()->set_name("青岛示例化工有限公司");
    req.mutable_applicant()->set_legal_representative("张三");
    req.set_commitment_signed(commitment_signed);
    req.set_received_by("window-clerk-1");
    const v1::PermitType type = Type(code);
    for (const auto& m : type.required_materials()) {
      if (omit.count(m.code())) continue;
      auto* material = req.add_materials();
      material->set_code(m.code());
      material->set_document_ref(absl::StrCat("doc://", m.code()));
      material->set_issued_date("2026-09-01");
    }
    return req;
  }

  v1::Application Submit(const v1::SubmitApplicationRequest& req) {
    v1::Application app;
    auto status = logic->SubmitApplication(req, &app);
    INFO(status.ToString());
    REQUIRE(status.ok());
    return app;
  }

  int64_t Count(const std::string& sql) {
    return *pool.Transact([&](pqxx::work& txn) -> absl::StatusOr<int64_t> {
      return txn.exec(sql)[0][0].as<int64_t>();
    });
  }

  // The payload of the newest outbox event of that type for that target.
  template <typename M>
  M LastPayload(const std::string& event_type, const std::string& target_service) {
    auto bytes = pool.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::string> {
      auto rows = txn.exec_params(
          "SELECT payload FROM outbox WHERE event_type = $1 AND target_method LIKE $2 "
          "ORDER BY id DESC LIMIT 1",
          event_type, absl::StrCat("%", target_service, "%"));
      if (rows.empty()) return absl::NotFoundError(event_type);
      return pqxx::binarystring(rows[0][0]).str();
    });
    REQUIRE(bytes.ok());
    ev::EventEnvelope envelope;
    REQUIRE(envelope.ParseFromString(*bytes));
    M payload;
    REQUIRE(payload.ParseFromString(envelope.payload()));
    return payload;
  }

  void Sql(const std::string& sql, const std::string& param) {
    REQUIRE(pool.Transact([&](pqxx::work& txn) -> absl::Status {
                  txn.exec_params(sql, param);
                  return absl::OkStatus();
                })
                .ok());
  }

  int64_t OutboxCount(const std::string& event_type, const std::string& target_service) {
    return Count(absl::StrCat("SELECT count(*) FROM outbox WHERE event_type = '", event_type,
                              "' AND target_method LIKE '%", target_service, "%'"));
  }

  std::string schema;
  PgPool pool;
  RedisClient redis;
  FakeClock clock;
  std::shared_ptr<const regsuite::common::WorkingDayCalendar> calendar;
  FakeCreditService fake_credit;
  std::unique_ptr<grpc::Server> server;
  std::unique_ptr<regsuite::common::GatewayClient> gateway;
  std::unique_ptr<GatewayCreditChecker> credit;
  std::unique_ptr<CertificateSigner> signer;
  std::unique_ptr<LicensingLogic> logic;
};

bool Names(const absl::Status& status, const std::string& state) {
  return absl::IsFailedPrecondition(status) && absl::StrContains(status.message(), state);
}

}  // namespace

TEST_CASE("catalogue: the migration seeds the bureau's permit types with basis and materials",
          "[licensing][catalogue]") {
  Fixture f;
  v1::ListPermitTypesRequest req;
  v1::ListPermitTypesResponse resp;
  REQUIRE(f.logic->ListPermitTypes(req, &resp).ok());
  REQUIRE(resp.permit_types_size() == 5);
  std::set<std::string> names;
  for (const auto& t : resp.permit_types()) {
    names.insert(t.name());
    CHECK_FALSE(t.legal_basis().empty());
    CHECK(t.promised_working_days() <= t.statutory_working_days());
    CHECK(t.certificate_validity_months() > 0);
    CHECK(t.suspension_limits_size() == 4);
    bool has_key = false;
    for (const auto& m : t.required_materials()) has_key = has_key || m.key();
    CHECK(has_key);
  }
  CHECK(names.count("危险化学品经营许可证"));
  CHECK(names.count("烟花爆竹经营（批发）许可证"));
  CHECK(names.count("烟花爆竹经营（零售）许可证"));
  CHECK(names.count("非煤矿山安全生产许可证"));
  CHECK(names.count("危险化学品建设项目安全条件审查"));

  v1::ListPermitTypesRequest eligible;
  eligible.set_commitment_eligible_only(true);
  v1::ListPermitTypesResponse eligible_resp;
  REQUIRE(f.logic->ListPermitTypes(eligible, &eligible_resp).ok());
  CHECK(eligible_resp.permit_types_size() == 2);
}

TEST_CASE("catalogue: UpsertPermitType adds a dated version and rejects promised > statutory",
          "[licensing][catalogue]") {
  Fixture f;
  v1::UpsertPermitTypeRequest req;
  req.set_code("WHJY");
  *req.mutable_permit_type() = f.Type("WHJY");
  req.mutable_permit_type()->set_promised_working_days(25);
  v1::PermitType out;
  auto bad = f.logic->UpsertPermitType(req, &out);
  CHECK(absl::IsInvalidArgument(bad));
  CHECK(absl::StrContains(bad.message(), "promised_working_days"));

  req.mutable_permit_type()->set_promised_working_days(8);
  req.mutable_permit_type()->set_effective_from("2026-09-01");
  req.mutable_permit_type()->clear_etag();
  REQUIRE(f.logic->UpsertPermitType(req, &out).ok());
  CHECK(f.Type("WHJY").promised_working_days() == 8);
  v1::GetPermitTypeRequest old;
  old.set_code("WHJY");
  old.set_as_of_date("2026-08-31");
  v1::PermitType old_type;
  REQUIRE(f.logic->GetPermitType(old, &old_type).ok());
  CHECK(old_type.promised_working_days() == 10);
}

TEST_CASE("catalogue: a submission after an upsert follows the row now in force, not the one "
          "read before", "[licensing][catalogue]") {
  Fixture f;
  auto first = f.Submit(f.Submission("WHJY", kClean, false));
  const std::string name = first.permit_type_name();
  REQUIRE(!name.empty());
  v1::UpsertPermitTypeRequest req;
  req.set_code("WHJY");
  *req.mutable_permit_type() = f.Type("WHJY");  // the same dated row: its version moves on
  req.mutable_permit_type()->set_name(name + "（更名）");
  v1::PermitType out;
  REQUIRE(f.logic->UpsertPermitType(req, &out).ok());
  auto second = f.Submit(f.Submission("WHJY", kOther, false));
  CHECK(second.permit_type_name() == name + "（更名）");
  CHECK(second.rule_version() == first.rule_version());
}

TEST_CASE("一次性告知: missing key materials → CORRECTION_REQUIRED with the complete list",
          "[licensing][materials]") {
  Fixture f;
  auto req = f.Submission("YHPF", kOther, false,
                          {"APPLICATION_FORM", "SAFETY_RULES", "LIGHTNING_PROTECTION_REPORT"});
  req.mutable_materials(0)->clear_document_ref();  // BUSINESS_LICENCE without a document
  auto app = f.Submit(req);
  CHECK(app.status() == v1::APPLICATION_STATUS_CORRECTION_REQUIRED);
  std::set<std::string> codes;
  for (const auto& m : app.missing_materials()) codes.insert(m.code());
  CHECK(codes == std::set<std::string>{"APPLICATION_FORM", "BUSINESS_LICENCE", "SAFETY_RULES",
                                       "LIGHTNING_PROTECTION_REPORT"});
  CHECK(app.correction_notified_date() == "2026-09-28");

  // Bad USCC: INVALID_ARGUMENT naming the field, nothing written.
  auto bad = f.Submission("YHPF", "913100007109242800", false);
  v1::Application ignored;
  auto status = f.logic->SubmitApplication(bad, &ignored);
  CHECK(absl::IsInvalidArgument(status));
  CHECK(absl::StrContains(status.message(), "uscc"));
  CHECK(f.Count("SELECT count(*) FROM applications") == 1);
}

TEST_CASE("state machine: every transition is recorded; illegal ones name the state",
          "[licensing][state]") {
  Fixture f;
  // Complete materials, not commitment-eligible: accepted on receipt, 20 WD clock.
  auto app = f.Submit(f.Submission("YHPF", kOther, true));
  const std::string id = app.application_id();
  CHECK(app.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(app.accepted_date() == "2026-09-28");
  CHECK(app.due_date() == "2026-10-30");
  CHECK(app.promised_due_date() == "2026-10-16");
  CHECK(app.review_route() == v1::REVIEW_ROUTE_NORMAL);

  v1::Application out;
  v1::AcceptApplicationRequest accept;
  accept.set_application_id(id);
  accept.set_accepted_by("clerk");
  CHECK(Names(f.logic->AcceptApplication(accept, &out), "ACCEPTED"));

  v1::ExtendApplicationRequest extend;
  extend.set_application_id(id);
  extend.set_reason("complex site");
  extend.set_approved_by("局长");
  REQUIRE(f.logic->ExtendApplication(extend, &out).ok());
  CHECK(out.due_date() == "2026-11-13");
  CHECK(Names(f.logic->ExtendApplication(extend, &out), "ACCEPTED"));

  f.clock.SetNow(absl::FromCivil(absl::CivilSecond(2026, 10, 12, 9, 0, 0),
                                 regsuite::common::BureauTimeZone()));
  v1::SuspendApplicationRequest suspend;
  suspend.set_application_id(id);
  suspend.set_reason(v1::SUSPENSION_REASON_EXPERT_REVIEW);
  suspend.set_suspended_by("科长");
  REQUIRE(f.logic->SuspendApplication(suspend, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_SUSPENDED);
  CHECK(Names(f.logic->SuspendApplication(suspend, &out), "SUSPENDED"));

  v1::DecideApplicationRequest decide;
  decide.set_application_id(id);
  decide.set_decided_by("局长");
  decide.set_approve(true);
  CHECK(Names(f.logic->DecideApplication(decide, &out), "SUSPENDED"));
  decide.set_approve(false);

  v1::ResumeApplicationRequest resume;
  resume.set_application_id(id);
  resume.set_resumed_date("2026-10-15");
  resume.set_resumed_by("科长");
  REQUIRE(f.logic->ResumeApplication(resume, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(out.due_date() == "2026-11-18");  // 3 WD suspended (12–14 Oct) move it by 3 WD
  CHECK(Names(f.logic->ResumeApplication(resume, &out), "ACCEPTED"));

  // Denial needs written reasons (Art 38) and carries the remedy notice.
  CHECK(absl::IsInvalidArgument(f.logic->DecideApplication(decide, &out)));
  decide.set_reason("储存设施不符合 GB 50161 安全距离要求");
  REQUIRE(f.logic->DecideApplication(decide, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_DENIED);
  CHECK(absl::StrContains(out.decision().remedy_notice(), "行政复议"));
  CHECK_FALSE(out.decision().decision_no().empty());

  v1::WithdrawApplicationRequest withdraw;
  withdraw.set_application_id(id);
  CHECK(Names(f.logic->WithdrawApplication(withdraw, &out), "DENIED"));
  CHECK(Names(f.logic->DecideApplication(decide, &out), "DENIED"));

  // RECEIVED→ACCEPTED, extension, →SUSPENDED, →ACCEPTED, →DENIED, plus the first RECEIVED.
  CHECK(out.transitions_size() == 6);
  for (const auto& t : out.transitions()) {
    CHECK_FALSE(t.actor().empty());
    CHECK(t.has_at());
  }
  CHECK(f.Count(absl::StrCat("SELECT count(*) FROM application_transitions WHERE application_id = '",
                             id, "'")) == 6);
  CHECK(f.OutboxCount("licensing.decision_made", "DisclosureService") == 1);
  CHECK(f.OutboxCount("licensing.decision_made", "ExchangeService") == 1);
}

TEST_CASE("state machine: reject from CORRECTION_REQUIRED, withdraw when accepted",
          "[licensing][state]") {
  Fixture f;
  auto incomplete = f.Submit(f.Submission("YHPF", kOther, false, {"APPLICATION_FORM"}));
  v1::Application out;
  v1::RejectApplicationRequest reject;
  reject.set_application_id(incomplete.application_id());
  reject.set_rejected_by("clerk");
  CHECK(absl::IsInvalidArgument(f.logic->RejectApplication(reject, &out)));
  reject.set_reason("不属于本机关职权范围");
  reject.set_competent_authority("山东省应急管理厅");
  REQUIRE(f.logic->RejectApplication(reject, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_REJECTED);
  CHECK(Names(f.logic->RejectApplication(reject, &out), "REJECTED"));

  auto accepted = f.Submit(f.Submission("YHPF", kOther, false));
  v1::WithdrawApplicationRequest withdraw;
  withdraw.set_application_id(accepted.application_id());
  withdraw.set_reason("business plan changed");
  REQUIRE(f.logic->WithdrawApplication(withdraw, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_WITHDRAWN);
  v1::SuspendApplicationRequest suspend;
  suspend.set_application_id(accepted.application_id());
  suspend.set_reason(v1::SUSPENSION_REASON_HEARING);
  suspend.set_suspended_by("x");
  CHECK(Names(f.logic->SuspendApplication(suspend, &out), "WITHDRAWN"));
}

TEST_CASE("一次性告知 then 补正: supplement completes the materials, clerk accepts",
          "[licensing][materials]") {
  Fixture f;
  auto app = f.Submit(f.Submission("YHPF", kOther, false, {"APPLICATION_FORM", "SAFETY_RULES"}));
  REQUIRE(app.status() == v1::APPLICATION_STATUS_CORRECTION_REQUIRED);
  v1::SupplementMaterialsRequest supplement;
  supplement.set_application_id(app.application_id());
  for (const char* code : {"APPLICATION_FORM", "SAFETY_RULES"}) {
    auto* m = supplement.add_materials();
    m->set_code(code);
    m->set_document_ref("doc://late");
  }
  v1::Application out;
  REQUIRE(f.logic->SupplementMaterials(supplement, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_RECEIVED);
  CHECK(out.missing_materials_size() == 0);
  v1::AcceptApplicationRequest accept;
  accept.set_application_id(app.application_id());
  accept.set_accepted_by("clerk");
  REQUIRE(f.logic->AcceptApplication(accept, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(out.due_date() == "2026-10-30");
}

TEST_CASE("5-WD rule: not told of defects within 5 WD counts as accepted on receipt (Art 32)",
          "[licensing][notice]") {
  Fixture f;
  auto app = f.Submit(f.Submission("YHPF", kOther, false, {"APPLICATION_FORM"}));
  v1::SupplementMaterialsRequest supplement;
  supplement.set_application_id(app.application_id());
  auto* m = supplement.add_materials();
  m->set_code("APPLICATION_FORM");
  m->set_document_ref("doc://form");
  v1::Application out;
  REQUIRE(f.logic->SupplementMaterials(supplement, &out).ok());
  REQUIRE(out.status() == v1::APPLICATION_STATUS_RECEIVED);
  CHECK(out.correction_notice_due_date() == "2026-10-10");  // 5 WD after 9/28 across 国庆

  v1::RunDeadlinesRequest on_due;
  on_due.set_as_of_date("2026-10-10");
  v1::RunDeadlinesResponse r1;
  REQUIRE(f.logic->RunDeadlines(on_due, &r1).ok());
  CHECK(r1.deemed_accepted_application_ids_size() == 0);

  v1::RunDeadlinesRequest after;
  after.set_as_of_date("2026-10-12");
  v1::RunDeadlinesResponse r2;
  REQUIRE(f.logic->RunDeadlines(after, &r2).ok());
  REQUIRE(r2.deemed_accepted_application_ids_size() == 1);
  v1::GetApplicationRequest get;
  get.set_application_id(app.application_id());
  REQUIRE(f.logic->GetApplication(get, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(out.deemed_accepted());
  CHECK(out.accepted_date() == "2026-09-28");
  CHECK(out.due_date() == "2026-10-30");
  v1::RunDeadlinesResponse r3;
  REQUIRE(f.logic->RunDeadlines(after, &r3).ok());
  CHECK(r3.deemed_accepted_application_ids_size() == 0);
}

TEST_CASE("容缺: only non-key materials missing → ACCEPTED_WITH_DEFICIENCY; decision waits",
          "[licensing][deficiency]") {
  Fixture f;
  auto app = f.Submit(f.Submission("YHPF", kOther, false, {"LIGHTNING_PROTECTION_REPORT"}));
  CHECK(app.status() == v1::APPLICATION_STATUS_ACCEPTED_WITH_DEFICIENCY);
  REQUIRE(app.deficiencies_size() == 1);
  CHECK(app.deficiencies(0).supply_due_date() == "2026-10-16");
  CHECK(app.due_date() == "2026-10-30");

  v1::DecideApplicationRequest decide;
  decide.set_application_id(app.application_id());
  decide.set_approve(true);
  decide.set_decided_by("局长");
  v1::Application out;
  CHECK(Names(f.logic->DecideApplication(decide, &out), "ACCEPTED_WITH_DEFICIENCY"));

  v1::SupplementMaterialsRequest supplement;
  supplement.set_application_id(app.application_id());
  auto* m = supplement.add_materials();
  m->set_code("LIGHTNING_PROTECTION_REPORT");
  m->set_document_ref("doc://lightning");
  m->set_issued_date("2026-09-20");
  REQUIRE(f.logic->SupplementMaterials(supplement, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_ACCEPTED);
  REQUIRE(f.logic->DecideApplication(decide, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_APPROVED);
  CHECK(out.certificate().status() == v1::CERTIFICATE_STATUS_VALID);
  CHECK_FALSE(out.decision().automatic());
}

TEST_CASE("秒批: a clean subject with the commitment signed is APPROVED with a certificate in one "
          "call", "[licensing][instant]") {
  Fixture f;
  auto submission = f.Submission("WHJY", kClean, true);
  submission.set_idempotency_key("instant-once");
  auto app = f.Submit(submission);
  CHECK(app.status() == v1::APPLICATION_STATUS_APPROVED);
  CHECK(app.review_route() == v1::REVIEW_ROUTE_INSTANT);
  CHECK(app.decision().automatic());
  CHECK(app.commitment_check().status() == v1::COMMITMENT_CHECK_STATUS_PENDING);
  const auto& cert = app.certificate();
  CHECK(cert.status() == v1::CERTIFICATE_STATUS_VALID);
  CHECK(cert.certificate_no() == "QDYJ-WHJY-2026-000001");
  CHECK(cert.valid_from() == "2026-09-28");
  CHECK(cert.valid_until() == "2029-09-27");
  CHECK(f.signer->VerifyCertificate(cert));
  CHECK(f.fake_credit.calls() == 1);
  CHECK(f.OutboxCount("licensing.decision_made", "DisclosureService") == 1);

  v1::VerifyCertificateRequest verify;
  verify.set_certificate_no(cert.certificate_no());
  verify.set_verification_code(cert.verification_code());
  v1::VerifyCertificateResponse vr;
  REQUIRE(f.logic->VerifyCertificate(verify, &vr).ok());
  CHECK(vr.genuine());
  CHECK(vr.status() == v1::CERTIFICATE_STATUS_VALID);
  CHECK(vr.holder_uscc() == kClean);

  // The answer is built from what the transaction stored: reading it back gives the same
  // message (etags included), the three transitions are rows in order, and a retry with the
  // same idempotency key answers the same application without a second one.
  v1::GetApplicationRequest get;
  get.set_application_id(app.application_id());
  v1::Application stored;
  REQUIRE(f.logic->GetApplication(get, &stored).ok());
  CHECK(google::protobuf::util::MessageDifferencer::Equals(app, stored));
  CHECK(app.etag() == "1");
  CHECK(app.certificate().etag() == "1");
  CHECK(f.Count(absl::StrCat("SELECT count(*) FROM application_transitions WHERE application_id = '",
                             app.application_id(), "' AND to_status = 'APPROVED' AND id = (SELECT "
                             "max(id) FROM application_transitions WHERE application_id = '",
                             app.application_id(), "')")) == 1);
  CHECK(f.Count(absl::StrCat("SELECT count(*) FROM application_transitions WHERE application_id = '",
                             app.application_id(), "'")) == 3);
  auto again = f.Submit(submission);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(again, stored));
  CHECK(f.Count("SELECT count(*) FROM applications WHERE idempotency_key = 'instant-once'") == 1);
  CHECK(f.fake_credit.calls() == 1);
}

TEST_CASE("秒批: a subject with NO_COMMITMENT_APPROVAL goes to normal review, reason recorded",
          "[licensing][instant]") {
  Fixture f;
  f.fake_credit.SetNoCommitmentApproval(kBlack);
  auto app = f.Submit(f.Submission("WHJY", kBlack, true));
  CHECK(app.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(app.review_route() == v1::REVIEW_ROUTE_NORMAL);
  REQUIRE(app.normal_review_reasons_size() == 1);
  CHECK(app.normal_review_reasons(0) == v1::NORMAL_REVIEW_REASON_BLACK_LIST);
  CHECK_FALSE(app.has_certificate());
}

TEST_CASE("秒批: unreachable credit goes to normal review, never approve blind",
          "[licensing][instant]") {
  Fixture f(Fixture::Credit::kUnreachable);
  auto app = f.Submit(f.Submission("WHJY", kClean, true));
  CHECK(app.status() == v1::APPLICATION_STATUS_ACCEPTED);
  REQUIRE(app.normal_review_reasons_size() == 1);
  CHECK(app.normal_review_reasons(0) == v1::NORMAL_REVIEW_REASON_CREDIT_CHECK_UNAVAILABLE);
}

TEST_CASE("秒批: no gateway configured goes to normal review", "[licensing][instant]") {
  Fixture f(Fixture::Credit::kNoGateway);
  auto app = f.Submit(f.Submission("WHJY", kClean, true));
  CHECK(app.status() == v1::APPLICATION_STATUS_ACCEPTED);
  REQUIRE(app.normal_review_reasons_size() == 1);
  CHECK(app.normal_review_reasons(0) == v1::NORMAL_REVIEW_REASON_CREDIT_CHECK_UNAVAILABLE);
}

TEST_CASE("credit cache: answers are cached; ListingChanged invalidates them",
          "[licensing][instant]") {
  Fixture f;
  CHECK(f.Submit(f.Submission("WHJY", kOther, true)).status() == v1::APPLICATION_STATUS_APPROVED);
  f.fake_credit.SetNoCommitmentApproval(kOther);
  // Cached "clean" answer: credit not asked again.
  CHECK(f.Submit(f.Submission("WHJY", kOther, true)).status() == v1::APPLICATION_STATUS_APPROVED);
  CHECK(f.fake_credit.calls() == 1);

  ev::ListingChanged change;
  change.set_uscc(kOther);
  change.set_list_type(ev::LIST_TYPE_BLACK);
  change.set_change(ev::LISTING_CHANGE_PUBLISHED);
  change.add_measure_codes("NO_COMMITMENT_APPROVAL");
  ev::EventEnvelope envelope;
  envelope.set_event_id(regsuite::common::NewUuid());
  envelope.set_source_service("credit");
  envelope.set_aggregate_type("listing");
  envelope.set_aggregate_id("L1");
  envelope.set_event_type("credit.listing_changed");
  envelope.set_payload_type("regsuite.events.v1.ListingChanged");
  envelope.set_payload(change.SerializeAsString());
  ev::EventAck ack;
  REQUIRE(f.logic->DeliverEvent(envelope, &ack).ok());
  CHECK_FALSE(ack.duplicate());

  auto app = f.Submit(f.Submission("WHJY", kOther, true));
  CHECK(app.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(app.normal_review_reasons(0) == v1::NORMAL_REVIEW_REASON_BLACK_LIST);
}

TEST_CASE("事后核查: a false commitment revokes the certificate and informs credit; no more 秒批",
          "[licensing][instant]") {
  Fixture f;
  auto app = f.Submit(f.Submission("WHJY", kClean, true));
  REQUIRE(app.status() == v1::APPLICATION_STATUS_APPROVED);
  v1::RecordCommitmentCheckRequest check;
  check.set_application_id(app.application_id());
  check.set_checked_by("inspector-7");
  check.set_false_commitment(true);
  check.set_findings("承诺的专职安全管理人员不存在");
  check.set_revocation_decision_no("青应急撤〔2026〕1号");
  v1::Application out;
  REQUIRE(f.logic->RecordCommitmentCheck(check, &out).ok());
  CHECK(out.commitment_check().status() == v1::COMMITMENT_CHECK_STATUS_FALSE_COMMITMENT);
  CHECK(out.certificate().status() == v1::CERTIFICATE_STATUS_REVOKED);
  CHECK(f.OutboxCount("licensing.false_commitment_found", "CreditService") == 1);
  CHECK(f.OutboxCount("licensing.certificate_status_changed", "DisclosureService") == 1);
  CHECK(Names(f.logic->RecordCommitmentCheck(check, &out), "APPROVED"));

  auto again = f.Submit(f.Submission("WHJY", kClean, true));
  CHECK(again.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(again.normal_review_reasons(0) == v1::NORMAL_REVIEW_REASON_PAST_FALSE_COMMITMENT);
}

TEST_CASE("certificate: the signature verifies; a tampered stored field is not genuine",
          "[licensing][certificate]") {
  Fixture f;
  auto cert = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  v1::VerifyCertificateRequest verify;
  verify.set_certificate_no(cert.certificate_no());
  verify.set_verification_code(cert.verification_code());
  v1::VerifyCertificateResponse ok;
  REQUIRE(f.logic->VerifyCertificate(verify, &ok).ok());
  CHECK(ok.genuine());

  v1::VerifyCertificateRequest wrong = verify;
  wrong.set_verification_code("WRONGCODE234");
  v1::VerifyCertificateResponse wr;
  REQUIRE(f.logic->VerifyCertificate(wrong, &wr).ok());
  CHECK_FALSE(wr.genuine());
  CHECK(wr.holder_name().empty());

  REQUIRE(f.pool.Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec_params("UPDATE certificates SET data = jsonb_set(data, '{validUntil}', "
                    "'\"2039-12-31\"') WHERE certificate_no = $1",
                    cert.certificate_no());
    return absl::OkStatus();
  }).ok());
  v1::VerifyCertificateResponse tampered;
  REQUIRE(f.logic->VerifyCertificate(verify, &tampered).ok());
  CHECK_FALSE(tampered.genuine());
}

TEST_CASE("lifecycle: sanction events suspend and revoke; illegal changes name the state",
          "[licensing][lifecycle]") {
  Fixture f;
  auto cert = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  ev::LicenceSanctionOrdered sanction;
  sanction.set_case_id("CASE-1");
  sanction.set_decision_no("青应急罚〔2026〕9号");
  sanction.set_uscc(kClean);
  sanction.set_certificate_no(cert.certificate_no());
  sanction.set_sanction(ev::LICENCE_SANCTION_SUSPEND);
  sanction.set_suspended_until("2026-12-31");
  sanction.set_reason("暂扣许可证件");
  ev::EventEnvelope envelope;
  envelope.set_event_id(regsuite::common::NewUuid());
  envelope.set_source_service("inspection");
  envelope.set_aggregate_type("penalty_case");
  envelope.set_aggregate_id("CASE-1");
  envelope.set_event_type("inspection.licence_sanction_ordered");
  envelope.set_payload_type("regsuite.events.v1.LicenceSanctionOrdered");
  envelope.set_payload(sanction.SerializeAsString());
  ev::EventAck ack;
  REQUIRE(f.logic->DeliverEvent(envelope, &ack).ok());
  REQUIRE(f.logic->DeliverEvent(envelope, &ack).ok());
  CHECK(ack.duplicate());
  v1::GetCertificateRequest get;
  get.set_certificate_no(cert.certificate_no());
  v1::Certificate now;
  REQUIRE(f.logic->GetCertificate(get, &now).ok());
  CHECK(now.status() == v1::CERTIFICATE_STATUS_SUSPENDED);
  CHECK(now.suspended_until() == "2026-12-31");
  CHECK(now.status_history_size() == 2);

  v1::VerifyCertificateRequest verify;
  verify.set_certificate_no(cert.certificate_no());
  verify.set_verification_code(cert.verification_code());
  v1::VerifyCertificateResponse vr;
  REQUIRE(f.logic->VerifyCertificate(verify, &vr).ok());
  CHECK(vr.genuine());
  CHECK(vr.status() == v1::CERTIFICATE_STATUS_SUSPENDED);

  v1::SuspendCertificateRequest suspend;
  suspend.set_certificate_no(cert.certificate_no());
  suspend.set_reason("x");
  suspend.set_ordered_by("y");
  suspend.set_suspended_until("2026-12-31");
  v1::Certificate out;
  CHECK(Names(f.logic->SuspendCertificate(suspend, &out), "SUSPENDED"));

  v1::RevokeCertificateRequest revoke;
  revoke.set_certificate_no(cert.certificate_no());
  revoke.set_reason("吊销");
  revoke.set_ordered_by("局长");
  REQUIRE(f.logic->RevokeCertificate(revoke, &out).ok());
  CHECK(out.status() == v1::CERTIFICATE_STATUS_REVOKED);
  CHECK(Names(f.logic->RevokeCertificate(revoke, &out), "REVOKED"));
  v1::CancelCertificateRequest cancel;
  cancel.set_certificate_no(cert.certificate_no());
  cancel.set_reason("企业注销");
  cancel.set_ordered_by("clerk");
  REQUIRE(f.logic->CancelCertificate(cancel, &out).ok());
  CHECK(out.status() == v1::CERTIFICATE_STATUS_CANCELLED);
  CHECK(f.OutboxCount("licensing.certificate_status_changed", "ExchangeService") == 3);
}

TEST_CASE("reminder job: run twice, it emits one reminder per certificate (unique row)",
          "[licensing][reminder]") {
  Fixture f;
  auto cert = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  REQUIRE(cert.valid_until() == "2029-09-27");
  v1::RunDeadlinesRequest early;
  early.set_as_of_date("2029-06-01");  // 118 days before expiry: nothing yet
  v1::RunDeadlinesResponse r0;
  REQUIRE(f.logic->RunDeadlines(early, &r0).ok());
  CHECK(r0.expiry_reminder_certificate_nos_size() == 0);

  v1::RunDeadlinesRequest due;
  due.set_as_of_date("2029-07-01");
  v1::RunDeadlinesResponse r1;
  v1::RunDeadlinesResponse r2;
  REQUIRE(f.logic->RunDeadlines(due, &r1).ok());
  REQUIRE(f.logic->RunDeadlines(due, &r2).ok());
  CHECK(r1.expiry_reminder_certificate_nos_size() == 1);
  CHECK(r2.expiry_reminder_certificate_nos_size() == 0);
  CHECK(f.Count("SELECT count(*) FROM certificate_reminders") == 1);

  v1::ListExpiringCertificatesResponse expiring;
  v1::ListExpiringCertificatesRequest within;
  within.set_within_days(90);
  REQUIRE(f.logic->ListExpiringCertificates(within, &expiring).ok());
  CHECK(expiring.certificates_size() == 0);  // today is 2026-09-28
}

TEST_CASE("renewal: at least 30 days before expiry; undecided at expiry it is deemed renewed",
          "[licensing][renewal]") {
  Fixture f;
  auto cert = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  auto other = f.Submit(f.Submission("WHJY", kOther, true)).certificate();

  // Less than 30 days before expiry: refused.
  f.clock.SetNow(absl::FromCivil(absl::CivilSecond(2029, 9, 1, 9, 0, 0),
                                 regsuite::common::BureauTimeZone()));
  v1::RenewCertificateRequest late;
  late.set_certificate_no(other.certificate_no());
  v1::Application ignored;
  auto refused = f.logic->RenewCertificate(late, &ignored);
  CHECK(absl::IsFailedPrecondition(refused));
  CHECK(absl::StrContains(refused.message(), "30 days"));
  f.clock.SetNow(absl::FromCivil(absl::CivilSecond(2026, 9, 28, 11, 0, 0),
                                 regsuite::common::BureauTimeZone()));

  v1::RenewCertificateRequest renew;
  renew.set_certificate_no(cert.certificate_no());
  const auto materials = f.Submission("WHJY", kClean, false);
  *renew.mutable_materials() = materials.materials();
  renew.set_commitment_signed(false);  // normal review
  v1::Application renewal;
  REQUIRE(f.logic->RenewCertificate(renew, &renewal).ok());
  CHECK(renewal.kind() == v1::APPLICATION_KIND_RENEWAL);
  CHECK(renewal.renewal_of_certificate_no() == cert.certificate_no());
  CHECK(renewal.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(absl::IsAlreadyExists(f.logic->RenewCertificate(renew, &renewal)));

  v1::RunDeadlinesRequest after_expiry;
  after_expiry.set_as_of_date("2029-09-28");
  v1::RunDeadlinesResponse r;
  REQUIRE(f.logic->RunDeadlines(after_expiry, &r).ok());
  REQUIRE(r.deemed_renewed_certificate_nos_size() == 1);
  v1::GetApplicationRequest get;
  get.set_application_id(renewal.application_id());
  v1::Application out;
  REQUIRE(f.logic->GetApplication(get, &out).ok());
  CHECK(out.status() == v1::APPLICATION_STATUS_APPROVED);
  CHECK(out.decision().automatic());
  CHECK(out.certificate().previous_certificate_no() == cert.certificate_no());
  CHECK(out.certificate().valid_from() == "2029-09-28");
  CHECK(f.signer->VerifyCertificate(out.certificate()));
  CHECK(r.expired_certificate_nos_size() == 2);  // both originals ended on 2029-09-27
}

TEST_CASE("supervisor view: ListApplications filters by status, due within N WD, overdue",
          "[licensing][list]") {
  Fixture f;
  f.Submit(f.Submission("YHPF", kOther, false));                        // due 2026-10-30
  f.Submit(f.Submission("YHPF", kOther, false, {"APPLICATION_FORM"}));  // correction
  v1::ListApplicationsRequest by_status;
  by_status.set_status(v1::APPLICATION_STATUS_ACCEPTED);
  v1::ListApplicationsResponse r1;
  REQUIRE(f.logic->ListApplications(by_status, &r1).ok());
  CHECK(r1.total_size() == 1);

  f.clock.SetNow(absl::FromCivil(absl::CivilSecond(2026, 10, 27, 9, 0, 0),
                                 regsuite::common::BureauTimeZone()));
  v1::ListApplicationsRequest due_soon;
  due_soon.set_due_within_working_days(3);
  v1::ListApplicationsResponse r2;
  REQUIRE(f.logic->ListApplications(due_soon, &r2).ok());
  CHECK(r2.applications_size() == 1);
  v1::ListApplicationsRequest overdue;
  overdue.set_overdue_only(true);
  v1::ListApplicationsResponse r3;
  REQUIRE(f.logic->ListApplications(overdue, &r3).ok());
  CHECK(r3.applications_size() == 0);
  f.clock.SetNow(absl::FromCivil(absl::CivilSecond(2026, 11, 2, 9, 0, 0),
                                 regsuite::common::BureauTimeZone()));
  v1::ListApplicationsResponse r4;
  REQUIRE(f.logic->ListApplications(overdue, &r4).ok());
  CHECK(r4.applications_size() == 1);
}

TEST_CASE("stats: outcomes per type, instant share, working days and compression",
          "[licensing][stats]") {
  Fixture f;
  f.Submit(f.Submission("WHJY", kClean, true));  // instant approval, 0 WD
  auto normal = f.Submit(f.Submission("YHPF", kOther, false));
  f.clock.SetNow(absl::FromCivil(absl::CivilSecond(2026, 10, 9, 9, 0, 0),
                                 regsuite::common::BureauTimeZone()));
  v1::DecideApplicationRequest decide;
  decide.set_application_id(normal.application_id());
  decide.set_approve(true);
  decide.set_decided_by("局长");
  v1::Application out;
  REQUIRE(f.logic->DecideApplication(decide, &out).ok());

  v1::GetStatsRequest req;
  v1::LicensingStats stats;
  REQUIRE(f.logic->GetStats(req, &stats).ok());
  CHECK(stats.total().received() == 2);
  CHECK(stats.total().approved() == 2);
  CHECK(stats.total().instant_approvals() == 1);
  CHECK(stats.total().instant_share() == Approx(0.5));
  CHECK(stats.total().max_working_days() == 4);  // 9/28 → 10/9: 9/29, 9/30, 10/8, 10/9
  CHECK(stats.total().average_working_days() == Approx(2.0));
  CHECK(stats.total().on_time_rate() == Approx(1.0));
  for (const auto& t : stats.by_permit_type()) {
    if (t.permit_type_code() == "WHJY") CHECK(t.compression_ratio() == Approx(0.5));
    if (t.permit_type_code() == "YHPF") CHECK(t.compression_ratio() == Approx(0.5));
  }
}

namespace {

v1::ChangeCertificateRequest RenameRequest(const std::string& certificate_no) {
  v1::ChangeCertificateRequest req;
  req.set_certificate_no(certificate_no);
  req.mutable_holder()->set_name("青岛新名化工有限公司");
  req.mutable_holder()->set_legal_representative("李四");
  req.mutable_holder()->set_address("青岛市崂山区海尔路2号");
  req.set_reason("企业名称及法定代表人变更（新营业执照）");
  req.set_changed_by("窗口-王五");
  req.set_decision_no("青应急变〔2026〕1号");
  req.add_document_refs("doc://new-business-licence");
  return req;
}

v1::VerifyCertificateResponse Verify(LicensingLogic& logic, const v1::Certificate& cert) {
  v1::VerifyCertificateRequest req;
  req.set_certificate_no(cert.certificate_no());
  req.set_verification_code(cert.verification_code());
  v1::VerifyCertificateResponse resp;
  REQUIRE(logic.VerifyCertificate(req, &resp).ok());
  return resp;
}

}  // namespace

TEST_CASE(
    "变更: a VALID certificate changes its particulars, keeps number, code and validity, "
    "and is signed again",
    "[licensing][change]") {
  Fixture f;
  auto cert = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  REQUIRE(cert.status() == v1::CERTIFICATE_STATUS_VALID);
  f.clock.SetNow(
      absl::FromCivil(absl::CivilSecond(2026, 11, 2, 9, 0, 0), regsuite::common::BureauTimeZone()));

  v1::Certificate changed;
  auto status = f.logic->ChangeCertificate(RenameRequest(cert.certificate_no()), &changed);
  INFO(status.ToString());
  REQUIRE(status.ok());
  CHECK(changed.certificate_no() == cert.certificate_no());
  CHECK(changed.verification_code() == cert.verification_code());
  CHECK(changed.valid_from() == cert.valid_from());
  CHECK(changed.valid_until() == cert.valid_until());
  CHECK(changed.status() == v1::CERTIFICATE_STATUS_VALID);
  CHECK(changed.holder().name() == "青岛新名化工有限公司");
  CHECK(changed.holder().legal_representative() == "李四");
  CHECK(changed.holder().address() == "青岛市崂山区海尔路2号");
  CHECK(changed.revision() == 1);
  REQUIRE(changed.amendments_size() == 1);
  const auto& a = changed.amendments(0);
  CHECK(a.revision() == 1);
  CHECK(a.changed_by() == "窗口-王五");
  CHECK(a.decision_no() == "青应急变〔2026〕1号");
  CHECK(a.changed_at().seconds() ==
        absl::ToUnixSeconds(absl::FromCivil(absl::CivilSecond(2026, 11, 2, 9, 0, 0),
                                            regsuite::common::BureauTimeZone())));
  REQUIRE(a.fields_size() == 3);
  CHECK(a.fields(0).field() == "holder.name");
  CHECK(a.fields(0).old_value() == "青岛示例化工有限公司");
  CHECK(a.fields(0).new_value() == "青岛新名化工有限公司");
  CHECK(a.fields(1).field() == "holder.legal_representative");
  CHECK(a.fields(1).old_value() == "张三");
  CHECK(a.fields(2).field() == "holder.address");
  CHECK(a.fields(2).old_value().empty());
  CHECK(changed.signature() != cert.signature());
  CHECK(f.signer->VerifyCertificate(changed));

  // Stored, and the public check answers the new particulars.
  v1::GetCertificateRequest get;
  get.set_certificate_no(cert.certificate_no());
  v1::Certificate stored;
  REQUIRE(f.logic->GetCertificate(get, &stored).ok());
  CHECK(stored.revision() == 1);
  CHECK(stored.amendments_size() == 1);
  auto verified = Verify(*f.logic, cert);
  CHECK(verified.genuine());
  CHECK(verified.holder_name() == "青岛新名化工有限公司");

  // One event per consumer, carrying the new particulars (disclosure re-publishes them).
  CHECK(f.OutboxCount("licensing.certificate_changed", "DisclosureService") == 1);
  CHECK(f.OutboxCount("licensing.certificate_changed", "ExchangeService") == 1);
  auto event = f.LastPayload<ev::CertificateStatusChanged>("licensing.certificate_changed",
                                                           "DisclosureService");
  CHECK(event.certificate_no() == cert.certificate_no());
  CHECK(event.holder_name() == "青岛新名化工有限公司");
  CHECK(event.legal_representative() == "李四");
  CHECK(event.revision() == 1);
  CHECK(event.status() == ev::CERTIFICATE_STATUS_VALID);
  CHECK(event.previous_status() == ev::CERTIFICATE_STATUS_VALID);
  CHECK(event.reason() == "企业名称及法定代表人变更（新营业执照）");

  // A second change: revision 2, both amendments kept.
  v1::ChangeCertificateRequest move;
  move.set_certificate_no(cert.certificate_no());
  move.mutable_holder()->set_address("青岛市黄岛区长江路3号");
  move.set_reason("住所变更");
  move.set_changed_by("窗口-王五");
  move.set_etag(stored.etag());
  v1::Certificate moved;
  REQUIRE(f.logic->ChangeCertificate(move, &moved).ok());
  CHECK(moved.revision() == 2);
  REQUIRE(moved.amendments_size() == 2);
  CHECK(moved.amendments(1).fields(0).old_value() == "青岛市崂山区海尔路2号");
  CHECK(f.signer->VerifyCertificate(moved));
  // The etag of before the second change is stale now.
  CHECK(absl::IsAborted(f.logic->ChangeCertificate(move, &moved)));

  // A tampered address or revision in the database is not genuine.
  f.Sql(
      "UPDATE certificates SET data = jsonb_set(data, '{holder,address}', '\"别处\"') "
      "WHERE certificate_no = $1",
      cert.certificate_no());
  CHECK_FALSE(Verify(*f.logic, cert).genuine());
  f.Sql(
      "UPDATE certificates SET data = jsonb_set(data, '{holder,address}', "
      "'\"青岛市黄岛区长江路3号\"') WHERE certificate_no = $1",
      cert.certificate_no());
  CHECK(Verify(*f.logic, cert).genuine());
  f.Sql(
      "UPDATE certificates SET data = jsonb_set(data, '{revision}', '1') "
      "WHERE certificate_no = $1",
      cert.certificate_no());
  CHECK_FALSE(Verify(*f.logic, cert).genuine());
}

TEST_CASE(
    "变更: bad input is INVALID_ARGUMENT naming the field; a wider scope is a new "
    "application; nothing changes",
    "[licensing][change]") {
  Fixture f;
  auto cert = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  v1::Certificate out;
  auto scope = RenameRequest(cert.certificate_no());
  scope.set_scope("乙醇、甲醇（带储存设施）");
  auto refused = f.logic->ChangeCertificate(scope, &out);
  CHECK(absl::IsInvalidArgument(refused));
  CHECK(absl::StrContains(refused.message(), "scope:"));
  CHECK(absl::StrContains(refused.message(), "new application"));

  auto no_reason = RenameRequest(cert.certificate_no());
  no_reason.clear_reason();
  auto missing = f.logic->ChangeCertificate(no_reason, &out);
  CHECK(absl::IsInvalidArgument(missing));
  CHECK(absl::StrContains(missing.message(), "reason:"));

  auto other = RenameRequest(cert.certificate_no());
  other.mutable_holder()->set_uscc(kOther);
  CHECK(absl::StrContains(f.logic->ChangeCertificate(other, &out).message(), "holder.uscc:"));

  v1::GetCertificateRequest get;
  get.set_certificate_no(cert.certificate_no());
  v1::Certificate stored;
  REQUIRE(f.logic->GetCertificate(get, &stored).ok());
  CHECK(stored.revision() == 0);
  CHECK(stored.holder().name() == cert.holder().name());
  CHECK(f.OutboxCount("licensing.certificate_changed", "DisclosureService") == 0);

  auto unknown = RenameRequest("QDYJ-WHJY-2026-999999");
  CHECK(absl::IsNotFound(f.logic->ChangeCertificate(unknown, &out)));
}

TEST_CASE("变更 while a renewal is pending: the renewed certificate carries the new particulars",
          "[licensing][change][renewal]") {
  Fixture f;
  auto cert = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  // The renewal window (≥ 30 days before expiry) is open from the start of a 3-year licence.
  v1::RenewCertificateRequest renew;
  renew.set_certificate_no(cert.certificate_no());
  *renew.mutable_materials() = f.Submission("WHJY", kClean, false).materials();
  renew.set_commitment_signed(false);  // normal review: it stays pending
  v1::Application renewal;
  REQUIRE(f.logic->RenewCertificate(renew, &renewal).ok());
  REQUIRE(renewal.status() == v1::APPLICATION_STATUS_ACCEPTED);
  CHECK(renewal.applicant().name() == cert.holder().name());

  f.clock.SetNow(absl::FromCivil(absl::CivilSecond(2026, 9, 29, 10, 0, 0),
                                 regsuite::common::BureauTimeZone()));
  v1::Certificate changed;
  REQUIRE(f.logic->ChangeCertificate(RenameRequest(cert.certificate_no()), &changed).ok());

  f.clock.SetNow(absl::FromCivil(absl::CivilSecond(2026, 10, 9, 9, 0, 0),
                                 regsuite::common::BureauTimeZone()));
  v1::DecideApplicationRequest decide;
  decide.set_application_id(renewal.application_id());
  decide.set_approve(true);
  decide.set_decided_by("局长");
  v1::Application decided;
  REQUIRE(f.logic->DecideApplication(decide, &decided).ok());
  const auto& renewed = decided.certificate();
  CHECK(renewed.previous_certificate_no() == cert.certificate_no());
  CHECK(renewed.holder().name() == "青岛新名化工有限公司");
  CHECK(renewed.holder().legal_representative() == "李四");
  CHECK(renewed.holder().address() == "青岛市崂山区海尔路2号");
  CHECK(f.signer->VerifyCertificate(renewed));
  // 双公示 publishes the licensee as licensed.
  auto event = f.LastPayload<ev::LicensingDecisionMade>("licensing.decision_made",
                                                        "DisclosureService");
  CHECK(event.renewal());
  CHECK(event.party_name() == "青岛新名化工有限公司");
  CHECK(event.legal_representative() == "李四");
}

TEST_CASE("变更: suspended, revoked, cancelled and expired certificates cannot be changed",
          "[licensing][change]") {
  Fixture f;
  auto cert = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  auto later = f.Submit(f.Submission("WHJY", kOther, true)).certificate();
  v1::Certificate out;
  const auto change = RenameRequest(cert.certificate_no());

  v1::SuspendCertificateRequest suspend;
  suspend.set_certificate_no(cert.certificate_no());
  suspend.set_reason("暂扣");
  suspend.set_ordered_by("局长");
  suspend.set_suspended_until("2026-12-31");
  REQUIRE(f.logic->SuspendCertificate(suspend, &out).ok());
  CHECK(Names(f.logic->ChangeCertificate(change, &out), "SUSPENDED"));

  v1::RevokeCertificateRequest revoke;
  revoke.set_certificate_no(cert.certificate_no());
  revoke.set_reason("吊销");
  revoke.set_ordered_by("局长");
  REQUIRE(f.logic->RevokeCertificate(revoke, &out).ok());
  CHECK(Names(f.logic->ChangeCertificate(change, &out), "REVOKED"));

  v1::CancelCertificateRequest cancel;
  cancel.set_certificate_no(cert.certificate_no());
  cancel.set_reason("企业注销");
  cancel.set_ordered_by("clerk");
  REQUIRE(f.logic->CancelCertificate(cancel, &out).ok());
  CHECK(Names(f.logic->ChangeCertificate(change, &out), "CANCELLED"));

  // Past valid_until: EXPIRED, whether or not the deadline job has recorded it yet.
  f.clock.SetNow(
      absl::FromCivil(absl::CivilSecond(2029, 9, 28, 9, 0, 0), regsuite::common::BureauTimeZone()));
  CHECK(Names(f.logic->ChangeCertificate(RenameRequest(later.certificate_no()), &out), "EXPIRED"));
  v1::RunDeadlinesRequest run;
  v1::RunDeadlinesResponse ran;
  REQUIRE(f.logic->RunDeadlines(run, &ran).ok());
  CHECK(Names(f.logic->ChangeCertificate(RenameRequest(later.certificate_no()), &out), "EXPIRED"));
  CHECK(f.OutboxCount("licensing.certificate_changed", "ExchangeService") == 0);
}

TEST_CASE(
    "reminder: one outbox event per certificate to exchange, also with concurrent "
    "callers; sent_at follows delivery",
    "[licensing][reminder]") {
  Fixture f;
  auto a = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  auto b = f.Submit(f.Submission("WHJY", kOther, true)).certificate();
  REQUIRE(a.valid_until() == "2029-09-27");

  v1::RunDeadlinesRequest due;
  due.set_as_of_date("2029-07-01");
  constexpr int kCallers = 4;
  std::vector<v1::RunDeadlinesResponse> responses(kCallers);
  std::vector<absl::Status> statuses(kCallers);
  {
    std::vector<std::thread> callers;
    for (int i = 0; i < kCallers; ++i) {
      callers.emplace_back([&, i] { statuses[i] = f.logic->RunDeadlines(due, &responses[i]); });
    }
    for (auto& t : callers) t.join();
  }
  std::multiset<std::string> reported;
  for (int i = 0; i < kCallers; ++i) {
    INFO(statuses[i].ToString());
    CHECK(statuses[i].ok());
    for (const auto& no : responses[i].expiry_reminder_certificate_nos()) reported.insert(no);
  }
  CHECK(reported == std::multiset<std::string>{a.certificate_no(), b.certificate_no()});
  v1::RunDeadlinesResponse again;
  REQUIRE(f.logic->RunDeadlines(due, &again).ok());
  CHECK(again.expiry_reminder_certificate_nos_size() == 0);

  CHECK(f.Count("SELECT count(*) FROM certificate_reminders") == 2);
  CHECK(f.OutboxCount("licensing.certificate_expiry_reminder", "ExchangeService") == 2);
  CHECK(f.OutboxCount("licensing.certificate_expiry_reminder", "DisclosureService") == 0);
  CHECK(f.Count("SELECT count(*) FROM certificate_reminders r JOIN outbox o "
                "ON o.event_id = r.event_id WHERE o.aggregate_id = r.certificate_no") == 2);
  auto reminder = f.LastPayload<ev::CertificateExpiryReminder>(
      "licensing.certificate_expiry_reminder", "ExchangeService");
  CHECK(reminder.valid_until() == "2029-09-27");
  CHECK(reminder.remind_date() == "2029-07-01");
  CHECK(reminder.renew_by_date() == "2029-08-28");  // 30 days before expiry (Art 50)
  CHECK(reminder.reminder_kind() == "EXPIRY_90D");
  CHECK(reminder.holder_name() == "青岛示例化工有限公司");
  CHECK((reminder.uscc() == kClean || reminder.uscc() == kOther));

  // sent_at: empty until exchange acknowledged the event (the relay sets delivered_at).
  CHECK(f.Count("SELECT count(*) FROM certificate_reminders WHERE sent_at IS NOT NULL") == 0);
  f.Sql(
      "UPDATE outbox SET delivered_at = now() WHERE aggregate_id = $1 "
      "AND event_type = 'licensing.certificate_expiry_reminder'",
      a.certificate_no());
  REQUIRE(f.logic->RunDeadlines(due, &again).ok());
  CHECK(f.Count("SELECT count(*) FROM certificate_reminders r JOIN outbox o "
                "ON o.event_id = r.event_id WHERE r.sent_at = o.delivered_at") == 1);
  CHECK(f.Count("SELECT count(*) FROM certificate_reminders WHERE sent_at IS NULL") == 1);
}

TEST_CASE(
    "key rotation: certificates verify with the key their key_id names; unknown key ids "
    "are not genuine",
    "[licensing][certificate][rotation]") {
  Fixture f;  // signs with "test-key"
  auto before = f.Submit(f.Submission("WHJY", kClean, true)).certificate();
  REQUIRE(before.key_id() == "test-key");

  auto next = CertificateSigner::Generate("test-key-2");
  REQUIRE(next.ok());
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("licensing-keys-", getpid());
  std::filesystem::create_directories(dir);
  {
    std::ofstream(dir / "test-key.pem") << f.signer->PublicKeyPem();
    std::ofstream(dir / "README.txt") << "not a key";
  }
  auto ring = std::make_shared<CertificateKeyRing>();
  REQUIRE(ring->AddDirectory(dir.string()).ok());
  std::filesystem::remove_all(dir);
  CHECK(ring->size() == 1);

  // Rotated without the earlier key: the old certificate is not genuine any more.
  LicensingLogic rotated_only(f.pool, f.clock, f.calendar, f.credit.get(), next->get(),
                              LicensingOptions{});
  CHECK_FALSE(Verify(rotated_only, before).genuine());
  // With the earlier public key configured it is, and new certificates use the new key.
  LicensingLogic rotated(f.pool, f.clock, f.calendar, f.credit.get(), next->get(),
                         LicensingOptions{}, ring);
  CHECK(Verify(rotated, before).genuine());
  v1::Application fresh;
  REQUIRE(rotated.SubmitApplication(f.Submission("WHJY", kOther, true), &fresh).ok());
  CHECK(fresh.certificate().key_id() == "test-key-2");
  CHECK(Verify(rotated, fresh.certificate()).genuine());

  // A change re-signs with the current key.
  v1::Certificate changed;
  REQUIRE(rotated.ChangeCertificate(RenameRequest(before.certificate_no()), &changed).ok());
  CHECK(changed.key_id() == "test-key-2");
  CHECK(Verify(rotated, before).genuine());

  // A key id nobody knows: not genuine.
  f.Sql(
      "UPDATE certificates SET data = jsonb_set(data, '{keyId}', '\"test-key-9\"') "
      "WHERE certificate_no = $1",
      fresh.certificate().certificate_no());
  CHECK_FALSE(Verify(rotated, fresh.certificate()).genuine());
}

TEST_CASE("numbers: manual approvals and 秒批 of one type at once neither deadlock nor repeat",
          "[licensing][numbers]") {
  // A manual approval draws the certificate's and the decision's numbers inside its
  // transaction; a 秒批 reserves them in one statement before its own. Both lock the counter
  // rows in scope order, so neither waits on the other in a cycle (a cycle would end one of
  // them with "deadlock detected").
  Fixture f;
  constexpr int kPerThread = 12;
  std::vector<std::string> pending;
  for (int i = 0; i < 2 * kPerThread; ++i) {
    pending.push_back(f.Submit(f.Submission("WHJY", kOther, false)).application_id());
  }
  const auto instant = f.Submission("WHJY", kClean, true);
  std::mutex mu;
  std::vector<std::string> failures, certificates, decisions;
  auto record = [&](const absl::Status& status, const v1::Application& app) {
    std::lock_guard lock(mu);
    if (!status.ok()) {
      failures.push_back(status.ToString());
    } else if (app.status() != v1::APPLICATION_STATUS_APPROVED) {
      failures.push_back(absl::StrCat("not approved: ", v1::ApplicationStatus_Name(app.status())));
    } else {
      certificates.push_back(app.certificate().certificate_no());
      decisions.push_back(app.decision().decision_no());
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        v1::DecideApplicationRequest decide;
        decide.set_application_id(pending[t * kPerThread + i]);
        decide.set_approve(true);
        decide.set_decided_by("局长");
        v1::Application out;
        record(f.logic->DecideApplication(decide, &out), out);
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i) {
        v1::Application out;
        record(f.logic->SubmitApplication(instant, &out), out);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  INFO(absl::StrJoin(failures, "\n"));
  CHECK(failures.empty());
  CHECK(certificates.size() == 4 * kPerThread);
  CHECK(std::set<std::string>(certificates.begin(), certificates.end()).size() ==
        certificates.size());
  CHECK(std::set<std::string>(decisions.begin(), decisions.end()).size() == decisions.size());
}
