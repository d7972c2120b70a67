#pragma once

#include <string>

#include "absl/time/time.h"

#include "regsuite/common/config.h"
#include "penalty_rules.h"

namespace regsuite::inspection {

/// The service's own configuration (`inspection.*` keys); statutory and local numbers.
struct InspectionOptions {
  int quiet_days_last = 20;            // 宁静日: days 1..N of a month
  int red_list_max_per_year = 1;       // red list ≤ 1 inspection a year
  int import_max_rows = 50'000;        // rows per ImportEnterprises call
  int import_chunk_rows = 1'000;       // rows per multi-row upsert statement
  int result_publication_wd = 20;      // 国发〔2019〕5号
  int hearing_request_wd = 5;          // Art 64
  int decision_deadline_cd = 90;       // Art 60
  int payment_due_cd = 15;             // Art 67
  int late_fee_per_mille_per_day = 30; // Art 72: 3 %
  int default_rectification_wd = 10;   // when a hazard gives neither date nor WD
  int monthly_plan_lead_days = 15;     // plan published 15 days before the month
  // Annual plan: black list ≥ N a year (MIN_INSPECTIONS_2_PER_YEAR), key enterprises N
  // planned, the others sampled at N per mille (5 %).
  int black_list_min_per_year = 2;
  int annual_plan_key_inspections = 1;
  int annual_plan_sample_per_mille = 50;
  std::string authority = "应急管理局";
  // Overdue major-hazard sweep period; zero disables the background sweep.
  absl::Duration hazard_sweep_interval = absl::Minutes(1);
  PenaltyThresholds thresholds;
};

/// Adds the `inspection.*` keys.
void AddInspectionConfigKeys(common::ConfigSchema& schema);
InspectionOptions ReadInspectionOptions(const common::Config& config);

}  // namespace regsuite::inspection
