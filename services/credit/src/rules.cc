#include "rules.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/status.h"

namespace regsuite::credit {
namespace {

using common::FormatDate;
using common::ParseDate;

bool ParseOptionalDate(const std::string& text, absl::CivilDay* out) {
  if (text.empty()) return false;
  auto day = ParseDate(text);
  if (!day.ok()) return false;
  *out = *day;
  return true;
}

absl::string_view ActionVerb(v1::ListingAction action) {
  switch (action) {
    case v1::LISTING_ACTION_PROPOSED:
      return "propose";
    case v1::LISTING_ACTION_NOTIFIED:
      return "notify";
    case v1::LISTING_ACTION_OBJECTION_RECORDED:
      return "record an objection";
    case v1::LISTING_ACTION_OBJECTION_WAIVED:
      return "record a waiver";
    case v1::LISTING_ACTION_APPROVED:
      return "approve";
    case v1::LISTING_ACTION_REJECTED:
      return "reject";
    case v1::LISTING_ACTION_EXPIRED:
      return "expire";
    case v1::LISTING_ACTION_REPAIR_APPLIED:
      return "apply for repair";
    case v1::LISTING_ACTION_REPAIR_DENIED:
      return "deny a repair";
    case v1::LISTING_ACTION_REMOVED:
      return "remove";
    case v1::LISTING_ACTION_RESTORED:
      return "restore";
    default:
      return "change";
  }
}

// Every record kind that is itself dishonesty information (counts against red listing).
bool IsDishonesty(v1::CreditRecordKind kind) {
  switch (kind) {
    case v1::CREDIT_RECORD_KIND_STANDARDISATION_GRADE:
    case v1::CREDIT_RECORD_KIND_AWARD:
    case v1::CREDIT_RECORD_KIND_CREDIT_COMMITMENT:
    case v1::CREDIT_RECORD_KIND_UNSPECIFIED:
      return false;
    default:
      return true;
  }
}

}  // namespace

std::string ListingStatusName(v1::ListingStatus status) {
  std::string name = v1::ListingStatus_Name(status);
  constexpr absl::string_view kPrefix = "LISTING_STATUS_";
  if (name.rfind(kPrefix.data(), 0) == 0) name = name.substr(kPrefix.size());
  return name.empty() ? "UNSPECIFIED" : name;
}

std::string RepairStatusName(v1::RepairStatus status) {
  std::string name = v1::RepairStatus_Name(status);
  constexpr absl::string_view kPrefix = "REPAIR_STATUS_";
  if (name.rfind(kPrefix.data(), 0) == 0) name = name.substr(kPrefix.size());
  return name.empty() ? "UNSPECIFIED" : name;
}

absl::StatusOr<v1::ListingStatus> NextListingStatus(v1::ListingStatus from,
                                                    v1::ListingAction action) {
  using S = v1::ListingStatus;
  S to = v1::LISTING_STATUS_UNSPECIFIED;
  switch (from) {
    case v1::LISTING_STATUS_UNSPECIFIED:
      if (action == v1::LISTING_ACTION_PROPOSED) to = v1::LISTING_STATUS_PROPOSED;
      break;
    case v1::LISTING_STATUS_PROPOSED:
      if (action == v1::LISTING_ACTION_NOTIFIED) to = v1::LISTING_STATUS_NOTIFIED;
      break;
    case v1::LISTING_STATUS_NOTIFIED:
      if (action == v1::LISTING_ACTION_OBJECTION_RECORDED ||
          action == v1::LISTING_ACTION_OBJECTION_WAIVED) {
        to = v1::LISTING_STATUS_NOTIFIED;
      } else if (action == v1::LISTING_ACTION_APPROVED) {
        to = v1::LISTING_STATUS_ACTIVE;
      } else if (action == v1::LISTING_ACTION_REJECTED) {
        to = v1::LISTING_STATUS_REJECTED;
      }
      break;
    case v1::LISTING_STATUS_ACTIVE:
      if (action == v1::LISTING_ACTION_EXPIRED) to = v1::LISTING_STATUS_EXPIRED;
      if (action == v1::LISTING_ACTION_REMOVED) to = v1::LISTING_STATUS_REMOVED;
      if (action == v1::LISTING_ACTION_REPAIR_APPLIED ||
          action == v1::LISTING_ACTION_REPAIR_DENIED) {
        to = v1::LISTING_STATUS_ACTIVE;
      }
      break;
    case v1::LISTING_STATUS_REMOVED:
      if (action == v1::LISTING_ACTION_RESTORED) to = v1::LISTING_STATUS_ACTIVE;
      break;
    default:
      break;
  }
  if (to == S::LISTING_STATUS_UNSPECIFIED) {
    return common::StateError("listing", ListingStatusName(from), ActionVerb(action));
  }
  return to;
}

absl::CivilDay AddMonths(absl::CivilDay day, int months) {
  absl::CivilMonth month = absl::CivilMonth(day) + months;
  absl::CivilDay first_of_next = absl::CivilDay(month + 1);
  int last = (first_of_next - 1).day();
  return absl::CivilDay(month.year(), month.month(), std::min(day.day(), last));
}

PublicationRules::PublicationRules(std::vector<PublicationRule> rules) : rules_(std::move(rules)) {
  std::sort(rules_.begin(), rules_.end(), [](const PublicationRule& a, const PublicationRule& b) {
    return a.effective_from < b.effective_from;
  });
}

PublicationRules PublicationRules::Seed() {
  const absl::CivilDay old_rule(2000, 1, 1);
  const absl::CivilDay new_rule(2026, 4, 1);
  return PublicationRules({
      {old_rule, "发改委令第58号", v1::SEVERITY_MINOR, 12, 36, 12},
      {old_rule, "发改委令第58号", v1::SEVERITY_GENERAL, 12, 36, 12},
      {old_rule, "发改委令第58号", v1::SEVERITY_SERIOUS, 12, 36, 36},
      {new_rule, "发改委令第36号", v1::SEVERITY_MINOR, 0, 3, 3},
      {new_rule, "发改委令第36号", v1::SEVERITY_GENERAL, 3, 12, 12},
      {new_rule, "发改委令第36号", v1::SEVERITY_SERIOUS, 12, 36, 36},
  });
}

absl::StatusOr<PublicationRule> PublicationRules::RuleFor(absl::CivilDay decided,
                                                          v1::Severity severity) const {
  const PublicationRule* found = nullptr;
  for (const auto& rule : rules_) {
    if (rule.severity == severity && rule.effective_from <= decided) found = &rule;
  }
  if (found == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("no publication rule for severity ",
                                                      v1::Severity_Name(severity), " on ",
                                                      FormatDate(decided)));
  }
  return *found;
}

absl::StatusOr<absl::CivilDay> PublicationRules::PublicationEnd(
    absl::CivilDay decided, v1::Severity severity, const absl::CivilDay* requested) const {
  auto rule = RuleFor(decided, severity);
  if (!rule.ok()) return rule.status();
  auto end_after = [&](int months) {
    return months == 0 ? decided : AddMonths(decided, months) - 1;
  };
  if (requested == nullptr) return end_after(rule->default_months);
  const absl::CivilDay lo = end_after(rule->min_months);
  const absl::CivilDay hi = end_after(rule->max_months);
  if (*requested < lo || *requested > hi) {
    return common::FieldError(
        "publication_end_date",
        absl::StrCat("must lie between ", FormatDate(lo), " and ", FormatDate(hi), " (",
                     rule->rule_name, ", ", rule->min_months, "-", rule->max_months,
                     " months for this severity)"));
  }
  return *requested;
}

absl::StatusOr<absl::CivilDay> ObjectionDeadline(const common::WorkingDayCalendar& calendar,
                                                 absl::CivilDay notified,
                                                 const ProcedureSettings& settings) {
  return calendar.AddWorkingDays(notified, settings.objection_period_wd);
}

absl::Status CheckDecidable(const v1::Listing& listing, absl::CivilDay today) {
  if (listing.status() != v1::LISTING_STATUS_NOTIFIED) {
    return common::StateError("listing", ListingStatusName(listing.status()), "decide");
  }
  if (listing.objection_waived()) return absl::OkStatus();
  absl::CivilDay deadline;
  if (!ParseOptionalDate(listing.objection_deadline(), &deadline)) {
    return absl::FailedPreconditionError("listing has no objection deadline; notify it first");
  }
  if (today <= deadline) {
    return absl::FailedPreconditionError(absl::StrCat(
        "listing is NOTIFIED and the objection period runs until ", FormatDate(deadline),
        "; cannot decide before it ends unless the party waived it"));
  }
  return absl::OkStatus();
}

Period ListingPeriod(v1::ListType type, absl::CivilDay decided, const ProcedureSettings& settings) {
  const int months =
      type == v1::LIST_TYPE_BLACK ? settings.black_list_months : settings.red_list_months;
  return {decided, AddMonths(decided, months) - 1};
}

absl::Status CheckRepairEligible(const v1::Listing& listing, const v1::ApplyRepairRequest& request,
                                 const std::vector<v1::CreditRecord>& records, absl::CivilDay today,
                                 const ProcedureSettings& settings) {
  if (request.commitment().empty()) {
    return common::FieldError("commitment", "a public credit commitment (信用承诺) is required");
  }
  if (listing.list_type() != v1::LIST_TYPE_BLACK) {
    return absl::FailedPreconditionError("only a black listing can be repaired");
  }
  if (listing.status() != v1::LISTING_STATUS_ACTIVE) {
    return common::StateError("listing", ListingStatusName(listing.status()), "apply for repair");
  }
  absl::CivilDay from;
  if (!ParseOptionalDate(listing.effective_from(), &from)) {
    return absl::FailedPreconditionError("listing has no effective_from");
  }
  const absl::CivilDay eligible = AddMonths(from, settings.repair_min_listed_months);
  if (today < eligible) {
    return absl::FailedPreconditionError(
        absl::StrCat("repair may be applied for from ", FormatDate(eligible), " (",
                     settings.repair_min_listed_months, " months after the listing took effect)"));
  }
  if (!request.penalty_fulfilled()) {
    return absl::FailedPreconditionError(
        "the penalty must have been carried out before a repair (penalty_fulfilled is false)");
  }
  if (!request.harm_removed()) {
    return absl::FailedPreconditionError(
        "the harm must have been removed before a repair (harm_removed is false)");
  }
  // No new act of listing level (信用修复: 未再发生严重失信行为) since the listing took effect:
  // a later record that would itself propose a black listing.
  const absl::flat_hash_set<std::string> own(listing.record_ids().begin(),
                                             listing.record_ids().end());
  for (const v1::CreditRecord& record : records) {
    absl::CivilDay occurred;
    if (own.contains(record.record_id()) || !ParseOptionalDate(record.occurred_date(), &occurred) ||
        occurred < from) {
      continue;
    }
    std::vector<ListingSituation> situations = DetectBlackListSituations(record, records, settings);
    if (!situations.empty()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "a new act of listing level since the listing took effect (record ", record.record_id(),
          ", ", situations.front().reason_code, " on ", record.occurred_date(), ")"));
    }
  }
  return absl::OkStatus();
}

std::vector<ListingSituation> DetectBlackListSituations(
    const v1::CreditRecord& record, const std::vector<v1::CreditRecord>& history,
    const ProcedureSettings& settings) {
  std::vector<ListingSituation> out;
  auto single = [&](std::string code, std::string basis) {
    ListingSituation s;
    s.reason_code = std::move(code);
    s.basis = std::move(basis);
    s.record_ids = {record.record_id()};
    s.evidence_refs.assign(record.evidence_refs().begin(), record.evidence_refs().end());
    if (!record.decision_ref().empty()) s.evidence_refs.push_back(record.decision_ref());
    out.push_back(std::move(s));
  };
  switch (record.kind()) {
    case v1::CREDIT_RECORD_KIND_ACCIDENT: {
      if (record.accident_level() == v1::ACCIDENT_LEVEL_MAJOR ||
          record.accident_level() == v1::ACCIDENT_LEVEL_EXTRAORDINARY) {
        single("BLACK_MAJOR_ACCIDENT", "应急管理部令第11号: 发生特别重大、重大生产安全事故");
      } else if (record.accident_level() == v1::ACCIDENT_LEVEL_LARGER) {
        absl::CivilDay occurred;
        if (!ParseOptionalDate(record.occurred_date(), &occurred)) break;
        ListingSituation s;
        for (const auto& other : history) {
          if (other.record_id() == record.record_id() ||
              other.kind() != v1::CREDIT_RECORD_KIND_ACCIDENT ||
              other.accident_level() != v1::ACCIDENT_LEVEL_LARGER) {
            continue;
          }
          absl::CivilDay when;
          if (!ParseOptionalDate(other.occurred_date(), &when)) continue;
          const absl::CivilDay earlier = std::min(when, occurred);
          const absl::CivilDay later = std::max(when, occurred);
          // Within 12 months: the later accident on or before the earlier one + 12 months.
          if (later <= AddMonths(earlier, settings.larger_accident_window_months)) {
            s.record_ids.push_back(other.record_id());
            for (const auto& e : other.evidence_refs()) s.evidence_refs.push_back(e);
            if (!other.decision_ref().empty()) s.evidence_refs.push_back(other.decision_ref());
          }
        }
        if (!s.record_ids.empty()) {
          s.reason_code = "BLACK_TWO_LARGER_ACCIDENTS_12M";
          s.basis = "应急管理部令第11号: 12个月内发生2起以上较大生产安全事故";
          s.record_ids.insert(s.record_ids.begin(), record.record_id());
          for (const auto& e : record.evidence_refs()) s.evidence_refs.push_back(e);
          if (!record.decision_ref().empty()) s.evidence_refs.push_back(record.decision_ref());
          out.push_back(std::move(s));
        }
      }
      break;
    }
    case v1::CREDIT_RECORD_KIND_PENALTY:
      if (record.fine_multiple() >= 2.0 && record.fine_multiple() <= 5.0) {
        single("BLACK_FINE_MULTIPLE", "应急管理部令第11号; 安全生产法第一百一十四条 (2–5倍罚款)");
      }
      break;
    case v1::CREDIT_RECORD_KIND_ACCIDENT_CONCEALMENT:
      single("BLACK_ACCIDENT_CONCEALMENT", "应急管理部令第11号: 瞒报、谎报生产安全事故");
      break;
    case v1::CREDIT_RECORD_KIND_HEAD_FLED_OR_NO_RESCUE:
      single("BLACK_HEAD_FLED", "应急管理部令第11号: 主要负责人逃逸或不组织抢救");
      break;
    case v1::CREDIT_RECORD_KIND_UNLICENSED_OPERATION:
      single("BLACK_UNLICENSED", "应急管理部令第11号: 未依法取得许可或暂扣期间擅自生产经营");
      break;
    case v1::CREDIT_RECORD_KIND_REFUSAL_TO_EXECUTE_PENALTY:
      single("BLACK_REFUSED_PENALTY", "应急管理部令第11号: 拒不执行行政处罚决定");
      break;
    case v1::CREDIT_RECORD_KIND_FALSE_EVALUATION_REPORT:
      single("BLACK_FALSE_REPORT", "应急管理部令第11号: 评价检测机构出具虚假报告");
      break;
    default:
      break;
  }
  return out;
}

bool MeetsRedListCriteria(const std::vector<v1::CreditRecord>& records, absl::CivilDay today) {
  bool graded = false;
  const absl::CivilDay since = AddMonths(today, -36);
  for (const auto& r : records) {
    absl::CivilDay when;
    const std::string& date = r.decided_date().empty() ? r.occurred_date() : r.decided_date();
    const bool dated = ParseOptionalDate(date, &when);
    if (r.kind() == v1::CREDIT_RECORD_KIND_STANDARDISATION_GRADE &&
        (r.standardisation_grade() == 1 || r.standardisation_grade() == 2)) {
      graded = true;
    } else if (IsDishonesty(r.kind()) && (!dated || when > since)) {
      return false;
    }
  }
  return graded;
}

GradeResult ComputeGrade(const std::vector<v1::CreditRecord>& records, bool active_black,
                         absl::CivilDay today, const GradeSettings& settings) {
  int score = 100;
  const absl::CivilDay since = AddMonths(today, -settings.lookback_months);
  bool standardised = false;
  for (const auto& r : records) {
    absl::CivilDay when;
    const std::string& date = r.decided_date().empty() ? r.occurred_date() : r.decided_date();
    if (ParseOptionalDate(date, &when) && when <= since) continue;
    switch (r.kind()) {
      case v1::CREDIT_RECORD_KIND_ACCIDENT:
        if (r.accident_level() >= v1::ACCIDENT_LEVEL_MAJOR) {
          score -= settings.major_accident;
        } else if (r.accident_level() == v1::ACCIDENT_LEVEL_LARGER) {
          score -= settings.larger_accident;
        } else {
          score -= settings.general;
        }
        break;
      case v1::CREDIT_RECORD_KIND_FALSE_COMMITMENT:
        score -= settings.false_commitment;
        break;
      case v1::CREDIT_RECORD_KIND_AWARD:
        score += settings.award_bonus;
        break;
      case v1::CREDIT_RECORD_KIND_STANDARDISATION_GRADE:
        if (r.standardisation_grade() == 1 || r.standardisation_grade() == 2) standardised = true;
        break;
      case v1::CREDIT_RECORD_KIND_CREDIT_COMMITMENT:
      case v1::CREDIT_RECORD_KIND_UNSPECIFIED:
        break;
      case v1::CREDIT_RECORD_KIND_ACCIDENT_CONCEALMENT:
      case v1::CREDIT_RECORD_KIND_HEAD_FLED_OR_NO_RESCUE:
      case v1::CREDIT_RECORD_KIND_UNLICENSED_OPERATION:
      case v1::CREDIT_RECORD_KIND_REFUSAL_TO_EXECUTE_PENALTY:
      case v1::CREDIT_RECORD_KIND_FALSE_EVALUATION_REPORT:
      case v1::CREDIT_RECORD_KIND_OTHER_SEVERE_VIOLATION:
        score -= settings.severe_situation;
        break;
      default:
        score -= r.severity() == v1::SEVERITY_SERIOUS   ? settings.serious
                 : r.severity() == v1::SEVERITY_GENERAL ? settings.general
                                                        : settings.minor;
        break;
    }
  }
  if (standardised) score += settings.standardisation_bonus;
  score = std::clamp(score, 0, 100);
  GradeResult result;
  result.score = score;
  if (active_black) {
    result.grade = v1::CREDIT_GRADE_D;
  } else if (score >= settings.threshold_a) {
    result.grade = v1::CREDIT_GRADE_A;
  } else if (score >= settings.threshold_b) {
    result.grade = v1::CREDIT_GRADE_B;
  } else if (score >= settings.threshold_c) {
    result.grade = v1::CREDIT_GRADE_C;
  } else {
    result.grade = v1::CREDIT_GRADE_D;
  }
  return result;
}

bool InForce(const v1::ListingSummary& listing, absl::CivilDay today) {
  if (listing.status() != v1::LISTING_STATUS_ACTIVE) return false;
  absl::CivilDay from, until;
  if (ParseOptionalDate(listing.effective_from(), &from) && today < from) return false;
  if (ParseOptionalDate(listing.effective_until(), &until) && today > until) return false;
  return true;
}

v1::CreditTier ComputeTier(const std::vector<v1::ListingSummary>& listings, v1::CreditGrade grade,
                           absl::CivilDay today) {
  bool black = false, watch = false, red = false;
  for (const auto& l : listings) {
    if (l.list_type() == v1::LIST_TYPE_BLACK) {
      if (InForce(l, today)) black = true;
      if (l.status() == v1::LISTING_STATUS_PROPOSED || l.status() == v1::LISTING_STATUS_NOTIFIED) {
        watch = true;
      }
    } else if (l.list_type() == v1::LIST_TYPE_RED && InForce(l, today)) {
      red = true;
    }
  }
  if (black) return v1::CREDIT_TIER_BLACK;
  if (watch || grade == v1::CREDIT_GRADE_D) return v1::CREDIT_TIER_WATCH;
  if (red) return v1::CREDIT_TIER_RED;
  return v1::CREDIT_TIER_NORMAL;
}

std::vector<v1::Measure> MeasuresInForce(const std::vector<v1::Measure>& catalogue,
                                         const std::vector<v1::ListingSummary>& listings,
                                         const std::vector<v1::CreditRecord>& records,
                                         absl::CivilDay today) {
  std::vector<v1::Measure> out;
  bool black = false;
  for (const auto& l : listings) {
    if (!InForce(l, today)) continue;
    if (l.list_type() == v1::LIST_TYPE_BLACK) black = true;
    for (const auto& m : catalogue) {
      if (m.list_type() != l.list_type()) continue;
      v1::Measure in_force = m;
      in_force.set_listing_id(l.listing_id());
      in_force.set_effective_until(l.effective_until());
      out.push_back(std::move(in_force));
    }
  }
  // Red-list rewards do not apply while a black listing is in force.
  if (black) {
    out.erase(
        std::remove_if(out.begin(), out.end(),
                       [](const v1::Measure& m) { return m.list_type() == v1::LIST_TYPE_RED; }),
        out.end());
  }
  bool has_no_commitment = std::any_of(out.begin(), out.end(), [](const v1::Measure& m) {
    return m.code() == "NO_COMMITMENT_APPROVAL";
  });
  if (!has_no_commitment) {
    for (const auto& r : records) {
      if (r.kind() != v1::CREDIT_RECORD_KIND_FALSE_COMMITMENT) continue;
      absl::CivilDay end;
      if (ParseOptionalDate(r.publication_end_date(), &end) && today > end) continue;
      for (const auto& m : catalogue) {
        if (m.code() != "NO_COMMITMENT_APPROVAL") continue;
        v1::Measure in_force = m;
        in_force.set_list_type(v1::LIST_TYPE_UNSPECIFIED);
        in_force.set_record_id(r.record_id());
        in_force.set_effective_until(r.publication_end_date());
        out.push_back(std::move(in_force));
      }
      break;
    }
  }
  return out;
}

}  // namespace regsuite::credit
