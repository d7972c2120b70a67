#pragma once

#include <cstdint>

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
  // The in-process cache in front of Redis (local_cache.h) and its invalidation channel.
  bool local_cache_enabled = true;
  int64_t local_cache_max_entries = 1'000'000;
  absl::Duration local_cache_ack_timeout = absl::Milliseconds(200);
};

/// Adds the credit.* keys with their defaults.
void AddCreditConfigKeys(common::ConfigSchema& schema);

/// Reads them back; INVALID_ARGUMENT naming the key for a value out of range.
absl::StatusOr<CreditSettings> ReadCreditSettings(const common::Config& config);

}  // namespace regsuite::credit
