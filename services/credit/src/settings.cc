#include "settings.h"

#include "absl/strings/str_cat.h"
#include "regsuite/common/dates.h"

namespace regsuite::credit {
namespace {

using common::ConfigType;

struct IntKey {
  const char* name;
  const char* default_value;
  const char* description;
};

constexpr IntKey kIntKeys[] = {
    {"credit.objection_period_wd", "5",
     "statement/objection period (陈述申辩) in working days after the notice"},
    {"credit.black_list_months", "36", "management period of a black listing in months"},
    {"credit.red_list_months", "36", "validity of a red listing in months"},
    {"credit.repair_min_listed_months", "12",
     "months on the black list before a repair may be applied for"},
    {"credit.repair_decision_wd", "3", "working days to decide a repair application"},
    {"credit.larger_accident_window_months", "12",
     "window in which 2 较大 accidents are a black-list situation"},
    {"credit.grade_lookback_months", "36", "records older than this do not count for the grade"},
    {"credit.grade_weight_minor", "5", "score deducted per minor dishonesty record"},
    {"credit.grade_weight_general", "10", "score deducted per general record or 一般 accident"},
    {"credit.grade_weight_serious", "20", "score deducted per serious record"},
    {"credit.grade_weight_larger_accident", "20", "score deducted per 较大 accident"},
    {"credit.grade_weight_major_accident", "40", "score deducted per 重大/特别重大 accident"},
    {"credit.grade_weight_false_commitment", "15", "score deducted per false 告知承诺"},
    {"credit.grade_weight_severe_situation", "40",
     "score deducted per other black-list situation record"},
    {"credit.grade_bonus_award", "5", "score added per award"},
    {"credit.grade_bonus_standardisation", "10", "score added for 安全生产标准化 grade 1-2"},
    {"credit.grade_threshold_a", "90", "lowest score graded A"},
    {"credit.grade_threshold_b", "75", "lowest score graded B"},
    {"credit.grade_threshold_c", "60", "lowest score graded C (below: D)"},
};

}  // namespace

void AddCreditConfigKeys(common::ConfigSchema& schema) {
  for (const auto& key : kIntKeys) {
    schema.Add(key.name, ConfigType::kInt, key.default_value, key.description);
  }
  schema.Add("credit.grade_rule_version", ConfigType::kString, "2026-01-01",
             "effective-from date of the grading rules (reported with each grade)");
  schema.Add("credit.cache_ttl", ConfigType::kDuration, "600s",
             "lifetime of a cached CheckSubject answer (entries are also invalidated on change)");
  schema.Add("credit.expiry_interval", ConfigType::kDuration, "3600s",
             "how often this replica runs the expiry job; 0s disables it");
  schema.Add("credit.local_cache_enabled", ConfigType::kBool, "true",
             "answer cached CheckSubject calls from an in-process cache in front of Redis (used "
             "only while subscribed to the invalidation channel)");
  schema.Add("credit.local_cache_max_entries", ConfigType::kInt, "1000000",
             "bound of the in-process cache; a full shard (1/64 of it) is emptied to make room");
  schema.Add("credit.local_cache_ack_timeout", ConfigType::kDuration, "200ms",
             "how long a change waits for every replica to drop its in-process entries (then "
             "it is logged, counted and returned anyway)");
}

absl::StatusOr<CreditSettings> ReadCreditSettings(const common::Config& config) {
  CreditSettings s;
  auto get = [&](const char* key, int* out, int min) -> absl::Status {
    const int64_t value = config.GetInt(key);
    if (value < min || value > 1000) {
      return absl::InvalidArgumentError(absl::StrCat(key, ": must be between ", min, " and 1000"));
    }
    *out = static_cast<int>(value);
    return absl::OkStatus();
  };
  ProcedureSettings& p = s.procedure;
  GradeSettings& g = s.grade;
  for (auto [key, out, min] : std::initializer_list<std::tuple<const char*, int*, int>>{
           {"credit.objection_period_wd", &p.objection_period_wd, 0},
           {"credit.black_list_months", &p.black_list_months, 1},
           {"credit.red_list_months", &p.red_list_months, 1},
           {"credit.repair_min_listed_months", &p.repair_min_listed_months, 0},
           {"credit.repair_decision_wd", &p.repair_decision_wd, 1},
           {"credit.larger_accident_window_months", &p.larger_accident_window_months, 1},
           {"credit.grade_lookback_months", &g.lookback_months, 1},
           {"credit.grade_weight_minor", &g.minor, 0},
           {"credit.grade_weight_general", &g.general, 0},
           {"credit.grade_weight_serious", &g.serious, 0},
           {"credit.grade_weight_larger_accident", &g.larger_accident, 0},
           {"credit.grade_weight_major_accident", &g.major_accident, 0},
           {"credit.grade_weight_false_commitment", &g.false_commitment, 0},
           {"credit.grade_weight_severe_situation", &g.severe_situation, 0},
           {"credit.grade_bonus_award", &g.award_bonus, 0},
           {"credit.grade_bonus_standardisation", &g.standardisation_bonus, 0},
           {"credit.grade_threshold_a", &g.threshold_a, 0},
           {"credit.grade_threshold_b", &g.threshold_b, 0},
           {"credit.grade_threshold_c", &g.threshold_c, 0},
       }) {
    if (auto st = get(key, out, min); !st.ok()) return st;
  }
  if (!(g.threshold_a >= g.threshold_b && g.threshold_b >= g.threshold_c)) {
    return absl::InvalidArgumentError(
        "credit.grade_threshold_a: thresholds must satisfy a >= b >= c");
  }
  g.rule_version = config.GetString("credit.grade_rule_version");
  if (!common::ParseDate(g.rule_version).ok()) {
    return absl::InvalidArgumentError("credit.grade_rule_version: must be a YYYY-MM-DD date");
  }
  s.cache_ttl = config.GetDuration("credit.cache_ttl");
  if (s.cache_ttl < absl::Seconds(1)) {
    return absl::InvalidArgumentError("credit.cache_ttl: must be at least 1s");
  }
  s.expiry_interval = config.GetDuration("credit.expiry_interval");
  s.local_cache_enabled = config.GetBool("credit.local_cache_enabled");
  s.local_cache_max_entries = config.GetInt("credit.local_cache_max_entries");
  if (s.local_cache_max_entries < 1 || s.local_cache_max_entries > 100'000'000) {
    return absl::InvalidArgumentError(
        "credit.local_cache_max_entries: must be between 1 and 100000000");
  }
  s.local_cache_ack_timeout = config.GetDuration("credit.local_cache_ack_timeout");
  if (s.local_cache_ack_timeout < absl::Milliseconds(1) ||
      s.local_cache_ack_timeout > absl::Seconds(10)) {
    return absl::InvalidArgumentError(
        "credit.local_cache_ack_timeout: must be between 1ms and 10s");
  }
  return s;
}

}  // namespace regsuite::credit
