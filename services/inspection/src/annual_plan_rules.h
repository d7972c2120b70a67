#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "regsuite/inspection/v1/inspection.pb.h"

namespace regsuite::inspection {

/// Name and version of the annual plan's sample (README "Annual plan"): the draw's SHA-256
/// counter stream driving a partial Fisher–Yates over the sample pool sorted by USCC.
inline constexpr absl::string_view kAnnualPlanAlgorithm = "sha256-ctr-fisher-yates/v1 (annual-plan sample)";

/// The frequency rules of the annual plan (DOMAIN.md "Inspections and penalties", credit
/// measures): configuration at build time.
struct AnnualPlanRules {
  int black_list_min_per_year = 2;     // MIN_INSPECTIONS_2_PER_YEAR
  int red_list_max_per_year = 1;       // red list ≤ 1 inspection a year
  int key_enterprise_inspections = 1;  // key enterprises planned (at least 1)
};

/// What decides one enterprise's inspections due.
struct AnnualPlanSubject {
  int credit_tier = 0;  // regsuite.credit.v1.CreditTier value; 0 = unknown (normal)
  bool key_enterprise = false;
  bool sampled = false;  // drawn in the plan's random sample
};

struct InspectionsDue {
  v1::AnnualPlanCategory category = v1::ANNUAL_PLAN_CATEGORY_NOT_PLANNED;
  int inspections = 0;
  std::string reason;
};

/// The rule, first that applies: black list → max(black_list_min, what key/sample would give);
/// red list → what key/sample would give, capped at red_list_max (0 when neither); key
/// enterprise → max(1, key_enterprise_inspections); sampled → 1; otherwise nothing planned.
InspectionsDue AnnualInspectionsDue(const AnnualPlanSubject& subject, const AnnualPlanRules& rules);

/// The sample is drawn from enterprises that the rules do not already plan: neither black
/// listed nor key enterprises (red-listed ones are in the pool and capped afterwards).
bool InAnnualSamplePool(int credit_tier, bool key_enterprise);

/// Sample size for `n` pool enterprises at `ratio` (the draw's ceil(ratio·n − 1e-9)); 0 when
/// ratio is 0. INVALID_ARGUMENT outside [0, 1].
absl::StatusOr<int32_t> AnnualSampleSize(double ratio, int64_t n);

/// Positions 0…n−1 of the pool selected by the draw stream from `seed`: partial Fisher–Yates,
/// for i = 0…k−1 swap i with i + Uniform(n − i); the first k positions, in selection order.
std::vector<uint32_t> AnnualSample(uint64_t seed, uint32_t n, uint32_t k);

/// SHA-256 input of the sample pool: "USCC\n" per enterprise, in pool (USCC) order.
std::string CanonicalSamplePool(const std::vector<absl::string_view>& usccs);

}  // namespace regsuite::inspection
