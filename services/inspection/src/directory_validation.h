#pragma once

#include "absl/status/status.h"
#include "absl/time/civil_time.h"
#include "regsuite/inspection/v1/inspection.pb.h"

namespace regsuite::inspection {

/// Validates and normalises an enterprise directory row (USCC per GB 32100-2015 upper-cased,
/// name, industry, 6-digit region code, enum ranges, tags trimmed/deduplicated; a
/// "专精特新" tag sets specialised_sme). INVALID_ARGUMENT names the field and rule.
absl::Status NormaliseEnterprise(v1::Enterprise& enterprise);

/// Validates an inspector: id, name, certificate number and a YYYY-MM-DD expiry, 6-digit
/// region, conflict USCCs valid (normalised, sorted, deduplicated).
absl::Status NormaliseInspector(v1::Inspector& inspector);

/// Validates a check item: code, name, legal basis; effective_from a date when present.
absl::Status NormaliseCheckItem(v1::CheckItem& item);

/// Whether the 6-digit administrative division code is well formed.
bool IsRegionCode(absl::string_view code);

}  // namespace regsuite::inspection
