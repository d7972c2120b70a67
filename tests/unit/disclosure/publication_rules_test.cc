// Publication rules: periods by rule date (36号令 / 58号令), due dates, never-publish rules,
// index numbers, desensitised records.
#include "publication_rules.h"

#include <catch2/catch.hpp>

#include "regsuite/common/calendar.h"
#include "regsuite/common/dates.h"
#include "settings.h"

using regsuite::common::FormatDate;
using regsuite::common::WorkingDayCalendar;
using namespace regsuite::disclosure;
namespace ev = regsuite::events::v1;
namespace v1 = regsuite::disclosure::v1;

namespace {

const WorkingDayCalendar& Calendar() {
  static const WorkingDayCalendar calendar = *WorkingDayCalendar::Builtin();
  return calendar;
}

std::string End(absl::CivilDay decided, ev::Severity severity) {
  auto end = PenaltyPublicationEndDate(DisclosureSettings::Defaults(), decided, severity);
  REQUIRE(end.ok());
  return FormatDate(*end);
}

}  // namespace

TEST_CASE("36号令 from 2026-04-01: minor 3 months, general 1 year, serious 3 years") {
  CHECK(End(absl::CivilDay(2026, 4, 1), ev::SEVERITY_MINOR) == "2026-07-01");
  CHECK(End(absl::CivilDay(2026, 4, 1), ev::SEVERITY_GENERAL) == "2027-04-01");
  CHECK(End(absl::CivilDay(2026, 4, 1), ev::SEVERITY_SERIOUS) == "2029-04-01");
}

TEST_CASE("58号令 before 2026-04-01: a penalty decided on 2026-03-31 is published 3 years") {
  CHECK(End(absl::CivilDay(2026, 3, 31), ev::SEVERITY_MINOR) == "2029-03-31");
  CHECK(End(absl::CivilDay(2026, 3, 31), ev::SEVERITY_GENERAL) == "2029-03-31");
}

TEST_CASE("an unspecified seriousness counts as general") {
  CHECK(End(absl::CivilDay(2026, 5, 6), ev::SEVERITY_UNSPECIFIED) == "2027-05-06");
}

TEST_CASE("month arithmetic clamps to the month's last day") {
  CHECK(FormatDate(AddMonths(absl::CivilDay(2026, 11, 30), 3)) == "2027-02-28");
  CHECK(FormatDate(AddMonths(absl::CivilDay(2027, 11, 30), 3)) == "2028-02-29");
}

TEST_CASE("publication periods are dated configuration") {
  auto rules = ParsePenaltyPeriods("2027-01-01:1,2,3;2000-01-01:6,6,6");
  REQUIRE(rules.ok());
  DisclosureSettings settings = DisclosureSettings::Defaults();
  settings.penalty_periods = *rules;
  CHECK(FormatDate(*PenaltyPublicationEndDate(settings, absl::CivilDay(2027, 1, 1),
                                              ev::SEVERITY_SERIOUS)) == "2027-04-01");
  CHECK(FormatDate(*PenaltyPublicationEndDate(settings, absl::CivilDay(2026, 12, 31),
                                              ev::SEVERITY_SERIOUS)) == "2027-06-30");
  CHECK(PenaltyPublicationEndDate(settings, absl::CivilDay(1999, 1, 1), ev::SEVERITY_SERIOUS)
            .status()
            .code() == absl::StatusCode::kFailedPrecondition);
  CHECK_FALSE(ParsePenaltyPeriods("2027-01-01:1,2").ok());
}

TEST_CASE("a penalty decision is due 7 WD after the decision, across Golden Week") {
  // Decided Wed 2026-09-30; 10/1-10/7 off, Sat 10/10 a make-up workday.
  auto due = PublicationDueDate(DisclosureSettings::Defaults(), Calendar(),
                                v1::RECORD_CATEGORY_PENALTY_DECISION, absl::CivilDay(2026, 9, 30));
  REQUIRE(due.ok());
  // 10/8, 10/9, 10/10, 10/12, 10/13, 10/14, 10/15.
  CHECK(FormatDate(*due) == "2026-10-15");
}

TEST_CASE("other proactive information is due 20 WD after it was made") {
  auto due = PublicationDueDate(DisclosureSettings::Defaults(), Calendar(),
                                v1::RECORD_CATEGORY_INSPECTION_RESULT, absl::CivilDay(2026, 6, 1));
  REQUIRE(due.ok());
  // June 2026: 6/19 is 端午 (Fri); 20 WD after Mon 6/1 is Tue 6/30.
  CHECK(FormatDate(*due) == "2026-06-30");
}

TEST_CASE("a warning alone is never published") {
  v1::PenaltyDetails p;
  p.add_kinds(ev::PENALTY_KIND_WARNING);
  auto s = CheckPenaltyPublishable(p);
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(std::string(s.message()).find("warning alone") != std::string::npos);
  p.add_kinds(ev::PENALTY_KIND_FINE);
  CHECK(CheckPenaltyPublishable(p).ok());
}

TEST_CASE("simple-procedure penalties and minors are never published") {
  v1::PenaltyDetails p;
  p.add_kinds(ev::PENALTY_KIND_FINE);
  p.set_simple_procedure(true);
  CHECK(CheckPenaltyPublishable(p).code() == absl::StatusCode::kFailedPrecondition);
  p.set_simple_procedure(false);
  p.set_party_is_minor(true);
  CHECK(CheckPenaltyPublishable(p).code() == absl::StatusCode::kFailedPrecondition);
}

TEST_CASE("the index number is <agency code>/<year>-<5-digit sequence>") {
  CHECK(FormatIndexNo("11330100MB1234567X", 2026, 42) == "11330100MB1234567X/2026-00042");
}

TEST_CASE("a penalty on a natural person is published with the name and numbers masked") {
  v1::PublishedRecord r;
  r.set_category(v1::RECORD_CATEGORY_PENALTY_DECISION);
  r.set_title("李小龙 行政处罚决定");
  auto* p = r.mutable_penalty();
  p->set_party_name("李小龙");
  p->set_party_category(v1::PARTY_TYPE_NATURAL_PERSON);
  p->set_other_code("11010519491231002X");
  p->set_facts("李小龙（电话13812345678）在住宅内储存烟花爆竹");
  v1::PublishedRecord m = MaskRecord(r);
  CHECK(m.title() == "李** 行政处罚决定");
  CHECK(m.penalty().party_name() == "李**");
  CHECK(m.penalty().other_code() == "1101**********002X");
  CHECK(m.penalty().facts() == "李**（电话138****5678）在住宅内储存烟花爆竹");
  // The original is untouched.
  CHECK(r.penalty().party_name() == "李小龙");
}

TEST_CASE("an organisation's name and legal representative are published as they are") {
  v1::PublishedRecord r;
  r.set_category(v1::RECORD_CATEGORY_PENALTY_DECISION);
  auto* p = r.mutable_penalty();
  p->set_party_name("某某化工有限公司");
  p->set_party_category(v1::PARTY_TYPE_LEGAL_PERSON);
  p->set_legal_representative("王五");
  v1::PublishedRecord m = MaskRecord(r);
  CHECK(m.penalty().party_name() == "某某化工有限公司");
  CHECK(m.penalty().legal_representative() == "王五");
}

TEST_CASE("record input names the field and rule it breaks") {
  v1::PublishedRecord r;
  CHECK(ValidateRecordInput(r).message() == "record.category: must be a RECORD_CATEGORY_ value");
  r.set_category(v1::RECORD_CATEGORY_PENALTY_DECISION);
  r.set_title("t");
  CHECK(ValidateRecordInput(r).message() == "record.penalty: is required for a penalty");
  r.set_uscc("913100007109242800");
  auto s = ValidateRecordInput(r);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).rfind("record.uscc: ", 0) == 0);
}

TEST_CASE("a licence record's title after a 变更 leads with the new name and keeps the original") {
  const std::string decided = "某某烟花零售店 烟花爆竹经营（零售）许可证行政许可决定";
  const std::string once = RenamedLicenceTitle(decided, "某某烟花零售店", "某某烟花零售有限公司");
  CHECK(once == "某某烟花零售有限公司 烟花爆竹经营（零售）许可证行政许可决定（原名称：某某烟花零售店）");
  // A second rename keeps the name the decision was made to.
  CHECK(RenamedLicenceTitle(once, "某某烟花零售有限公司", "某某烟花集团有限公司") ==
        "某某烟花集团有限公司 烟花爆竹经营（零售）许可证行政许可决定（原名称：某某烟花零售店）");
  // Back to the original name: no "formerly".
  CHECK(RenamedLicenceTitle(once, "某某烟花零售有限公司", "某某烟花零售店") == decided);
  // A title not built from the event is left alone.
  CHECK(RenamedLicenceTitle("手工标题", "某某烟花零售店", "新名") == "手工标题");
}
