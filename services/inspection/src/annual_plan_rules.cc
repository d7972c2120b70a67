#include "annual_plan_rules.h"

#include <algorithm>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "draw_algorithm.h"
#include "regsuite/common/status.h"

namespace regsuite::inspection {
namespace {

constexpr int kTierRed = 1;    // regsuite.credit.v1.CREDIT_TIER_RED
constexpr int kTierBlack = 4;  // regsuite.credit.v1.CREDIT_TIER_BLACK

// What the key-enterprise and sample rules alone give.
InspectionsDue Planned(const AnnualPlanSubject& s, const AnnualPlanRules& rules) {
  if (s.key_enterprise) {
    const int n = std::max(1, rules.key_enterprise_inspections);
    return {v1::ANNUAL_PLAN_CATEGORY_KEY_ENTERPRISE, n,
            absl::StrCat("key enterprise (重点监管): ", n, " planned inspection(s) a year")};
  }
  if (s.sampled) {
    return {v1::ANNUAL_PLAN_CATEGORY_SAMPLED, 1, "drawn in the annual random sample: 1 inspection"};
  }
  return {v1::ANNUAL_PLAN_CATEGORY_NOT_PLANNED, 0, "not a key enterprise and not sampled"};
}

}  // namespace

InspectionsDue AnnualInspectionsDue(const AnnualPlanSubject& subject,
                                    const AnnualPlanRules& rules) {
  InspectionsDue base = Planned(subject, rules);
  if (subject.credit_tier == kTierBlack) {
    const int n = std::max(rules.black_list_min_per_year, base.inspections);
    return {v1::ANNUAL_PLAN_CATEGORY_BLACK_LIST, n,
            absl::StrCat("black list: at least ", rules.black_list_min_per_year,
                         " inspections a year (MIN_INSPECTIONS_2_PER_YEAR)")};
  }
  if (subject.credit_tier == kTierRed) {
    const int n = std::min(rules.red_list_max_per_year, base.inspections);
    return {v1::ANNUAL_PLAN_CATEGORY_RED_LIST, n,
            absl::StrCat("red list: at most ", rules.red_list_max_per_year,
                         " inspection(s) a year; ", base.reason)};
  }
  return base;
}

bool InAnnualSamplePool(int credit_tier, bool key_enterprise) {
  return credit_tier != kTierBlack && !key_enterprise;
}

absl::StatusOr<int32_t> AnnualSampleSize(double ratio, int64_t n) {
  if (!(ratio >= 0.0 && ratio <= 1.0)) {
    return common::FieldError("sample_ratio", "must be in [0, 1]");
  }
  if (ratio == 0.0) return 0;
  DrawParameters params;
  params.ratio = ratio;
  return SampleSize(params, n);
}

std::vector<uint32_t> AnnualSample(uint64_t seed, uint32_t n, uint32_t k) {
  k = std::min(k, n);
  std::vector<uint32_t> positions(n);
  std::iota(positions.begin(), positions.end(), 0u);
  DrawStream stream(seed);
  for (uint32_t i = 0; i < k; ++i) {
    const uint32_t j = i + static_cast<uint32_t>(stream.Uniform(n - i));
    std::swap(positions[i], positions[j]);
  }
  positions.resize(k);
  return positions;
}

std::string CanonicalSamplePool(const std::vector<absl::string_view>& usccs) {
  std::string out;
  out.reserve(usccs.size() * 19);
  for (const auto& uscc : usccs) absl::StrAppend(&out, uscc, "\n");
  return out;
}

}  // namespace regsuite::inspection
