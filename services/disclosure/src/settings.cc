#include "settings.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "regsuite/common/dates.h"

namespace regsuite::disclosure {
namespace {

constexpr char kPenaltyPeriodsDefault[] = "2026-04-01:3,12,36;1970-01-01:36,36,36";
constexpr char kFeeRulesDefault[] = "2021-01-01:10,30,10,10000";
constexpr char kReviewCategoriesDefault[] = "POLICY_DOCUMENT,OTHER";

absl::Status KeyError(absl::string_view key, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(key, ": ", rule));
}

// "<date>:<n>,<n>,..." entries separated by ';', newest first after sorting.
absl::StatusOr<std::vector<std::pair<absl::CivilDay, std::vector<int64_t>>>> ParseDated(
    absl::string_view key, absl::string_view text, size_t arity) {
  std::vector<std::pair<absl::CivilDay, std::vector<int64_t>>> out;
  for (absl::string_view entry : absl::StrSplit(text, ';', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> parts = absl::StrSplit(entry, ':');
    auto day = common::ParseDate(absl::StripAsciiWhitespace(parts.first));
    if (!day.ok()) return KeyError(key, day.status().message());
    std::vector<int64_t> numbers;
    for (absl::string_view n : absl::StrSplit(parts.second, ',')) {
      int64_t v = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(n), &v) || v < 0) {
        return KeyError(key, absl::StrCat("'", n, "' is not a non-negative number"));
      }
      numbers.push_back(v);
    }
    if (numbers.size() != arity) {
      return KeyError(key, absl::StrCat("each entry needs ", arity, " numbers after the date"));
    }
    out.emplace_back(*day, std::move(numbers));
  }
  if (out.empty()) return KeyError(key, "at least one dated entry is required");
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  return out;
}

}  // namespace

absl::StatusOr<std::vector<PenaltyPeriodRule>> ParsePenaltyPeriods(absl::string_view text) {
  auto dated = ParseDated("disclosure.penalty_publication_months", text, 3);
  if (!dated.ok()) return dated.status();
  std::vector<PenaltyPeriodRule> rules;
  for (const auto& [day, n] : *dated) {
    rules.push_back({day, static_cast<int>(n[0]), static_cast<int>(n[1]), static_cast<int>(n[2])});
  }
  return rules;
}

absl::StatusOr<std::vector<FeeRule>> ParseFeeRules(absl::string_view text) {
  auto dated = ParseDated("disclosure.request_fee_rules", text, 4);
  if (!dated.ok()) return dated.status();
  std::vector<FeeRule> rules;
  for (const auto& [day, n] : *dated) {
    if (n[2] == 0) return KeyError("disclosure.request_fee_rules", "step must be positive");
    rules.push_back(
        {day, static_cast<int>(n[0]), static_cast<int>(n[1]), static_cast<int>(n[2]), n[3]});
  }
  return rules;
}

absl::StatusOr<absl::flat_hash_set<int>> ParseCategories(absl::string_view text) {
  absl::flat_hash_set<int> out;
  for (absl::string_view name : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::string full(absl::StripAsciiWhitespace(name));
    if (!absl::StartsWith(full, "RECORD_CATEGORY_")) full = absl::StrCat("RECORD_CATEGORY_", full);
    v1::RecordCategory category;
    if (!v1::RecordCategory_Parse(full, &category) || category == v1::RECORD_CATEGORY_UNSPECIFIED) {
      return KeyError("disclosure.review_categories",
                      absl::StrCat("unknown category '", name, "'"));
    }
    out.insert(category);
  }
  return out;
}

DisclosureSettings DisclosureSettings::Defaults() {
  DisclosureSettings s;
  s.penalty_periods = *ParsePenaltyPeriods(kPenaltyPeriodsDefault);
  s.fee_rules = *ParseFeeRules(kFeeRulesDefault);
  s.review_categories = *ParseCategories(kReviewCategoriesDefault);
  return s;
}

void AddDisclosureConfigKeys(common::ConfigSchema& schema) {
  using common::ConfigType;
  schema
      .Add("disclosure.agency_code", ConfigType::kString, "AGENCY",
           "Agency code in front of every index number (索引号): <code>/<year>-<5-digit seq>")
      .Add("disclosure.agency_name", ConfigType::kString, "应急管理局",
           "Agency name shown on the annual report")
      .Add("disclosure.review_categories", ConfigType::kString, kReviewCategoriesDefault,
           "Record categories that wait for a manual confidentiality review (保密审查)")
      .Add("disclosure.penalty_publication_months", ConfigType::kString, kPenaltyPeriodsDefault,
           "Penalty publication periods by decision date: '<from>:<minor>,<general>,<serious>' "
           "months; ';'-separated rules (36号令 from 2026-04-01, 58号令 before)")
      .Add("disclosure.decision_publication_wd", ConfigType::kInt, "7",
           "Licensing and penalty decisions are published within this many WD (双公示)")
      .Add("disclosure.proactive_publication_wd", ConfigType::kInt, "20",
           "Other proactive information within this many WD (条例 Art 26)")
      .Add(
          "disclosure.withdrawal_wd", ConfigType::kInt, "3",
          "Withdraw a publication within this many WD of the decision's change (行政处罚法 Art 48)")
      .Add("disclosure.overdue_warning_wd", ConfigType::kInt, "2",
           "ListOverdue also lists items due within this many WD")
      .Add("disclosure.search_window", ConfigType::kInt, "4000",
           "A text search reads this many of the newest matching-filter records in publication "
           "order before it uses the bigram index (larger: faster common words, slower rare ones)")
      .Add("disclosure.request_reply_wd", ConfigType::kInt, "20",
           "Reply to an information request within this many WD (条例 Art 33)")
      .Add("disclosure.request_correction_wd", ConfigType::kInt, "7",
           "Ask for a correction (补正) within this many WD of receipt (条例 Art 30)")
      .Add("disclosure.applicant_correction_wd", ConfigType::kInt, "15",
           "WD the applicant has to supply the correction before the request closes (逾期不补正)")
      .Add("disclosure.max_extension_wd", ConfigType::kInt, "20",
           "Longest extension of the reply time (条例 Art 33)")
      .Add("disclosure.consultation_wd", ConfigType::kInt, "15",
           "WD a consulted third party has to answer (条例 Art 32)")
      .Add("disclosure.request_fee_rules", ConfigType::kString, kFeeRulesDefault,
           "Fees for excessive requests by date: '<from>:<free per month>,<first tier max>,"
           "<step>,<fee fen>' (国办函〔2020〕109号)")
      .Add("disclosure.expiry_job_enabled", ConfigType::kBool, "true",
           "Run the publication expiry / lapsed-correction sweep in this replica")
      .Add("disclosure.expiry_job_interval", ConfigType::kDuration, "1h",
           "How often the sweep runs (it is safe with several replicas)");
}

absl::StatusOr<DisclosureSettings> ReadDisclosureSettings(const common::Config& config) {
  DisclosureSettings s;
  s.agency_code = config.GetString("disclosure.agency_code");
  if (s.agency_code.empty() || s.agency_code.find('/') != std::string::npos) {
    return KeyError("disclosure.agency_code", "must be non-empty and contain no '/'");
  }
  s.agency_name = config.GetString("disclosure.agency_name");
  auto categories = ParseCategories(config.GetString("disclosure.review_categories"));
  if (!categories.ok()) return categories.status();
  s.review_categories = *categories;
  auto periods = ParsePenaltyPeriods(config.GetString("disclosure.penalty_publication_months"));
  if (!periods.ok()) return periods.status();
  s.penalty_periods = *periods;
  auto fees = ParseFeeRules(config.GetString("disclosure.request_fee_rules"));
  if (!fees.ok()) return fees.status();
  s.fee_rules = *fees;
  struct IntKey {
    const char* key;
    int* field;
  };
  for (auto [key, field] :
       {IntKey{"disclosure.decision_publication_wd", &s.decision_publication_wd},
        IntKey{"disclosure.proactive_publication_wd", &s.proactive_publication_wd},
        IntKey{"disclosure.withdrawal_wd", &s.withdrawal_wd},
        IntKey{"disclosure.overdue_warning_wd", &s.overdue_warning_wd},
        IntKey{"disclosure.request_reply_wd", &s.request_reply_wd},
        IntKey{"disclosure.request_correction_wd", &s.request_correction_wd},
        IntKey{"disclosure.applicant_correction_wd", &s.applicant_correction_wd},
        IntKey{"disclosure.max_extension_wd", &s.max_extension_wd},
        IntKey{"disclosure.consultation_wd", &s.consultation_wd}}) {
    int64_t v = config.GetInt(key);
    if (v < 0 || v > 1000) return KeyError(key, "must be between 0 and 1000");
    *field = static_cast<int>(v);
  }
  s.search_window = static_cast<int>(config.GetInt("disclosure.search_window"));
  if (s.search_window < 1 || s.search_window > 1000000) {
    return KeyError("disclosure.search_window", "must be between 1 and 1000000");
  }
  s.expiry_job_enabled = config.GetBool("disclosure.expiry_job_enabled");
  s.expiry_job_interval = config.GetDuration("disclosure.expiry_job_interval");
  if (s.expiry_job_interval < absl::Seconds(1)) {
    return KeyError("disclosure.expiry_job_interval", "must be at least 1s");
  }
  return s;
}

}  // namespace regsuite::disclosure
