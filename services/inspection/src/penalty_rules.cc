#include "penalty_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "regsuite/common/status.h"

namespace regsuite::inspection {
namespace {

using v1::Circumstance;
using v1::PenaltyKind;

bool HearingKind(int kind) {
  switch (kind) {
    case v1::PENALTY_KIND_LICENCE_REVOCATION:
    case v1::PENALTY_KIND_QUALIFICATION_DOWNGRADE:
    case v1::PENALTY_KIND_SUSPENSION_OF_BUSINESS:
    case v1::PENALTY_KIND_CLOSURE:
    case v1::PENALTY_KIND_EMPLOYMENT_RESTRICTION:
      return true;
    default:
      return false;
  }
}

std::string Yuan(int64_t fen) { return absl::StrCat(fen / 100, " yuan"); }

}  // namespace

bool IsPersonParty(v1::PartyType type) {
  return type == v1::PARTY_TYPE_NATURAL_PERSON || type == v1::PARTY_TYPE_INDIVIDUAL_BUSINESS;
}

absl::StatusOr<v1::PenaltyAssessment> Assess(const DiscretionBenchmark& benchmark,
                                             const v1::AssessPenaltyRequest& request,
                                             const PartyFacts& facts,
                                             const PenaltyThresholds& thresholds) {
  if (request.party_type() == v1::PARTY_TYPE_UNSPECIFIED) {
    return common::FieldError("party_type", "is required");
  }
  if (request.circumstance() == v1::CIRCUMSTANCE_UNSPECIFIED) {
    return common::FieldError("circumstance", "is required");
  }
  if (request.proposed_fine_fen() < 0) {
    return common::FieldError("proposed_fine_fen", "must not be negative");
  }
  v1::PenaltyAssessment a;
  a.set_violation_code(benchmark.violation_code);
  a.set_violation_name(benchmark.violation_name);
  a.set_legal_basis(benchmark.legal_basis);
  a.set_circumstance(request.circumstance());
  a.set_rule_version(benchmark.effective_from);
  a.set_first_violation(facts.first_violation);
  for (const auto& range : benchmark.ranges) {
    *a.add_ranges() = range;
    if (range.circumstance() == request.circumstance()) *a.mutable_applicable_range() = range;
  }
  if (!a.has_applicable_range()) {
    return common::FieldError("circumstance", "the benchmark has no range for this circumstance");
  }
  const bool person = IsPersonParty(request.party_type());
  const int64_t fine = request.proposed_fine_fen();

  // Range check: the fine within [min, max] and every proposed kind allowed.
  const auto& range = a.applicable_range();
  bool within = fine >= range.min_fine_fen() && fine <= range.max_fine_fen();
  for (int kind : request.proposed_kinds()) {
    if (std::find(range.kinds().begin(), range.kinds().end(), kind) == range.kinds().end()) {
      within = false;
      a.add_reasons(absl::StrCat("kind ", v1::PenaltyKind_Name(static_cast<PenaltyKind>(kind)),
                                 " is not allowed for this circumstance"));
    }
  }
  a.set_proposed_fine_within_range(within);
  if (fine > 0 && !within) {
    a.add_reasons(absl::StrCat("proposed fine ", Yuan(fine), " lies outside the benchmark range ",
                               Yuan(range.min_fine_fen()), "–", Yuan(range.max_fine_fen()),
                               ": the decision needs a recorded reason"));
  }

  // 1. 轻微不罚 (Art 33 para 1, mandatory).
  if (request.circumstance() == v1::CIRCUMSTANCE_MINOR && request.corrected() &&
      !request.harm_caused()) {
    a.set_outcome(v1::PENALTY_OUTCOME_NO_PENALTY);
    a.add_reasons("轻微不罚 (Art 33): minor violation, corrected in time, no harm — no penalty");
    return a;
  }
  // 2. 首违不罚 (Art 33, seed list + inclusive rule).
  const bool minor_harm = request.circumstance() == v1::CIRCUMSTANCE_MINOR ||
                          (request.circumstance() == v1::CIRCUMSTANCE_GENERAL &&
                           !request.harm_caused());
  if (facts.first_violation && request.corrected() && minor_harm) {
    if (benchmark.first_violation_list) {
      a.set_outcome(v1::PENALTY_OUTCOME_FIRST_VIOLATION_NO_PENALTY);
      a.add_reasons("首违不罚 (Art 33): violation code on the first-violation list, first "
                    "violation, minor harm, corrected — education and order to rectify, no fine");
      return a;
    }
    if (benchmark.management_type && (facts.red_listed || facts.specialised_sme)) {
      a.set_outcome(v1::PENALTY_OUTCOME_FIRST_VIOLATION_NO_PENALTY);
      a.add_reasons(absl::StrCat(
          "首违不罚: ", facts.red_listed ? "red-list" : "专精特新",
          " enterprise, first management-type violation — education and order to rectify, "
          "no fine"));
      return a;
    }
  }
  // 3. Simple procedure (Art 51): warning and/or a fine up to the threshold, nothing else.
  const int64_t simple_max =
      person ? thresholds.simple_max_person_fen : thresholds.simple_max_organisation_fen;
  bool only_warning_or_fine = true;
  for (int kind : request.proposed_kinds()) {
    if (kind != v1::PENALTY_KIND_WARNING && kind != v1::PENALTY_KIND_FINE) {
      only_warning_or_fine = false;
    }
  }
  if (only_warning_or_fine && fine <= simple_max) {
    a.set_outcome(v1::PENALTY_OUTCOME_SIMPLE_PROCEDURE);
    a.add_reasons(absl::StrCat("简易程序 (Art 51): warning or fine ≤ ", Yuan(simple_max), " (",
                               person ? "natural person" : "organisation", ")"));
    return a;
  }
  a.set_outcome(v1::PENALTY_OUTCOME_GENERAL_PROCEDURE);
  a.add_reasons("general procedure");
  // 4. Hearing must be offered (Art 63–64).
  const int64_t hearing_min =
      person ? thresholds.hearing_min_person_fen : thresholds.hearing_min_organisation_fen;
  if (fine >= hearing_min) {
    a.set_hearing_required(true);
    a.add_reasons(absl::StrCat("听证 (Art 63): fine ≥ ", Yuan(hearing_min)));
  }
  for (int kind : request.proposed_kinds()) {
    if (HearingKind(kind)) {
      a.set_hearing_required(true);
      a.add_reasons(absl::StrCat("听证 (Art 63): ",
                                 v1::PenaltyKind_Name(static_cast<PenaltyKind>(kind))));
    }
  }
  // 5. Legal review (Art 58).
  if (request.major_public_interest()) {
    a.set_legal_review_required(true);
    a.add_reasons("法制审核 (Art 58): major public interest");
  }
  if (request.complex_case()) {
    a.set_legal_review_required(true);
    a.add_reasons("法制审核 (Art 58): complex case");
  }
  if (a.hearing_required()) {
    a.set_legal_review_required(true);
    a.add_reasons("法制审核 (Art 58): case subject to a hearing, major rights affected");
  }
  return a;
}

int64_t LateFeeFen(int64_t fine_fen, absl::CivilDay due, absl::CivilDay as_of,
                   int per_mille_per_day) {
  if (as_of <= due || fine_fen <= 0) return 0;
  const int64_t days = as_of - due;
  // Compare before multiplying out, so huge day counts cannot overflow.
  if (days * per_mille_per_day >= 1000) return fine_fen;
  return std::min<int64_t>(fine_fen, fine_fen * per_mille_per_day * days / 1000);
}

}  // namespace regsuite::inspection
