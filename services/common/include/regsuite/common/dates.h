#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace regsuite::common {

/// Parses a strict `YYYY-MM-DD` date (exactly 10 characters, zero-padded, a real calendar
/// date). Errors are INVALID_ARGUMENT naming the rule, e.g. "date: '2026-02-30' is not a
/// valid calendar date".
absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view yyyy_mm_dd);

/// Formats a date as `YYYY-MM-DD` (the inverse of ParseDate for years 0000-9999).
std::string FormatDate(absl::CivilDay day);

}  // namespace regsuite::common
