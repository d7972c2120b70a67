#pragma once

// Pure credit rules (no I/O): the listing procedure's state machine, publication periods by
// the rule in force on the decision date, deadlines, repair eligibility, the listing
// situations detectable from records, measures in force, tier and grade. DOMAIN.md "Credit".

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "regsuite/common/calendar.h"
#include "regsuite/credit/v1/credit.pb.h"

namespace regsuite::credit {

namespace v1 = ::regsuite::credit::v1;

/// "ACTIVE" for LISTING_STATUS_ACTIVE (the name used in error messages).
std::string ListingStatusName(v1::ListingStatus status);
std::string RepairStatusName(v1::RepairStatus status);

/// The status a listing moves to when `action` is applied in `from`, or FAILED_PRECONDITION
/// naming `from` ("listing is ACTIVE; cannot notify") when the procedure does not allow it.
absl::StatusOr<v1::ListingStatus> NextListingStatus(v1::ListingStatus from,
                                                    v1::ListingAction action);

/// `day` plus `months` calendar months, clamped to the month's last day (2026-01-31 + 1 → 02-28).
absl::CivilDay AddMonths(absl::CivilDay day, int months);

/// One dated publication-period rule for a severity (table publication_rules).
struct PublicationRule {
  absl::CivilDay effective_from;
  std::string rule_name;
  v1::Severity severity = v1::SEVERITY_UNSPECIFIED;
  int min_months = 0;
  int max_months = 0;
  int default_months = 0;
};

/// The publication rules in force over time; the rule applying to a record is the latest
/// one whose effective_from is on or before the record's decision date.
class PublicationRules {
 public:
  explicit PublicationRules(std::vector<PublicationRule> rules);
  /// The seed rows of migration 0001 (58号令 before 2026-04-01, 36号令 from then), for tests
  /// and for a deployment whose table is empty.
  static PublicationRules Seed();

  absl::StatusOr<PublicationRule> RuleFor(absl::CivilDay decided, v1::Severity severity) const;

  /// Last day of publication: decided + default months − 1 day, or `requested` when it is
  /// inside [decided + min months − 1, decided + max months − 1] (else INVALID_ARGUMENT
  /// naming publication_end_date). A 0-month minimum allows any date from `decided` on.
  absl::StatusOr<absl::CivilDay> PublicationEnd(absl::CivilDay decided, v1::Severity severity,
                                                const absl::CivilDay* requested) const;

 private:
  std::vector<PublicationRule> rules_;
};

/// Procedure settings (config keys credit.*).
struct ProcedureSettings {
  int objection_period_wd = 5;  // 陈述申辩 period after the notice
  int black_list_months = 36;   // management period of a black listing
  int red_list_months = 36;     // validity of a red listing
  int repair_min_listed_months = 12;
  int repair_decision_wd = 3;
  int larger_accident_window_months = 12;
};

/// Last day for a statement or objection: the objection_period_wd-th working day after the
/// notice (the notice day itself not counted).
absl::StatusOr<absl::CivilDay> ObjectionDeadline(const common::WorkingDayCalendar& calendar,
                                                 absl::CivilDay notified,
                                                 const ProcedureSettings& settings);

/// Whether a listing may be decided on `today`: it must be NOTIFIED and the objection period
/// over (today after the deadline) unless the party waived it.
absl::Status CheckDecidable(const v1::Listing& listing, absl::CivilDay today);

/// First and last day in force of a listing approved on `decided`.
struct Period {
  absl::CivilDay from;
  absl::CivilDay until;
};
Period ListingPeriod(v1::ListType type, absl::CivilDay decided, const ProcedureSettings& settings);

/// Credit repair eligibility (信用修复) of `listing` on `today`: a black listing, ACTIVE, at
/// least repair_min_listed_months since effective_from, the penalty carried out, the harm
/// removed, a public commitment, and no new act of listing level among the subject's
/// `records` since the listing took effect (a record, other than those the listing rests on,
/// that would itself propose a black listing). INVALID_ARGUMENT for a missing commitment,
/// FAILED_PRECONDITION otherwise.
absl::Status CheckRepairEligible(const v1::Listing& listing, const v1::ApplyRepairRequest& request,
                                 const std::vector<v1::CreditRecord>& records, absl::CivilDay today,
                                 const ProcedureSettings& settings);

/// A listing situation met by a subject's records, with the records it rests on.
struct ListingSituation {
  std::string reason_code;  // BLACK_MAJOR_ACCIDENT, BLACK_TWO_LARGER_ACCIDENTS_12M, ...
  std::string basis;
  std::vector<std::string> record_ids;
  std::vector<std::string> evidence_refs;
};

/// The black-list situations (应急管理部令第11号) that `record` (just recorded) meets, given the
/// subject's other records `history`: a 重大/特别重大 accident, two 较大 accidents within the
/// window, a fine of 2–5× (安全生产法 Art 114), 瞒报/谎报, head fled, operating without or
/// during suspension of a licence, refusing to carry out a penalty, a false evaluation report.
std::vector<ListingSituation> DetectBlackListSituations(
    const v1::CreditRecord& record, const std::vector<v1::CreditRecord>& history,
    const ProcedureSettings& settings);

/// Whether the records support a red listing on `today`: a standardisation grade 1–2 and no
/// penalty or accident (or other dishonesty) within the last 3 years.
bool MeetsRedListCriteria(const std::vector<v1::CreditRecord>& records, absl::CivilDay today);

/// Grading weights (config keys credit.grade_*). Score = 100 − deductions + bonuses.
struct GradeSettings {
  std::string rule_version = "2026-01-01";
  int lookback_months = 36;
  int minor = 5;
  int general = 10;
  int serious = 20;
  int larger_accident = 20;
  int major_accident = 40;
  int false_commitment = 15;
  int severe_situation = 40;
  int award_bonus = 5;
  int standardisation_bonus = 10;
  int threshold_a = 90;
  int threshold_b = 75;
  int threshold_c = 60;
};

struct GradeResult {
  v1::CreditGrade grade = v1::CREDIT_GRADE_A;
  int score = 100;
};

/// Grade A–D from records in the lookback window; an active black listing is always D.
GradeResult ComputeGrade(const std::vector<v1::CreditRecord>& records, bool active_black,
                         absl::CivilDay today, const GradeSettings& settings);

/// The standing other services act on: BLACK if an active black listing is in force on
/// `today`; WATCH if a black-list procedure is running or the grade is D; RED if an active red
/// listing is in force; NORMAL otherwise.
v1::CreditTier ComputeTier(const std::vector<v1::ListingSummary>& listings, v1::CreditGrade grade,
                           absl::CivilDay today);

/// Measures in force for the subject: every catalogue measure of an in-force listing's type,
/// plus NO_COMMITMENT_APPROVAL while a false commitment record is published.
std::vector<v1::Measure> MeasuresInForce(const std::vector<v1::Measure>& catalogue,
                                         const std::vector<v1::ListingSummary>& listings,
                                         const std::vector<v1::CreditRecord>& records,
                                         absl::CivilDay today);

/// Whether an ACTIVE listing summary is in force on `today`.
bool InForce(const v1::ListingSummary& listing, absl::CivilDay today);

}  // namespace regsuite::credit
