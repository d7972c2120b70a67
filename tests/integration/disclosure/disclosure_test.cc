// The disclosure service's logic against a real PostgreSQL schema migrated from
// services/disclosure/migrations: publication, Chinese substring search, withdrawal, event
// idempotency, the expiry sweep and the annual report of a seeded year.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "annual_reports.h"
#include "event_intake.h"
#include "info_requests.h"
#include "publications.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/events.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/server.h"
#include "regsuite/common/service_migrations.h"
#include "settings.h"
#include "test_env.h"

namespace {

using namespace regsuite::disclosure;
namespace common = regsuite::common;
namespace ev = regsuite::events::v1;
namespace v1 = regsuite::disclosure::v1;

constexpr char kUscc[] = "91350100M000100Y43";
constexpr char kUscc2[] = "91110000802100433B";

// The built-in years plus 2027 (Mon-Fri only): a request received in late 2026 is due in 2027,
// and a deadline in a year without data is FAILED_PRECONDITION by design.
common::WorkingDayCalendar CalendarWith2027() {
  common::WorkingDayCalendar::Builder builder;
  REQUIRE(builder.AddCalendar(*common::WorkingDayCalendar::Builtin()).ok());
  if (!common::WorkingDayCalendar::Builtin()->HasYear(2027)) REQUIRE(builder.AddYear(2027).ok());
  return *builder.Build();
}

struct Env {
  Env()
      : schema(regsuite::testing::UniqueSchemaName("disclosure")),
        pool(regsuite::testing::TestPgOptions(schema)),
        settings(DisclosureSettings::Defaults()),
        calendar(std::make_shared<common::WorkingDayCalendar>(CalendarWith2027())),
        clock(absl::CivilSecond(2026, 9, 14, 10, 0, 0)),
        publications(pool, settings, calendar, clock),
        requests(pool, settings, calendar, clock),
        reports(pool, settings, clock),
        intake(publications) {
    settings.agency_code = "TESTAGENCY";
    regsuite::testing::MigrateSchema(schema, schema, MigrationFiles());
  }
  ~Env() { regsuite::testing::DropSchema(schema); }

  void SetToday(absl::CivilDay day) {
    clock.SetNow(absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 10, 0, 0),
                                 common::BureauTimeZone()));
  }

  ev::EventEnvelope Envelope(absl::string_view source, absl::string_view type,
                             const google::protobuf::Message& payload, std::string event_id = "") {
    auto event = common::MakeEnvelopeEvent(source, common::DeliverEventMethod("disclosure"), "agg",
                                           "1", type, payload, clock.Now(), event_id);
    ev::EventEnvelope envelope;
    REQUIRE(envelope.ParseFromString(event.payload));
    return envelope;
  }

  absl::StatusOr<ev::EventAck> Deliver(const ev::EventEnvelope& envelope) {
    return common::ApplyDeliveredEvent(
        pool, envelope,
        [this](pqxx::work& txn, const ev::EventEnvelope& e) { return intake.Apply(txn, e); });
  }

  int64_t Count(const std::string& sql) {
    return *pool.Transact([&](pqxx::work& txn) -> absl::StatusOr<int64_t> {
      return txn.exec(sql)[0][0].as<int64_t>();
    });
  }

  v1::SearchRecordsResponse Search(const std::string& query,
                                   v1::RecordCategory category = v1::RECORD_CATEGORY_UNSPECIFIED) {
    v1::SearchRecordsRequest request;
    request.set_query(query);
    request.set_category(category);
    auto response = publications.Search(request);
    INFO(response.status().ToString());
    REQUIRE(response.ok());
    return *response;
  }

  std::string schema;
  common::PgPool pool;
  DisclosureSettings settings;
  std::shared_ptr<common::WorkingDayCalendar> calendar;
  common::FakeClock clock;
  Publications publications;
  InfoRequests requests;
  AnnualReports reports;
  EventIntake intake;
};

v1::PublishRecordRequest PenaltyRequest(const std::string& case_id, const std::string& decided,
                                        ev::Severity severity = ev::SEVERITY_GENERAL) {
  v1::PublishRecordRequest request;
  auto* r = request.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_PENALTY_DECISION);
  r->mutable_source()->set_service("inspection");
  r->mutable_source()->set_source_id(case_id);
  r->set_title("福州某某危险化学品有限公司 行政处罚决定");
  r->set_body("该公司在危险化学品储存场所未设置安全警示标志，联系人电话13812345678。");
  auto* p = r->mutable_penalty();
  p->set_party_name("福州某某危险化学品有限公司");
  p->set_party_category(v1::PARTY_TYPE_LEGAL_PERSON);
  p->set_uscc(kUscc);
  p->set_legal_representative("王五");
  p->set_decision_no("榕应急罚〔2026〕" + case_id + "号");
  p->set_violation_type("未设置安全警示标志");
  p->set_facts("在危险化学品储存场所未设置明显的安全警示标志");
  p->set_legal_basis("《中华人民共和国安全生产法》第九十九条");
  p->set_penalty_category("罚款");
  p->add_kinds(ev::PENALTY_KIND_FINE);
  p->set_content("罚款人民币贰万元整");
  p->set_fine_fen(2000000);
  p->set_decision_date(decided);
  p->set_authority("福州市应急管理局");
  p->set_severity(severity);
  return request;
}

}  // namespace

TEST_CASE(
    "publish → search finds it by a Chinese substring → withdraw → search no longer returns it") {
  Env env;
  auto published = env.publications.Publish(PenaltyRequest("001", "2026-09-10"));
  INFO(published.status().ToString());
  REQUIRE(published.ok());
  CHECK(published->status() == v1::RECORD_STATUS_PUBLISHED);
  CHECK(published->index_no() == "TESTAGENCY/2026-00001");
  CHECK(published->publish_date() == "2026-09-14");
  CHECK(published->publication_due_date() == "2026-09-20");  // 7 WD; Sun 9/20 is a workday
  CHECK(published->publication_end_date() == "2027-09-10");  // 36号令 general: 1 year
  CHECK(published->body().find("138****5678") != std::string::npos);

  // Two Chinese characters, six Chinese characters, and a filter.
  CHECK(env.Search("警示").records_size() == 1);
  CHECK(env.Search("安全警示标志").records_size() == 1);
  CHECK(env.Search("安全警示标志", v1::RECORD_CATEGORY_LICENSING_DECISION).records_size() == 0);
  CHECK(env.Search("不存在的词语").records_size() == 0);
  // Only the masked text is searchable: the original phone number finds nothing.
  CHECK(env.Search("13812345678").records_size() == 0);

  v1::WithdrawRecordRequest withdraw;
  withdraw.set_index_no(published->index_no());
  withdraw.set_reason("处罚决定经行政复议撤销");
  withdraw.set_withdrawn_by("法规科");
  withdraw.set_decision_changed_date("2026-09-14");
  auto withdrawn = env.publications.Withdraw(withdraw);
  REQUIRE(withdrawn.ok());
  CHECK(withdrawn->status() == v1::RECORD_STATUS_WITHDRAWN);
  CHECK(withdrawn->withdrawal_reason().find("处罚决定经行政复议撤销") != std::string::npos);
  CHECK(withdrawn->withdrawal_due_date() == "2026-09-17");
  CHECK_FALSE(withdrawn->withdrawn_late());
  CHECK(env.Search("警示").records_size() == 0);
  // The withdrawal and its reason stay visible on the record itself.
  auto got = env.publications.Get(published->index_no());
  REQUIRE(got.ok());
  CHECK(got->status() == v1::RECORD_STATUS_WITHDRAWN);
  // Withdrawing twice names the current state.
  auto again = env.publications.Withdraw(withdraw);
  CHECK(again.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(again.status().message()).find("WITHDRAWN") != std::string::npos);
  // The exchange gets one publication and one withdrawal, through the outbox.
  CHECK(env.Count("SELECT count(*) FROM outbox WHERE event_type = 'disclosure.record_published'") ==
        1);
  CHECK(env.Count("SELECT count(*) FROM outbox WHERE event_type = 'disclosure.record_withdrawn'") ==
        1);
}

TEST_CASE("the same source published twice is one record with one index number") {
  Env env;
  auto first = env.publications.Publish(PenaltyRequest("002", "2026-09-10"));
  auto second = env.publications.Publish(PenaltyRequest("002", "2026-09-10"));
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(first->index_no() == second->index_no());
  CHECK(env.Count("SELECT count(*) FROM records") == 1);
  auto third = env.publications.Publish(PenaltyRequest("003", "2026-09-10"));
  REQUIRE(third.ok());
  CHECK(third->index_no() == "TESTAGENCY/2026-00002");
}

TEST_CASE("the same source event delivered twice publishes once") {
  Env env;
  ev::PenaltyDecided e;
  e.set_case_id("case-77");
  e.set_decision_no("榕应急罚〔2026〕77号");
  e.set_decision_date("2026-09-11");
  e.set_party_type(ev::PARTY_TYPE_LEGAL_PERSON);
  e.set_party_name("闽侯某某烟花爆竹批发有限公司");
  e.set_uscc(kUscc2);
  e.set_facts("超量储存烟花爆竹");
  e.add_kinds(ev::PENALTY_KIND_FINE);
  e.set_fine_fen(5000000);
  e.set_severity(ev::SEVERITY_SERIOUS);
  auto envelope = env.Envelope("inspection", "inspection.penalty_decided", e);
  auto ack1 = env.Deliver(envelope);
  INFO(ack1.status().ToString());
  REQUIRE(ack1.ok());
  CHECK_FALSE(ack1->duplicate());
  auto ack2 = env.Deliver(envelope);
  REQUIRE(ack2.ok());
  CHECK(ack2->duplicate());
  // A second event about the same case (new event id) is still one record.
  auto ack3 = env.Deliver(env.Envelope("inspection", "inspection.penalty_decided", e));
  REQUIRE(ack3.ok());
  CHECK(env.Count("SELECT count(*) FROM records") == 1);
  auto found = env.Search("烟花爆竹");
  REQUIRE(found.records_size() == 1);
  CHECK(found.records(0).penalty().publication_end_date() == "2029-09-11");  // serious: 3 years

  // The annulment withdraws it, within 3 WD of the annulment.
  ev::PenaltyDecisionAnnulled annulled;
  annulled.set_case_id("case-77");
  annulled.set_annulled_date("2026-09-14");
  annulled.set_reason("行政复议决定撤销");
  REQUIRE(env.Deliver(env.Envelope("inspection", "inspection.penalty_annulled", annulled)).ok());
  CHECK(env.Search("烟花爆竹").records_size() == 0);
}

TEST_CASE("a warning alone, a simple-procedure penalty and a minor are refused, not published") {
  Env env;
  ev::PenaltyDecided warning;
  warning.set_case_id("w-1");
  warning.set_decision_no("警告1号");
  warning.set_decision_date("2026-09-11");
  warning.set_party_name("某公司");
  warning.set_party_type(ev::PARTY_TYPE_LEGAL_PERSON);
  warning.set_uscc(kUscc);
  warning.add_kinds(ev::PENALTY_KIND_WARNING);
  REQUIRE(env.Deliver(env.Envelope("inspection", "inspection.penalty_decided", warning)).ok());
  ev::PenaltyDecided minor = warning;
  minor.set_case_id("m-1");
  minor.clear_kinds();
  minor.add_kinds(ev::PENALTY_KIND_FINE);
  minor.set_party_type(ev::PARTY_TYPE_NATURAL_PERSON);
  minor.clear_uscc();
  minor.set_party_is_minor(true);
  REQUIRE(env.Deliver(env.Envelope("inspection", "inspection.penalty_decided", minor)).ok());
  CHECK(env.Count("SELECT count(*) FROM records") == 0);
  CHECK(env.Count("SELECT count(*) FROM publication_refusals") == 2);

  // The same rules answer a direct PublishRecord with FAILED_PRECONDITION.
  auto request = PenaltyRequest("s-1", "2026-09-11");
  request.mutable_record()->mutable_penalty()->set_simple_procedure(true);
  CHECK(env.publications.Publish(request).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("policy documents wait in the review queue until approved") {
  Env env;
  v1::PublishRecordRequest request;
  auto* r = request.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_POLICY_DOCUMENT);
  r->set_title("关于印发烟花爆竹经营许可实施办法的通知");
  r->mutable_policy_document()->set_document_no("榕应急规〔2026〕1号");
  r->mutable_policy_document()->set_kind(v1::DOCUMENT_KIND_NORMATIVE_DOCUMENT);
  r->mutable_policy_document()->set_issued_date("2026-09-01");
  auto pending = env.publications.Publish(request);
  REQUIRE(pending.ok());
  CHECK(pending->status() == v1::RECORD_STATUS_PENDING_REVIEW);
  CHECK(env.Search("烟花爆竹经营").records_size() == 0);
  v1::ReviewRecordRequest review;
  review.set_index_no(pending->index_no());
  review.set_reviewer("保密审查员");
  review.set_passed(true);
  auto passed = env.publications.Review(review);
  REQUIRE(passed.ok());
  CHECK(passed->status() == v1::RECORD_STATUS_PUBLISHED);
  CHECK(env.Search("烟花爆竹经营").records_size() == 1);
  CHECK(env.publications.Review(review).status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("the expiry job ends publication after the end date, once, with several replicas") {
  Env env;
  env.SetToday(absl::CivilDay(2026, 4, 1));
  for (int i = 0; i < 30; ++i) {
    REQUIRE(env.publications
                .Publish(PenaltyRequest("m" + std::to_string(i), "2026-04-01", ev::SEVERITY_MINOR))
                .ok());
  }
  REQUIRE(env.publications.Publish(PenaltyRequest("g1", "2026-04-01", ev::SEVERITY_GENERAL)).ok());
  // Minor: published until 2026-07-01 inclusive.
  auto none = env.publications.Expire(absl::CivilDay(2026, 7, 1));
  REQUIRE(none.ok());
  CHECK(none->empty());
  // Two replicas sweep at once: every record expires exactly once.
  absl::StatusOr<std::vector<std::string>> a, b;
  std::thread t1([&] { a = env.publications.Expire(absl::CivilDay(2026, 7, 2)); });
  std::thread t2([&] { b = env.publications.Expire(absl::CivilDay(2026, 7, 2)); });
  t1.join();
  t2.join();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  std::set<std::string> all(a->begin(), a->end());
  all.insert(b->begin(), b->end());
  CHECK(all.size() == 30);
  CHECK(a->size() + b->size() == 30);
  CHECK(env.Count("SELECT count(*) FROM records WHERE status = 4") == 30);
  CHECK(env.Count("SELECT count(*) FROM outbox WHERE event_type = 'disclosure.record_withdrawn'") ==
        30);
  CHECK(env.publications.Expire(absl::CivilDay(2026, 7, 2))->empty());
  CHECK(env.Count("SELECT count(*) FROM records WHERE status = 2") == 1);
}

TEST_CASE("search pages with page_token and filters by USCC") {
  Env env;
  for (int i = 0; i < 5; ++i) {
    REQUIRE(env.publications.Publish(PenaltyRequest("p" + std::to_string(i), "2026-09-10")).ok());
  }
  v1::SearchRecordsRequest request;
  request.set_query("警示标志");
  request.set_uscc(kUscc);
  request.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto response = env.publications.Search(request);
    REQUIRE(response.ok());
    CHECK(response->total_size() == 5);
    for (const auto& r : response->records()) seen.push_back(r.index_no());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  CHECK(seen.size() == 5);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 5);
  CHECK(seen.front() == "TESTAGENCY/2026-00005");  // newest first
  request.clear_page_token();
  request.set_uscc(kUscc2);
  CHECK(env.publications.Search(request)->records_size() == 0);
}

TEST_CASE("search: common text is read in publication order, rare text through the bigram "
          "index, with the same answers either way") {
  Env env;
  // Seven penalties; only the oldest two mention 烟花爆竹 (rare among the newest records).
  for (int i = 0; i < 7; ++i) {
    auto request = PenaltyRequest("w" + std::to_string(i), "2026-09-10");
    if (i < 2) request.mutable_record()->set_body("该公司在烟花爆竹储存仓库超量储存。");
    REQUIRE(env.publications.Publish(request).ok());
  }
  auto index_nos = [](const v1::SearchRecordsResponse& r) {
    std::vector<std::string> out;
    for (const auto& record : r.records()) out.push_back(record.index_no());
    return out;
  };
  const std::vector<std::string> rare_expected = {"TESTAGENCY/2026-00002",
                                                  "TESTAGENCY/2026-00001"};
  // The whole table fits the window (default 4000): exact counts.
  auto rare = env.Search("烟花爆竹", v1::RECORD_CATEGORY_PENALTY_DECISION);
  CHECK(index_nos(rare) == rare_expected);
  CHECK(rare.total_size() == 2);
  CHECK_FALSE(rare.total_size_capped());
  // A window of 3: the newest three hold no 烟花爆竹, so the bigram index answers, exactly.
  env.settings.search_window = 3;
  rare = env.Search("烟花爆竹", v1::RECORD_CATEGORY_PENALTY_DECISION);
  CHECK(index_nos(rare) == rare_expected);
  CHECK(rare.total_size() == 2);
  CHECK_FALSE(rare.total_size_capped());
  CHECK(env.Search("爆竹").records_size() == 2);  // two characters, any category
  CHECK(env.Search("爆竹", v1::RECORD_CATEGORY_LICENSING_DECISION).records_size() == 0);
  CHECK(env.Search("竹储存仓").records_size() == 2);
  CHECK(env.Search("量储存仓").records_size() == 0);  // every bigram present, not the phrase
  // Common text (警示): a page from the window, the total a lower bound.
  v1::SearchRecordsRequest request;
  request.set_query("警示");
  request.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    auto response = env.publications.Search(request);
    REQUIRE(response.ok());
    if (page == 0) {
      CHECK(response->total_size() == 3);  // three in the window of three
      CHECK(response->total_size_capped());
    }
    for (const auto& r : response->records()) seen.push_back(r.index_no());
    if (response->next_page_token().empty()) break;
    request.set_page_token(response->next_page_token());
  }
  // Later pages leave the window and continue through the index: every record (the penalty
  // details of all seven name the missing 警示 signs), newest first, none twice.
  CHECK(seen == std::vector<std::string>{"TESTAGENCY/2026-00007", "TESTAGENCY/2026-00006",
                                         "TESTAGENCY/2026-00005", "TESTAGENCY/2026-00004",
                                         "TESTAGENCY/2026-00003", "TESTAGENCY/2026-00002",
                                         "TESTAGENCY/2026-00001"});
}

TEST_CASE("the annual report of a seeded year equals hand-computed figures") {
  Env env;
  auto submit = [&](v1::ApplicantType type, absl::CivilDay day, const std::string& name) {
    env.SetToday(day);
    v1::SubmitInfoRequestRequest request;
    request.mutable_applicant()->set_type(type);
    request.mutable_applicant()->set_name(name);
    request.mutable_applicant()->mutable_contact()->set_email("a@example.com");
    request.set_description("请求公开某许可信息");
    auto r = env.requests.Submit(request);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return r->request_id();
  };
  auto reply = [&](const std::string& id, absl::CivilDay day, v1::ReplyType type,
                   v1::RefusalReason refusal = v1::REFUSAL_REASON_UNSPECIFIED) {
    env.SetToday(day);
    v1::ReplyInfoRequestRequest request;
    request.set_request_id(id);
    request.mutable_reply()->set_type(type);
    request.mutable_reply()->set_refusal_reason(refusal);
    request.mutable_reply()->set_replied_by("officer");
    auto r = env.requests.Reply(request);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  };
  // 2025: one answered in 2025 (not in the 2026 report), one carried over into 2026.
  auto old_answered = submit(v1::APPLICANT_TYPE_NATURAL_PERSON, absl::CivilDay(2025, 11, 3), "甲");
  reply(old_answered, absl::CivilDay(2025, 11, 20), v1::REPLY_TYPE_DISCLOSED);
  auto carried = submit(v1::APPLICANT_TYPE_BUSINESS, absl::CivilDay(2025, 12, 22), "乙公司");
  reply(carried, absl::CivilDay(2026, 1, 9), v1::REPLY_TYPE_PARTIALLY_DISCLOSED,
        v1::REFUSAL_REASON_THIRD_PARTY_RIGHTS);
  // 2026: three new; one disclosed, one refused (state secret), one still open at year end.
  auto a = submit(v1::APPLICANT_TYPE_NATURAL_PERSON, absl::CivilDay(2026, 3, 2), "丙");
  reply(a, absl::CivilDay(2026, 3, 20), v1::REPLY_TYPE_DISCLOSED);
  auto b = submit(v1::APPLICANT_TYPE_LEGAL_SERVICES, absl::CivilDay(2026, 6, 1), "丁律师事务所");
  reply(b, absl::CivilDay(2026, 6, 15), v1::REPLY_TYPE_REFUSED, v1::REFUSAL_REASON_STATE_SECRET);
  submit(v1::APPLICANT_TYPE_NATURAL_PERSON, absl::CivilDay(2026, 12, 29), "戊");
  // One lapsed correction (逾期不补正) in 2026.
  auto c = submit(v1::APPLICANT_TYPE_RESEARCH, absl::CivilDay(2026, 9, 14), "某研究院");
  env.SetToday(absl::CivilDay(2026, 9, 15));
  v1::RequestCorrectionRequest correction;
  correction.set_request_id(c);
  correction.add_items("所需信息的文号");
  correction.set_requested_by("officer");
  REQUIRE(env.requests.RequestCorrection(correction).ok());
  auto closed = env.requests.CloseLapsedCorrections(absl::CivilDay(2026, 11, 2));
  REQUIRE(closed.ok());
  CHECK(*closed == std::vector<std::string>{c});

  // Decisions: two penalties published, one warning refused (still a decision), one licence.
  env.SetToday(absl::CivilDay(2026, 9, 14));
  REQUIRE(env.publications.Publish(PenaltyRequest("r1", "2026-09-10")).ok());
  REQUIRE(env.publications.Publish(PenaltyRequest("r2", "2026-09-11")).ok());
  ev::PenaltyDecided warning;
  warning.set_case_id("w-9");
  warning.set_decision_no("警告9号");
  warning.set_decision_date("2026-09-11");
  warning.set_party_name("某公司");
  warning.set_party_type(ev::PARTY_TYPE_LEGAL_PERSON);
  warning.set_uscc(kUscc);
  warning.add_kinds(ev::PENALTY_KIND_WARNING);
  REQUIRE(env.Deliver(env.Envelope("inspection", "inspection.penalty_decided", warning)).ok());
  ev::LicensingDecisionMade licence;
  licence.set_application_id("app-1");
  licence.set_outcome(ev::LICENSING_OUTCOME_APPROVED);
  licence.set_decision_no("榕应急许〔2026〕5号");
  licence.set_decision_date("2026-09-11");
  licence.set_permit_type_name("危险化学品经营许可证");
  licence.set_uscc(kUscc2);
  licence.set_party_name("某某贸易有限公司");
  licence.set_certificate_no("闽榕危化经字〔2026〕000123");
  REQUIRE(env.Deliver(env.Envelope("licensing", "licensing.decision_made", licence)).ok());

  v1::RecordAppealRequest appeal;
  appeal.mutable_appeal()->set_kind(v1::APPEAL_KIND_RECONSIDERATION);
  appeal.mutable_appeal()->set_outcome(v1::APPEAL_OUTCOME_UPHELD);
  appeal.mutable_appeal()->set_filed_date("2026-07-01");
  appeal.mutable_appeal()->set_concluded_date("2026-08-20");
  REQUIRE(env.requests.RecordAppeal(appeal).ok());

  auto report = env.reports.Get(2026);
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  std::map<std::string, v1::ApplicantTypeCounts> rows;
  for (const auto& row : report->requests().rows()) rows[row.key()] = row.counts();
  CHECK(rows["new_this_year"].total() == 4);
  CHECK(rows["new_this_year"].natural_person() == 2);
  CHECK(rows["new_this_year"].legal_services() == 1);
  CHECK(rows["new_this_year"].research() == 1);
  CHECK(rows["carried_over"].total() == 1);
  CHECK(rows["carried_over"].business() == 1);
  CHECK(rows["disclosed"].natural_person() == 1);
  CHECK(rows["partially_disclosed"].business() == 1);
  CHECK(rows["refused.state_secret"].legal_services() == 1);
  CHECK(rows["other.correction_not_supplied"].research() == 1);
  CHECK(rows["total"].total() == 4);
  CHECK(rows["carried_forward"].total() == 1);
  CHECK(report->proactive_disclosure().penalty_decisions() == 3);
  CHECK(report->proactive_disclosure().licensing_decisions() == 1);
  CHECK(report->appeals().reconsideration().upheld() == 1);
  CHECK(report->appeals().reconsideration().total() == 1);
  CHECK(report->request_fees_fen() == 0);
  CHECK(report->due_date() == "2027-01-31");
  CHECK(report->rendered_markdown().find("| （七）总计 | 1 | 1 | 1 | 0 | 1 | 0 | 3 | 4 |") !=
        std::string::npos);
}

TEST_CASE("the 11th request of an applicant in a month is charged 100 yuan") {
  Env env;
  env.SetToday(absl::CivilDay(2026, 9, 14));
  v1::SubmitInfoRequestRequest request;
  request.mutable_applicant()->set_type(v1::APPLICANT_TYPE_NATURAL_PERSON);
  request.mutable_applicant()->set_name("频繁申请人");
  request.mutable_applicant()->set_id_number("11010519491231002X");
  request.mutable_applicant()->mutable_contact()->set_phone("13812345678");
  request.set_description("某信息");
  for (int i = 1; i <= 10; ++i) {
    auto r = env.requests.Submit(request);
    REQUIRE(r.ok());
    CHECK(r->fee().amount_fen() == 0);
  }
  auto eleventh = env.requests.Submit(request);
  REQUIRE(eleventh.ok());
  CHECK(eleventh->fee().amount_fen() == 10000);
  CHECK(eleventh->fee().requests_this_month() == 11);
  CHECK(eleventh->applicant().id_number() == "1101**********002X");
  // Idempotency key: the same submission twice is one request.
  request.set_idempotency_key("k-1");
  auto x = env.requests.Submit(request);
  auto y = env.requests.Submit(request);
  REQUIRE(x.ok());
  REQUIRE(y.ok());
  CHECK(x->request_id() == y->request_id());
}

TEST_CASE(
    "a certificate's status change updates the licence record; a credit repair withdraws the "
    "listing") {
  Env env;
  ev::LicensingDecisionMade licence;
  licence.set_application_id("app-9");
  licence.set_outcome(ev::LICENSING_OUTCOME_APPROVED);
  licence.set_decision_no("榕应急许〔2026〕9号");
  licence.set_decision_date("2026-09-11");
  licence.set_permit_type_name("烟花爆竹经营（零售）许可证");
  licence.set_uscc(kUscc2);
  licence.set_party_name("某某烟花零售店");
  licence.set_certificate_no("（闽）YH2026000999");
  REQUIRE(env.Deliver(env.Envelope("licensing", "licensing.decision_made", licence)).ok());
  // A 变更 of the holder's name: the licence record shows the new name, re-announced.
  ev::CertificateStatusChanged renamed;
  renamed.set_certificate_no("（闽）YH2026000999");
  renamed.set_status(ev::CERTIFICATE_STATUS_VALID);
  renamed.set_holder_name("某某烟花零售有限公司");
  renamed.set_revision(1);
  REQUIRE(env.Deliver(env.Envelope("licensing", "licensing.certificate_changed", renamed)).ok());
  auto renamed_found = env.Search("烟花零售");
  REQUIRE(renamed_found.records_size() == 1);
  CHECK(renamed_found.records(0).licence().party_name() == "某某烟花零售有限公司");
  CHECK(renamed_found.records(0).title() ==
        "某某烟花零售有限公司 烟花爆竹经营（零售）许可证行政许可决定（原名称：某某烟花零售店）");
  // The name the licence was granted to stays findable.
  CHECK(env.Search("零售店").records_size() == 1);
  CHECK(renamed_found.records(0).licence().status() == "有效");
  ev::CertificateStatusChanged changed;
  changed.set_certificate_no("（闽）YH2026000999");
  changed.set_status(ev::CERTIFICATE_STATUS_REVOKED);
  REQUIRE(
      env.Deliver(env.Envelope("licensing", "licensing.certificate_status_changed", changed)).ok());
  auto found = env.Search("烟花零售");
  REQUIRE(found.records_size() == 1);
  CHECK(found.records(0).licence().status() == "吊销");
  CHECK(found.records(0).licence().party_name() == "某某烟花零售有限公司");
  CHECK(env.Count("SELECT count(*) FROM outbox WHERE event_type = 'disclosure.record_published'") ==
        3);

  ev::ListingChanged listing;
  listing.set_listing_id("L-1");
  listing.set_uscc(kUscc);
  listing.set_subject_name("某某危险化学品有限公司");
  listing.set_list_type(ev::LIST_TYPE_BLACK);
  listing.set_change(ev::LISTING_CHANGE_PUBLISHED);
  listing.set_change_date("2026-09-11");
  listing.set_reason("瞒报生产安全事故");
  listing.set_effective_from("2026-09-11");
  listing.set_effective_until("2029-09-10");
  REQUIRE(env.Deliver(env.Envelope("credit", "credit.listing_changed", listing)).ok());
  auto listed = env.Search("瞒报", v1::RECORD_CATEGORY_CREDIT_LISTING);
  REQUIRE(listed.records_size() == 1);
  CHECK(listed.records(0).publication_end_date() == "2029-09-10");
  listing.set_change(ev::LISTING_CHANGE_REPAIRED);
  listing.set_change_date("2026-09-14");
  REQUIRE(env.Deliver(env.Envelope("credit", "credit.listing_changed", listing)).ok());
  CHECK(env.Search("瞒报", v1::RECORD_CATEGORY_CREDIT_LISTING).records_size() == 0);
  auto withdrawn = env.publications.Get(listed.records(0).index_no());
  REQUIRE(withdrawn.ok());
  CHECK(withdrawn->withdrawal_reason().find("信用修复") != std::string::npos);
  // A repair obtained by fraud is revoked: the listing is published again, same index number.
  listing.set_change(ev::LISTING_CHANGE_RESTORED);
  REQUIRE(env.Deliver(env.Envelope("credit", "credit.listing_changed", listing)).ok());
  auto restored = env.Search("瞒报", v1::RECORD_CATEGORY_CREDIT_LISTING);
  REQUIRE(restored.records_size() == 1);
  CHECK(restored.records(0).index_no() == listed.records(0).index_no());
}

TEST_CASE("the overdue list shows a record pending review past its 20 WD") {
  Env env;
  env.SetToday(absl::CivilDay(2026, 9, 1));
  v1::PublishRecordRequest request;
  auto* r = request.mutable_record();
  r->set_category(v1::RECORD_CATEGORY_OTHER);
  r->set_title("关于开展安全生产月活动的通知");
  auto pending = env.publications.Publish(request);
  REQUIRE(pending.ok());
  CHECK(pending->status() == v1::RECORD_STATUS_PENDING_REVIEW);
  // 20 WD from Tue 9/1: Sun 9/20 works, Fri 9/25 (中秋) is off.
  CHECK(pending->publication_due_date() == "2026-09-29");
  CHECK(env.publications.PendingDueBy(absl::CivilDay(2026, 9, 28))->empty());
  CHECK(env.publications.PendingDueBy(absl::CivilDay(2026, 9, 29))->size() == 1);
}
