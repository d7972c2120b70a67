#pragma once

#include "absl/time/time.h"
#include "regsuite/common/config.h"
#include "rules.h"

namespace regsuite::credit {

/// Everything configurable in the credit service (config section `credit`).
struct CreditSettings {
  ProcedureSettings procedure;
  GradeSettings grade;
  absl::Duration cache_ttl = absl::Minutes(10);
  // Period of the in-process expiry job; zero disables it (then call ExpireListings).
  absl::Duration expiry_interval = absl::Hours(1);
};

/// Adds the credit.* keys with their defaults.
void AddCreditConfigKeys(common::ConfigSchema& schema);

/// Reads them back; INVALID_ARGUMENT naming the key for a value out of range.
absl::StatusOr<CreditSettings> ReadCreditSettings(const common::Config& config);

}  // namespace regsuite::credit
