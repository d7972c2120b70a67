#include "inspection_rules.h"

#include "absl/strings/str_cat.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/status.h"

namespace regsuite::inspection {

bool IsQuietDay(absl::CivilDay day, int quiet_days_last) {
  return quiet_days_last > 0 && day.day() <= quiet_days_last;
}

bool ExemptFromQuietDays(v1::InspectionOrigin origin) {
  return origin == v1::INSPECTION_ORIGIN_COMPLAINT || origin == v1::INSPECTION_ORIGIN_CASE ||
         origin == v1::INSPECTION_ORIGIN_EMERGENCY;
}

bool ExemptFromSameItemRule(v1::InspectionOrigin origin) {
  return origin == v1::INSPECTION_ORIGIN_COMPLAINT || origin == v1::INSPECTION_ORIGIN_CASE;
}

bool ExemptFromRedListCap(v1::InspectionOrigin origin) {
  return origin == v1::INSPECTION_ORIGIN_COMPLAINT || origin == v1::INSPECTION_ORIGIN_CASE ||
         origin == v1::INSPECTION_ORIGIN_HIGHER_ORDER ||
         origin == v1::INSPECTION_ORIGIN_EMERGENCY;
}

bool ExemptFromJointInspectionRule(v1::InspectionOrigin origin) {
  return ExemptFromRedListCap(origin);
}

absl::Status CheckJointInspectionRule(bool joint_inspection_same_item_this_year,
                                      v1::InspectionOrigin origin,
                                      const std::string& exemption_reason,
                                      const std::string& uscc, int year) {
  if (!joint_inspection_same_item_this_year || ExemptFromJointInspectionRule(origin) ||
      !exemption_reason.empty()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "联合检查: ", uscc, " had a joint inspection covering one of these items in ", year,
      "; no separate routine inspection of the same item this year unless a complaint, case, "
      "higher order or emergency (or a recorded exemption)"));
}

absl::Status CheckQuietDay(absl::CivilDay planned, v1::InspectionOrigin origin,
                           bool any_safety_critical, const std::string& exemption_reason,
                           int quiet_days_last) {
  if (!IsQuietDay(planned, quiet_days_last) || ExemptFromQuietDays(origin) ||
      any_safety_critical || !exemption_reason.empty()) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(absl::StrCat(
      "planned_date: ", common::FormatDate(planned), " is a quiet day (宁静日, days 1–",
      quiet_days_last, "); routine inspections only from day ", quiet_days_last + 1,
      " unless safety-critical, a complaint, case or emergency, or an exemption reason is recorded"));
}

std::optional<v1::DrawExclusion> DrawExclusionFor(const EnterpriseFacts& facts,
                                                  int red_list_max_per_year) {
  if (!facts.operating) return v1::DRAW_EXCLUSION_NOT_OPERATING;
  if (facts.red_listed && facts.inspections_this_year >= red_list_max_per_year) {
    return v1::DRAW_EXCLUSION_RED_LIST_QUOTA_USED;
  }
  if (facts.joint_inspection_this_year) return v1::DRAW_EXCLUSION_JOINT_INSPECTION_DONE;
  if (facts.same_item_this_year) return v1::DRAW_EXCLUSION_SAME_ITEM_THIS_YEAR;
  return std::nullopt;
}

absl::Status CheckStepAdvance(v1::InspectionStep current, v1::InspectionStep target,
                              const StepFacts& facts) {
  if (target == v1::INSPECTION_STEP_UNSPECIFIED || target == current) return absl::OkStatus();
  if (target < current) {
    return common::StateError("inspection step", v1::InspectionStep_Name(current),
                              absl::StrCat("go back to ", v1::InspectionStep_Name(target)));
  }
  if (target != current + 1) {
    return common::StateError("inspection step", v1::InspectionStep_Name(current),
                              absl::StrCat("skip to ", v1::InspectionStep_Name(target)));
  }
  switch (target) {
    case v1::INSPECTION_STEP_CHECK:
      if (facts.record_entries_total == 0) {
        return absl::FailedPreconditionError(
            "step CHECK requires a full-process record entry of the launch (启动)");
      }
      break;
    case v1::INSPECTION_STEP_DELIBERATION:
      if (facts.check_items_with_findings < facts.check_items) {
        return absl::FailedPreconditionError(
            "step DELIBERATION (合议) requires a finding for every check item");
      }
      break;
    case v1::INSPECTION_STEP_FEEDBACK:
      if (facts.record_entries_in_deliberation == 0) {
        return absl::FailedPreconditionError(
            "step FEEDBACK (反馈) requires a record entry of the deliberation (合议)");
      }
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

}  // namespace regsuite::inspection
