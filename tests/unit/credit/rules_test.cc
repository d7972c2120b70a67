// Pure credit rules: the listing procedure, objection periods on the working-day calendar,
// publication periods by the rule in force, repair eligibility, listing situations, grades.
#include "rules.h"

#include <catch2/catch.hpp>

#include "absl/time/civil_time.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/dates.h"

namespace v1 = regsuite::credit::v1;
using absl::CivilDay;
using regsuite::common::FormatDate;
using namespace regsuite::credit;  // NOLINT: test file

namespace {

const regsuite::common::WorkingDayCalendar& Calendar() {
  static const auto* calendar =
      new regsuite::common::WorkingDayCalendar(*regsuite::common::WorkingDayCalendar::Builtin());
  return *calendar;
}

v1::Listing NotifiedListing(const std::string& deadline, bool waived = false) {
  v1::Listing l;
  l.set_status(v1::LISTING_STATUS_NOTIFIED);
  l.set_objection_deadline(deadline);
  l.set_objection_waived(waived);
  return l;
}

v1::CreditRecord Accident(const std::string& id, v1::AccidentLevel level,
                          const std::string& occurred) {
  v1::CreditRecord r;
  r.set_record_id(id);
  r.set_kind(v1::CREDIT_RECORD_KIND_ACCIDENT);
  r.set_accident_level(level);
  r.set_occurred_date(occurred);
  return r;
}

}  // namespace

TEST_CASE("the listing procedure runs proposed, notified, active, then expired or removed") {
  CHECK(*NextListingStatus(v1::LISTING_STATUS_UNSPECIFIED, v1::LISTING_ACTION_PROPOSED) ==
        v1::LISTING_STATUS_PROPOSED);
  CHECK(*NextListingStatus(v1::LISTING_STATUS_PROPOSED, v1::LISTING_ACTION_NOTIFIED) ==
        v1::LISTING_STATUS_NOTIFIED);
  CHECK(*NextListingStatus(v1::LISTING_STATUS_NOTIFIED, v1::LISTING_ACTION_OBJECTION_RECORDED) ==
        v1::LISTING_STATUS_NOTIFIED);
  CHECK(*NextListingStatus(v1::LISTING_STATUS_NOTIFIED, v1::LISTING_ACTION_APPROVED) ==
        v1::LISTING_STATUS_ACTIVE);
  CHECK(*NextListingStatus(v1::LISTING_STATUS_NOTIFIED, v1::LISTING_ACTION_REJECTED) ==
        v1::LISTING_STATUS_REJECTED);
  CHECK(*NextListingStatus(v1::LISTING_STATUS_ACTIVE, v1::LISTING_ACTION_EXPIRED) ==
        v1::LISTING_STATUS_EXPIRED);
  CHECK(*NextListingStatus(v1::LISTING_STATUS_ACTIVE, v1::LISTING_ACTION_REMOVED) ==
        v1::LISTING_STATUS_REMOVED);
  CHECK(*NextListingStatus(v1::LISTING_STATUS_REMOVED, v1::LISTING_ACTION_RESTORED) ==
        v1::LISTING_STATUS_ACTIVE);
}

TEST_CASE("an illegal listing transition is FAILED_PRECONDITION naming the current state") {
  auto notify_active = NextListingStatus(v1::LISTING_STATUS_ACTIVE, v1::LISTING_ACTION_NOTIFIED);
  REQUIRE(notify_active.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(notify_active.status().message()).find("ACTIVE") != std::string::npos);
  auto approve_proposed =
      NextListingStatus(v1::LISTING_STATUS_PROPOSED, v1::LISTING_ACTION_APPROVED);
  CHECK(approve_proposed.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(approve_proposed.status().message()).find("PROPOSED") != std::string::npos);
  CHECK(!NextListingStatus(v1::LISTING_STATUS_EXPIRED, v1::LISTING_ACTION_RESTORED).ok());
  CHECK(!NextListingStatus(v1::LISTING_STATUS_REJECTED, v1::LISTING_ACTION_APPROVED).ok());
  CHECK(!NextListingStatus(v1::LISTING_STATUS_ACTIVE, v1::LISTING_ACTION_APPROVED).ok());
}

TEST_CASE("the objection period is 5 working days after the notice, skipping Golden Week") {
  ProcedureSettings settings;
  // Notice on 2026-09-30: 10/1-10/7 off, 10/8 (1), 10/9 (2), Sat 10/10 make-up day (3),
  // 10/12 (4), 10/13 (5).
  CHECK(FormatDate(*ObjectionDeadline(Calendar(), CivilDay(2026, 9, 30), settings)) ==
        "2026-10-13");
  // Labour Day: 5/1-5/5 off, 5/6, 5/7, 5/8, Sat 5/9 make-up day, Mon 5/11.
  CHECK(FormatDate(*ObjectionDeadline(Calendar(), CivilDay(2026, 4, 30), settings)) ==
        "2026-05-11");
  settings.objection_period_wd = 10;
  CHECK(FormatDate(*ObjectionDeadline(Calendar(), CivilDay(2026, 9, 30), settings)) ==
        "2026-10-20");
}

TEST_CASE("the objection period runs into a year without calendar data: FAILED_PRECONDITION") {
  ProcedureSettings settings;
  auto deadline = ObjectionDeadline(Calendar(), CivilDay(2026, 12, 30), settings);
  CHECK(deadline.status().code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("a listing is decided only after the objection period ended, unless waived") {
  CHECK(CheckDecidable(NotifiedListing("2026-10-13"), CivilDay(2026, 10, 13)).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(CheckDecidable(NotifiedListing("2026-10-13"), CivilDay(2026, 10, 14)).ok());
  CHECK(CheckDecidable(NotifiedListing("2026-10-13", true), CivilDay(2026, 10, 1)).ok());
  v1::Listing proposed;
  proposed.set_status(v1::LISTING_STATUS_PROPOSED);
  auto st = CheckDecidable(proposed, CivilDay(2026, 10, 14));
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(st.message()).find("PROPOSED") != std::string::npos);
}

TEST_CASE("publication period: a decision on 2026-03-31 follows 58号令, on 2026-04-01 36号令") {
  const PublicationRules rules = PublicationRules::Seed();
  // 58号令, safety production: at least 1 year, whatever the severity.
  CHECK(FormatDate(*rules.PublicationEnd(CivilDay(2026, 3, 31), v1::SEVERITY_MINOR, nullptr)) ==
        "2027-03-30");
  // 36号令: minor at most 3 months.
  CHECK(FormatDate(*rules.PublicationEnd(CivilDay(2026, 4, 1), v1::SEVERITY_MINOR, nullptr)) ==
        "2026-06-30");
  CHECK(FormatDate(*rules.PublicationEnd(CivilDay(2026, 4, 1), v1::SEVERITY_GENERAL, nullptr)) ==
        "2027-03-31");
  CHECK(FormatDate(*rules.PublicationEnd(CivilDay(2026, 4, 1), v1::SEVERITY_SERIOUS, nullptr)) ==
        "2029-03-31");
  CHECK(FormatDate(*rules.PublicationEnd(CivilDay(2026, 3, 31), v1::SEVERITY_SERIOUS, nullptr)) ==
        "2029-03-30");
}

TEST_CASE("a chosen publication end date must lie inside the range of the rule in force") {
  const PublicationRules rules = PublicationRules::Seed();
  const CivilDay one_month(2026, 5, 1);
  // 36号令 general: 3 months to 1 year.
  auto too_short = rules.PublicationEnd(CivilDay(2026, 4, 1), v1::SEVERITY_GENERAL, &one_month);
  CHECK(too_short.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(too_short.status().message()).rfind("publication_end_date:", 0) == 0);
  const CivilDay six_months(2026, 10, 1);
  CHECK(*rules.PublicationEnd(CivilDay(2026, 4, 1), v1::SEVERITY_GENERAL, &six_months) ==
        six_months);
  // 58号令: a 1-month period is below the 1-year safety-production floor.
  const CivilDay short_old(2026, 4, 30);
  CHECK(!rules.PublicationEnd(CivilDay(2026, 3, 31), v1::SEVERITY_MINOR, &short_old).ok());
}

TEST_CASE("a black listing is in force for 3 years from its decision") {
  ProcedureSettings settings;
  Period p = ListingPeriod(v1::LIST_TYPE_BLACK, CivilDay(2026, 5, 10), settings);
  CHECK(FormatDate(p.from) == "2026-05-10");
  CHECK(FormatDate(p.until) == "2029-05-09");
  CHECK(FormatDate(AddMonths(CivilDay(2026, 1, 31), 1)) == "2026-02-28");
}

TEST_CASE("repair eligibility: black, active, 12 months listed, penalty carried out, harm "
          "removed, commitment") {
  ProcedureSettings settings;
  v1::Listing listing;
  listing.set_list_type(v1::LIST_TYPE_BLACK);
  listing.set_status(v1::LISTING_STATUS_ACTIVE);
  listing.set_effective_from("2025-03-01");
  v1::ApplyRepairRequest request;
  request.set_commitment("信用承诺书");
  request.set_penalty_fulfilled(true);
  request.set_harm_removed(true);
  const std::vector<v1::CreditRecord> none;

  CHECK(CheckRepairEligible(listing, request, none, CivilDay(2026, 3, 1), settings).ok());
  CHECK(CheckRepairEligible(listing, request, none, CivilDay(2026, 2, 28), settings).code() ==
        absl::StatusCode::kFailedPrecondition);

  v1::ApplyRepairRequest unpaid = request;
  unpaid.set_penalty_fulfilled(false);
  CHECK(CheckRepairEligible(listing, unpaid, none, CivilDay(2026, 6, 1), settings).code() ==
        absl::StatusCode::kFailedPrecondition);

  v1::ApplyRepairRequest no_commitment = request;
  no_commitment.clear_commitment();
  auto st = CheckRepairEligible(listing, no_commitment, none, CivilDay(2026, 6, 1), settings);
  CHECK(st.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(st.message()).rfind("commitment:", 0) == 0);

  v1::Listing expired = listing;
  expired.set_status(v1::LISTING_STATUS_EXPIRED);
  auto not_active = CheckRepairEligible(expired, request, none, CivilDay(2026, 6, 1), settings);
  CHECK(not_active.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(not_active.message()).find("EXPIRED") != std::string::npos);

  v1::Listing red = listing;
  red.set_list_type(v1::LIST_TYPE_RED);
  CHECK(!CheckRepairEligible(red, request, none, CivilDay(2026, 6, 1), settings).ok());

  v1::ApplyRepairRequest harm_remains = request;
  harm_remains.set_harm_removed(false);
  CHECK(CheckRepairEligible(listing, harm_remains, none, CivilDay(2026, 6, 1), settings).code() ==
        absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("repair eligibility: no new act of listing level since the listing took effect") {
  ProcedureSettings settings;
  v1::Listing listing;
  listing.set_list_type(v1::LIST_TYPE_BLACK);
  listing.set_status(v1::LISTING_STATUS_ACTIVE);
  listing.set_effective_from("2025-03-01");
  listing.add_record_ids("r-own");
  v1::ApplyRepairRequest request;
  request.set_commitment("信用承诺书");
  request.set_penalty_fulfilled(true);
  request.set_harm_removed(true);
  auto major_accident = [](const std::string& id, const std::string& occurred) {
    v1::CreditRecord r;
    r.set_record_id(id);
    r.set_kind(v1::CREDIT_RECORD_KIND_ACCIDENT);
    r.set_accident_level(v1::ACCIDENT_LEVEL_MAJOR);
    r.set_occurred_date(occurred);
    r.set_decided_date(occurred);
    return r;
  };
  // The accident the listing rests on, and one before it took effect, do not count.
  const std::vector<v1::CreditRecord> own = {major_accident("r-own", "2025-04-01"),
                                             major_accident("r-old", "2024-12-01")};
  CHECK(CheckRepairEligible(listing, request, own, CivilDay(2026, 6, 1), settings).ok());
  // A new 重大 accident while listed is a new act of listing level.
  std::vector<v1::CreditRecord> later = own;
  later.push_back(major_accident("r-new", "2026-01-15"));
  auto st = CheckRepairEligible(listing, request, later, CivilDay(2026, 6, 1), settings);
  CHECK(st.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(st.message()).find("r-new") != std::string::npos);
  // A minor penalty since then is not of listing level.
  v1::CreditRecord minor;
  minor.set_record_id("r-minor");
  minor.set_kind(v1::CREDIT_RECORD_KIND_PENALTY);
  minor.set_severity(v1::SEVERITY_MINOR);
  minor.set_occurred_date("2026-02-01");
  minor.set_decided_date("2026-02-10");
  std::vector<v1::CreditRecord> with_minor = own;
  with_minor.push_back(minor);
  CHECK(CheckRepairEligible(listing, request, with_minor, CivilDay(2026, 6, 1), settings).ok());
}

TEST_CASE("two 较大 accidents 11 months apart are a black-list situation, 13 months apart not") {
  ProcedureSettings settings;
  const auto first = Accident("a", v1::ACCIDENT_LEVEL_LARGER, "2025-01-10");
  const auto eleven = Accident("b", v1::ACCIDENT_LEVEL_LARGER, "2025-12-10");
  auto situations = DetectBlackListSituations(eleven, {first, eleven}, settings);
  REQUIRE(situations.size() == 1);
  CHECK(situations[0].reason_code == "BLACK_TWO_LARGER_ACCIDENTS_12M");
  CHECK(situations[0].record_ids == std::vector<std::string>{"b", "a"});

  const auto thirteen = Accident("c", v1::ACCIDENT_LEVEL_LARGER, "2026-02-10");
  CHECK(DetectBlackListSituations(thirteen, {first, thirteen}, settings).empty());
  // One 一般 accident and one 较大 accident are not enough.
  const auto general = Accident("d", v1::ACCIDENT_LEVEL_GENERAL, "2025-06-10");
  CHECK(DetectBlackListSituations(eleven, {general, eleven}, settings).empty());
}

TEST_CASE("a 重大 accident, a 2-5x fine and refusing a penalty are black-list situations") {
  ProcedureSettings settings;
  const auto major = Accident("m", v1::ACCIDENT_LEVEL_MAJOR, "2026-01-05");
  auto s = DetectBlackListSituations(major, {major}, settings);
  REQUIRE(s.size() == 1);
  CHECK(s[0].reason_code == "BLACK_MAJOR_ACCIDENT");

  v1::CreditRecord fine;
  fine.set_record_id("f");
  fine.set_kind(v1::CREDIT_RECORD_KIND_PENALTY);
  fine.set_fine_multiple(2.5);
  fine.set_decision_ref("应急罚〔2026〕1号");
  auto f = DetectBlackListSituations(fine, {fine}, settings);
  REQUIRE(f.size() == 1);
  CHECK(f[0].reason_code == "BLACK_FINE_MULTIPLE");
  CHECK(f[0].evidence_refs == std::vector<std::string>{"应急罚〔2026〕1号"});
  fine.set_fine_multiple(1.5);
  CHECK(DetectBlackListSituations(fine, {fine}, settings).empty());

  v1::CreditRecord refused;
  refused.set_kind(v1::CREDIT_RECORD_KIND_REFUSAL_TO_EXECUTE_PENALTY);
  CHECK(DetectBlackListSituations(refused, {}, settings)[0].reason_code == "BLACK_REFUSED_PENALTY");
  v1::CreditRecord concealed;
  concealed.set_kind(v1::CREDIT_RECORD_KIND_ACCIDENT_CONCEALMENT);
  CHECK(DetectBlackListSituations(concealed, {}, settings)[0].reason_code ==
        "BLACK_ACCIDENT_CONCEALMENT");
  v1::CreditRecord unlicensed;
  unlicensed.set_kind(v1::CREDIT_RECORD_KIND_UNLICENSED_OPERATION);
  CHECK(DetectBlackListSituations(unlicensed, {}, settings)[0].reason_code == "BLACK_UNLICENSED");
}

TEST_CASE("red list: standardisation grade 1-2 and no penalty or accident for 3 years") {
  v1::CreditRecord grade;
  grade.set_kind(v1::CREDIT_RECORD_KIND_STANDARDISATION_GRADE);
  grade.set_standardisation_grade(2);
  grade.set_decided_date("2026-01-10");
  CHECK(MeetsRedListCriteria({grade}, CivilDay(2026, 6, 1)));
  v1::CreditRecord penalty;
  penalty.set_kind(v1::CREDIT_RECORD_KIND_PENALTY);
  penalty.set_decided_date("2024-01-10");
  CHECK(!MeetsRedListCriteria({grade, penalty}, CivilDay(2026, 6, 1)));
  penalty.set_decided_date("2023-01-10");
  CHECK(MeetsRedListCriteria({grade, penalty}, CivilDay(2026, 6, 1)));
  grade.set_standardisation_grade(3);
  CHECK(!MeetsRedListCriteria({grade}, CivilDay(2026, 6, 1)));
}

TEST_CASE("grade A-D follows the configured weights; an active black listing is always D") {
  GradeSettings settings;
  const CivilDay today(2026, 6, 1);
  CHECK(ComputeGrade({}, false, today, settings).grade == v1::CREDIT_GRADE_A);
  CHECK(ComputeGrade({}, true, today, settings).grade == v1::CREDIT_GRADE_D);
  v1::CreditRecord serious;
  serious.set_kind(v1::CREDIT_RECORD_KIND_PENALTY);
  serious.set_severity(v1::SEVERITY_SERIOUS);
  serious.set_decided_date("2026-01-01");
  auto b = ComputeGrade({serious}, false, today, settings);
  CHECK(b.score == 80);
  CHECK(b.grade == v1::CREDIT_GRADE_B);
  settings.serious = 45;
  CHECK(ComputeGrade({serious}, false, today, settings).grade == v1::CREDIT_GRADE_D);
  // Outside the lookback window it no longer counts.
  serious.set_decided_date("2022-01-01");
  CHECK(ComputeGrade({serious}, false, today, settings).grade == v1::CREDIT_GRADE_A);
}

TEST_CASE("tier: black beats watch beats red; a running black procedure is WATCH") {
  const CivilDay today(2026, 6, 1);
  v1::ListingSummary black;
  black.set_list_type(v1::LIST_TYPE_BLACK);
  black.set_status(v1::LISTING_STATUS_ACTIVE);
  black.set_effective_from("2026-01-01");
  black.set_effective_until("2028-12-31");
  v1::ListingSummary red = black;
  red.set_list_type(v1::LIST_TYPE_RED);
  v1::ListingSummary proposed;
  proposed.set_list_type(v1::LIST_TYPE_BLACK);
  proposed.set_status(v1::LISTING_STATUS_PROPOSED);
  CHECK(ComputeTier({}, v1::CREDIT_GRADE_A, today) == v1::CREDIT_TIER_NORMAL);
  CHECK(ComputeTier({red}, v1::CREDIT_GRADE_A, today) == v1::CREDIT_TIER_RED);
  CHECK(ComputeTier({red, proposed}, v1::CREDIT_GRADE_A, today) == v1::CREDIT_TIER_WATCH);
  CHECK(ComputeTier({red, black}, v1::CREDIT_GRADE_A, today) == v1::CREDIT_TIER_BLACK);
  // Past its end date (before the expiry job ran) a listing is no longer in force.
  CHECK(ComputeTier({black}, v1::CREDIT_GRADE_A, CivilDay(2029, 1, 1)) == v1::CREDIT_TIER_NORMAL);
}

TEST_CASE(
    "measures in force: the black list's catalogue entries, and no 告知承诺 after a false "
    "commitment") {
  std::vector<v1::Measure> catalogue(3);
  catalogue[0].set_code("NO_COMMITMENT_APPROVAL");
  catalogue[0].set_enforcing_service("licensing");
  catalogue[0].set_list_type(v1::LIST_TYPE_BLACK);
  catalogue[1].set_code("MIN_INSPECTIONS_2_PER_YEAR");
  catalogue[1].set_enforcing_service("inspection");
  catalogue[1].set_list_type(v1::LIST_TYPE_BLACK);
  catalogue[2].set_code("MAX_INSPECTIONS_1_PER_YEAR");
  catalogue[2].set_enforcing_service("inspection");
  catalogue[2].set_list_type(v1::LIST_TYPE_RED);
  const CivilDay today(2026, 6, 1);
  v1::ListingSummary black;
  black.set_listing_id("L1");
  black.set_list_type(v1::LIST_TYPE_BLACK);
  black.set_status(v1::LISTING_STATUS_ACTIVE);
  black.set_effective_until("2029-01-01");
  auto measures = MeasuresInForce(catalogue, {black}, {}, today);
  REQUIRE(measures.size() == 2);
  CHECK(measures[0].code() == "NO_COMMITMENT_APPROVAL");
  CHECK(measures[0].listing_id() == "L1");
  CHECK(measures[1].code() == "MIN_INSPECTIONS_2_PER_YEAR");

  v1::CreditRecord false_commitment;
  false_commitment.set_record_id("R1");
  false_commitment.set_kind(v1::CREDIT_RECORD_KIND_FALSE_COMMITMENT);
  false_commitment.set_publication_end_date("2027-01-01");
  auto record_based = MeasuresInForce(catalogue, {}, {false_commitment}, today);
  REQUIRE(record_based.size() == 1);
  CHECK(record_based[0].code() == "NO_COMMITMENT_APPROVAL");
  CHECK(record_based[0].record_id() == "R1");
  false_commitment.set_publication_end_date("2026-05-01");
  CHECK(MeasuresInForce(catalogue, {}, {false_commitment}, today).empty());
}
