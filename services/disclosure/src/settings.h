#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "regsuite/common/config.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"

namespace regsuite::disclosure {

/// Penalty publication periods of one rule (DOMAIN.md "Credit": 36号令 from 2026-04-01,
/// 58号令 before), in months by seriousness, applying to decisions dated on/after `from`.
struct PenaltyPeriodRule {
  absl::CivilDay from;
  int minor_months = 3;
  int general_months = 12;
  int serious_months = 36;
};

/// Fee rule for excessive requests (国办函〔2020〕109号) in force from `from`: free up to
/// `free_per_month` a calendar month; then `fee_fen` each up to `first_tier_max`; then the fee
/// rises by `fee_fen` for every further `step` requests.
struct FeeRule {
  absl::CivilDay from;
  int free_per_month = 10;
  int first_tier_max = 30;
  int step = 10;
  int64_t fee_fen = 10000;
};

/// The `disclosure.*` configuration, validated.
struct DisclosureSettings {
  std::string agency_code = "AGENCY";
  std::string agency_name = "应急管理局";
  absl::flat_hash_set<int> review_categories;      // RecordCategory values needing manual review
  std::vector<PenaltyPeriodRule> penalty_periods;  // newest first
  std::vector<FeeRule> fee_rules;                  // newest first
  int decision_publication_wd = 7;
  int proactive_publication_wd = 20;
  int withdrawal_wd = 3;
  int overdue_warning_wd = 2;
  int request_reply_wd = 20;
  int request_correction_wd = 7;
  int applicant_correction_wd = 15;
  int max_extension_wd = 20;
  int consultation_wd = 15;
  // A text search scans this many of the newest filtered records in publication order
  // before it turns to the bigram index (Publications::Search).
  int search_window = 4000;
  bool expiry_job_enabled = true;
  absl::Duration expiry_job_interval = absl::Hours(1);

  /// Defaults of every key (as the config schema declares them).
  static DisclosureSettings Defaults();
};

/// Adds the `disclosure.*` keys to a service's config schema.
void AddDisclosureConfigKeys(common::ConfigSchema& schema);

/// Reads and validates them; INVALID_ARGUMENT naming the key.
absl::StatusOr<DisclosureSettings> ReadDisclosureSettings(const common::Config& config);

/// "2026-04-01:3,12,36;1970-01-01:36,36,36".
absl::StatusOr<std::vector<PenaltyPeriodRule>> ParsePenaltyPeriods(absl::string_view text);
/// "2021-01-01:10,30,10,10000".
absl::StatusOr<std::vector<FeeRule>> ParseFeeRules(absl::string_view text);
/// "POLICY_DOCUMENT,OTHER" (RecordCategory names with or without the RECORD_CATEGORY_ prefix).
absl::StatusOr<absl::flat_hash_set<int>> ParseCategories(absl::string_view text);

}  // namespace regsuite::disclosure
