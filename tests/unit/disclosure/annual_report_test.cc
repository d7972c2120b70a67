// Annual report arithmetic (国办公开办函〔2021〕30号 tables).
#include "annual_report.h"

#include <catch2/catch.hpp>
#include <map>

using namespace regsuite::disclosure;
namespace v1 = regsuite::disclosure::v1;

namespace {

std::map<std::string, v1::ApplicantTypeCounts> ByKey(const v1::RequestSection& s) {
  std::map<std::string, v1::ApplicantTypeCounts> out;
  for (const auto& row : s.rows()) out[row.key()] = row.counts();
  return out;
}

RequestFact Fact(v1::ApplicantType type, absl::CivilDay received,
                 std::optional<absl::CivilDay> replied,
                 v1::ReplyType reply = v1::REPLY_TYPE_UNSPECIFIED, int reason = 0) {
  return RequestFact{type, received, replied, reply, reason};
}

}  // namespace

TEST_CASE("section 三 counts new, carried over, outcomes and carried forward; 1+2 == 3+4") {
  std::vector<RequestFact> facts = {
      // Carried over from 2025, answered in 2026.
      Fact(v1::APPLICANT_TYPE_NATURAL_PERSON, absl::CivilDay(2025, 12, 20),
           absl::CivilDay(2026, 1, 10), v1::REPLY_TYPE_DISCLOSED),
      // Answered in 2025: not part of 2026 at all.
      Fact(v1::APPLICANT_TYPE_NATURAL_PERSON, absl::CivilDay(2025, 11, 1),
           absl::CivilDay(2025, 11, 20), v1::REPLY_TYPE_DISCLOSED),
      // New in 2026, refused (state secret).
      Fact(v1::APPLICANT_TYPE_BUSINESS, absl::CivilDay(2026, 3, 2), absl::CivilDay(2026, 3, 20),
           v1::REPLY_TYPE_REFUSED, v1::REFUSAL_REASON_STATE_SECRET),
      // New in 2026, 逾期不补正.
      Fact(v1::APPLICANT_TYPE_LEGAL_SERVICES, absl::CivilDay(2026, 5, 6),
           absl::CivilDay(2026, 6, 1), v1::REPLY_TYPE_OTHER_HANDLING,
           v1::OTHER_HANDLING_REASON_CORRECTION_NOT_SUPPLIED),
      // New in 2026, answered in 2027: carried forward.
      Fact(v1::APPLICANT_TYPE_RESEARCH, absl::CivilDay(2026, 12, 28), absl::CivilDay(2027, 1, 5),
           v1::REPLY_TYPE_DISCLOSED),
      // New in 2026, unanswered.
      Fact(v1::APPLICANT_TYPE_NATURAL_PERSON, absl::CivilDay(2026, 12, 30), std::nullopt),
      // Received in 2027: not counted.
      Fact(v1::APPLICANT_TYPE_NATURAL_PERSON, absl::CivilDay(2027, 1, 4), std::nullopt),
  };
  auto rows = ByKey(BuildRequestSection(facts, 2026));
  CHECK(rows["new_this_year"].total() == 4);
  CHECK(rows["new_this_year"].natural_person() == 1);
  CHECK(rows["new_this_year"].business() == 1);
  CHECK(rows["carried_over"].total() == 1);
  CHECK(rows["disclosed"].natural_person() == 1);
  CHECK(rows["refused.state_secret"].business() == 1);
  CHECK(rows["other.correction_not_supplied"].legal_services() == 1);
  CHECK(rows["total"].total() == 3);
  CHECK(rows["carried_forward"].total() == 2);
  CHECK(rows["carried_forward"].research() == 1);
  for (auto column : {&v1::ApplicantTypeCounts::natural_person, &v1::ApplicantTypeCounts::business,
                      &v1::ApplicantTypeCounts::research, &v1::ApplicantTypeCounts::total}) {
    CHECK((rows["new_this_year"].*column)() + (rows["carried_over"].*column)() ==
          (rows["total"].*column)() + (rows["carried_forward"].*column)());
  }
}

TEST_CASE("section 三 lists every template row in order") {
  auto section = BuildRequestSection({}, 2026);
  REQUIRE(section.rows_size() == 25);
  CHECK(section.rows(0).key() == "new_this_year");
  CHECK(section.rows(4).key() == "refused.state_secret");
  CHECK(section.rows(24).key() == "carried_forward");
}

TEST_CASE("section 二 counts documents issued, repealed and in force at year end") {
  std::vector<DocumentFact> docs = {
      {v1::DOCUMENT_KIND_NORMATIVE_DOCUMENT, absl::CivilDay(2024, 5, 1),
       absl::CivilDay(2026, 6, 1)},
      {v1::DOCUMENT_KIND_NORMATIVE_DOCUMENT, absl::CivilDay(2026, 2, 1), std::nullopt},
      {v1::DOCUMENT_KIND_NORMATIVE_DOCUMENT, absl::CivilDay(2025, 2, 1), std::nullopt},
      {v1::DOCUMENT_KIND_RULE, absl::CivilDay(2026, 2, 1), std::nullopt},
  };
  auto c = CountDocuments(docs, v1::DOCUMENT_KIND_NORMATIVE_DOCUMENT, 2026);
  CHECK(c.issued() == 1);
  CHECK(c.repealed() == 1);
  CHECK(c.in_force() == 2);
}

TEST_CASE("section 四 counts appeals filed in the year; concluded later counts as pending") {
  std::vector<v1::Appeal> appeals(3);
  appeals[0].set_kind(v1::APPEAL_KIND_RECONSIDERATION);
  appeals[0].set_outcome(v1::APPEAL_OUTCOME_UPHELD);
  appeals[0].set_filed_date("2026-03-01");
  appeals[0].set_concluded_date("2026-05-01");
  appeals[1].set_kind(v1::APPEAL_KIND_RECONSIDERATION);
  appeals[1].set_outcome(v1::APPEAL_OUTCOME_CORRECTED);
  appeals[1].set_filed_date("2026-11-01");
  appeals[1].set_concluded_date("2027-01-15");
  appeals[2].set_kind(v1::APPEAL_KIND_LITIGATION_DIRECT);
  appeals[2].set_outcome(v1::APPEAL_OUTCOME_PENDING);
  appeals[2].set_filed_date("2025-03-01");
  auto s = BuildAppealSection(appeals, 2026);
  CHECK(s.reconsideration().upheld() == 1);
  CHECK(s.reconsideration().pending() == 1);
  CHECK(s.reconsideration().total() == 2);
  CHECK(s.litigation_direct().total() == 0);
}

TEST_CASE("the rendered report has the six sections") {
  v1::AnnualReport report;
  report.set_year(2026);
  report.set_agency_name("某市应急管理局");
  *report.mutable_requests() = BuildRequestSection({}, 2026);
  std::string md = RenderAnnualReportMarkdown(report);
  for (const char* heading :
       {"## 一、总体情况", "## 二、主动公开政府信息情况", "## 三、收到和处理政府信息公开申请情况",
        "## 四、政府信息公开行政复议、行政诉讼情况", "## 五、存在的主要问题及改进情况",
        "## 六、其他需要报告的事项"}) {
    CHECK(md.find(heading) != std::string::npos);
  }
}
