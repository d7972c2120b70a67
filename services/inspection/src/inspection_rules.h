#pragma once

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "regsuite/inspection/v1/inspection.pb.h"

namespace regsuite::inspection {

/// 宁静日: days 1..quiet_days_last of every month (0 disables).
bool IsQuietDay(absl::CivilDay day, int quiet_days_last);

/// Complaints, cases and emergencies are exempt from 宁静日.
bool ExemptFromQuietDays(v1::InspectionOrigin origin);
/// Complaints and cases are exempt from 一事不再查.
bool ExemptFromSameItemRule(v1::InspectionOrigin origin);
/// Complaints, cases, higher orders and emergencies are exempt from the red-list cap.
bool ExemptFromRedListCap(v1::InspectionOrigin origin);
/// Complaints, cases, higher orders and emergencies are exempt from the joint-inspection rule
/// (DOMAIN.md: "unless complaint / higher order"; cases and emergencies as for the other
/// frequency rules).
bool ExemptFromJointInspectionRule(v1::InspectionOrigin origin);

/// 联合检查: an enterprise that had a joint inspection covering one of the check items this
/// year gets no separate routine inspection (DRAW, PLAN, KEY_SUPERVISION) of it that year,
/// unless the origin is exempt or an exemption reason is recorded. FAILED_PRECONDITION naming
/// the rule.
absl::Status CheckJointInspectionRule(bool joint_inspection_same_item_this_year,
                                      v1::InspectionOrigin origin,
                                      const std::string& exemption_reason,
                                      const std::string& uscc, int year);

/// Rejects a routine inspection planned on a quiet day unless an item is safety-critical,
/// the origin is exempt, or an exemption reason is recorded. FAILED_PRECONDITION naming the rule.
absl::Status CheckQuietDay(absl::CivilDay planned, v1::InspectionOrigin origin,
                           bool any_safety_critical, const std::string& exemption_reason,
                           int quiet_days_last);

/// What the store knows about an enterprise when it is drawn or inspected.
struct EnterpriseFacts {
  bool operating = true;
  bool red_listed = false;
  int inspections_this_year = 0;
  // The same check item was inspected this year on a routine origin (not complaint/case).
  bool same_item_this_year = false;
  // A joint inspection (any origin, not cancelled) covered the check item this year.
  bool joint_inspection_this_year = false;
};

/// The draw exclusion that applies, if any, in the order: not operating, red-list quota,
/// joint inspection done, 一事不再查.
std::optional<v1::DrawExclusion> DrawExclusionFor(const EnterpriseFacts& facts,
                                                  int red_list_max_per_year);

/// Facts needed to move an inspection to the next step.
struct StepFacts {
  int record_entries_total = 0;
  int record_entries_in_deliberation = 0;
  int record_entries_in_feedback = 0;
  int check_items = 0;
  int check_items_with_findings = 0;
};

/// Steps only move forward one at a time (启动 → 检查 → 合议 → 反馈) and each requires
/// its fields: CHECK needs a record entry (the on-site record); DELIBERATION a finding for
/// every check item; FEEDBACK a deliberation (合议) record entry.
absl::Status CheckStepAdvance(v1::InspectionStep current, v1::InspectionStep target,
                              const StepFacts& facts);

}  // namespace regsuite::inspection
