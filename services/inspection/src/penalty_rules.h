#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "regsuite/inspection/v1/inspection.pb.h"

namespace regsuite::inspection {

/// One violation's discretion benchmark (自由裁量基准) in force on a date.
struct DiscretionBenchmark {
  std::string violation_code;
  std::string violation_name;
  std::string legal_basis;
  std::string effective_from;  // rule_version
  // A management-type (管理类) violation: eligible for the inclusive 首违不罚 rule for
  // red-list and 专精特新 firms.
  bool management_type = false;
  // On the configurable 首违不罚 list for every party.
  bool first_violation_list = false;
  std::vector<v1::DiscretionRange> ranges;
};

/// Thresholds of the penalty procedure, in fen (configuration, DOMAIN.md).
struct PenaltyThresholds {
  int64_t simple_max_person_fen = 20'000;          // 200 yuan (Art 51)
  int64_t simple_max_organisation_fen = 300'000;   // 3,000 yuan
  int64_t hearing_min_person_fen = 1'000'000;      // 10,000 yuan (Art 63, local)
  int64_t hearing_min_organisation_fen = 3'000'000;  // 30,000 yuan
};

/// Facts about the party looked up by the caller.
struct PartyFacts {
  bool first_violation = true;
  bool red_listed = false;
  bool specialised_sme = false;
};

/// A natural person and an individual business (个体工商户) use the "person" thresholds; a legal
/// person or other organisation the "organisation" ones.
bool IsPersonParty(v1::PartyType type);

/// AssessPenalty's rules, in order (README "Penalty assessment"): 轻微不罚 (mandatory), 首违不罚
/// (list or inclusive rule), simple procedure, hearing, legal review; plus the range check.
/// INVALID_ARGUMENT for a missing circumstance/party type or a negative fine.
absl::StatusOr<v1::PenaltyAssessment> Assess(const DiscretionBenchmark& benchmark,
                                             const v1::AssessPenaltyRequest& request,
                                             const PartyFacts& facts,
                                             const PenaltyThresholds& thresholds);

/// Late fee (加处罚款, Art 72): 3 % of the fine per day after `due`, up to `as_of`, capped at
/// the fine. `per_mille_per_day` is 30 for 3 %.
int64_t LateFeeFen(int64_t fine_fen, absl::CivilDay due, absl::CivilDay as_of,
                   int per_mille_per_day);

}  // namespace regsuite::inspection
