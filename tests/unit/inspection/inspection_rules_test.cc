// Quiet days, exemptions, red-list cap, 一事不再查, the joint-inspection rule and the four steps.
#include <catch2/catch.hpp>

#include "inspection_rules.h"

using namespace regsuite::inspection;
namespace v1 = regsuite::inspection::v1;

TEST_CASE("宁静日: days 1-20 are quiet, day 21 is not; the limit is configurable") {
  CHECK(IsQuietDay(absl::CivilDay(2026, 12, 1), 20));
  CHECK(IsQuietDay(absl::CivilDay(2026, 12, 20), 20));
  CHECK_FALSE(IsQuietDay(absl::CivilDay(2026, 12, 21), 20));
  CHECK_FALSE(IsQuietDay(absl::CivilDay(2026, 12, 11), 10));
  CHECK_FALSE(IsQuietDay(absl::CivilDay(2026, 12, 1), 0));
}

TEST_CASE("a routine inspection on a quiet day is refused; safety-critical, complaint, case, emergency or a recorded reason pass") {
  const absl::CivilDay quiet(2026, 12, 20), open(2026, 12, 21);
  CHECK(CheckQuietDay(quiet, v1::INSPECTION_ORIGIN_DRAW, false, "", 20).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(CheckQuietDay(quiet, v1::INSPECTION_ORIGIN_PLAN, false, "", 20).code() ==
        absl::StatusCode::kFailedPrecondition);
  CHECK(CheckQuietDay(open, v1::INSPECTION_ORIGIN_DRAW, false, "", 20).ok());
  CHECK(CheckQuietDay(quiet, v1::INSPECTION_ORIGIN_DRAW, true, "", 20).ok());
  CHECK(CheckQuietDay(quiet, v1::INSPECTION_ORIGIN_COMPLAINT, false, "", 20).ok());
  CHECK(CheckQuietDay(quiet, v1::INSPECTION_ORIGIN_CASE, false, "", 20).ok());
  CHECK(CheckQuietDay(quiet, v1::INSPECTION_ORIGIN_EMERGENCY, false, "", 20).ok());
  CHECK(CheckQuietDay(quiet, v1::INSPECTION_ORIGIN_DRAW, false, "上级交办", 20).ok());
}

TEST_CASE("red-list cap: a red-list enterprise inspected once this year is excluded, a second-tier one is not") {
  EnterpriseFacts f;
  f.red_listed = true;
  f.inspections_this_year = 0;
  CHECK_FALSE(DrawExclusionFor(f, 1).has_value());
  f.inspections_this_year = 1;
  CHECK(DrawExclusionFor(f, 1) == v1::DRAW_EXCLUSION_RED_LIST_QUOTA_USED);
  f.red_listed = false;
  CHECK_FALSE(DrawExclusionFor(f, 1).has_value());
}

TEST_CASE("一事不再查: the same item inspected this year excludes the enterprise") {
  EnterpriseFacts f;
  f.same_item_this_year = true;
  CHECK(DrawExclusionFor(f, 1) == v1::DRAW_EXCLUSION_SAME_ITEM_THIS_YEAR);
  CHECK(ExemptFromSameItemRule(v1::INSPECTION_ORIGIN_COMPLAINT));
  CHECK(ExemptFromSameItemRule(v1::INSPECTION_ORIGIN_CASE));
  CHECK_FALSE(ExemptFromSameItemRule(v1::INSPECTION_ORIGIN_DRAW));
}

TEST_CASE("联合检查: a joint inspection of the item this year refuses a routine inspection; complaint, case, higher order, emergency or a recorded reason pass") {
  const std::string uscc = "91330106000000010X";
  for (auto routine : {v1::INSPECTION_ORIGIN_DRAW, v1::INSPECTION_ORIGIN_PLAN,
                       v1::INSPECTION_ORIGIN_KEY_SUPERVISION}) {
    absl::Status refused = CheckJointInspectionRule(true, routine, "", uscc, 2026);
    CHECK(refused.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(refused.message().find("联合检查") != absl::string_view::npos);
    CHECK(CheckJointInspectionRule(false, routine, "", uscc, 2026).ok());
    CHECK_FALSE(ExemptFromJointInspectionRule(routine));
  }
  for (auto exempt : {v1::INSPECTION_ORIGIN_COMPLAINT, v1::INSPECTION_ORIGIN_CASE,
                      v1::INSPECTION_ORIGIN_HIGHER_ORDER, v1::INSPECTION_ORIGIN_EMERGENCY}) {
    CHECK(CheckJointInspectionRule(true, exempt, "", uscc, 2026).ok());
  }
  CHECK(CheckJointInspectionRule(true, v1::INSPECTION_ORIGIN_DRAW, "上级交办", uscc, 2026).ok());
}

TEST_CASE("a joint inspection of the item this year excludes the enterprise from a draw, before 一事不再查") {
  EnterpriseFacts f;
  f.joint_inspection_this_year = true;
  CHECK(DrawExclusionFor(f, 1) == v1::DRAW_EXCLUSION_JOINT_INSPECTION_DONE);
  f.same_item_this_year = true;
  CHECK(DrawExclusionFor(f, 1) == v1::DRAW_EXCLUSION_JOINT_INSPECTION_DONE);
  f.operating = false;
  CHECK(DrawExclusionFor(f, 1) == v1::DRAW_EXCLUSION_NOT_OPERATING);
}

TEST_CASE("an enterprise not operating is never drawn") {
  EnterpriseFacts f;
  f.operating = false;
  CHECK(DrawExclusionFor(f, 1) == v1::DRAW_EXCLUSION_NOT_OPERATING);
}

TEST_CASE("steps move forward one at a time, each with its required fields") {
  StepFacts none;
  CHECK(CheckStepAdvance(v1::INSPECTION_STEP_LAUNCH, v1::INSPECTION_STEP_CHECK, none).code() ==
        absl::StatusCode::kFailedPrecondition);
  StepFacts launched;
  launched.record_entries_total = 1;
  CHECK(CheckStepAdvance(v1::INSPECTION_STEP_LAUNCH, v1::INSPECTION_STEP_CHECK, launched).ok());
  CHECK(CheckStepAdvance(v1::INSPECTION_STEP_LAUNCH, v1::INSPECTION_STEP_DELIBERATION, launched)
            .code() == absl::StatusCode::kFailedPrecondition);
  CHECK(CheckStepAdvance(v1::INSPECTION_STEP_CHECK, v1::INSPECTION_STEP_LAUNCH, launched).code() ==
        absl::StatusCode::kFailedPrecondition);
  StepFacts checked = launched;
  checked.check_items = 2;
  checked.check_items_with_findings = 1;
  CHECK_FALSE(
      CheckStepAdvance(v1::INSPECTION_STEP_CHECK, v1::INSPECTION_STEP_DELIBERATION, checked).ok());
  checked.check_items_with_findings = 2;
  CHECK(CheckStepAdvance(v1::INSPECTION_STEP_CHECK, v1::INSPECTION_STEP_DELIBERATION, checked).ok());
  CHECK_FALSE(
      CheckStepAdvance(v1::INSPECTION_STEP_DELIBERATION, v1::INSPECTION_STEP_FEEDBACK, checked).ok());
  checked.record_entries_in_deliberation = 1;
  CHECK(CheckStepAdvance(v1::INSPECTION_STEP_DELIBERATION, v1::INSPECTION_STEP_FEEDBACK, checked)
            .ok());
}
