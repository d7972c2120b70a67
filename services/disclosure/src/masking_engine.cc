#include "masking_engine.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/masking.h"

namespace regsuite::disclosure {
namespace {

using common::MaskDigits;

struct Replacement {
  size_t begin;
  size_t end;
  std::string text;
  MaskingFinding::Kind kind;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }
bool IsEmailLocalChar(char c) {
  return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsEmailDomainChar(char c) { return IsAsciiAlnum(c) || c == '.' || c == '-'; }

std::string DigitsOf(absl::string_view s) {
  std::string out;
  for (char c : s) {
    if (IsDigit(c)) out.push_back(c);
  }
  return out;
}

void FindEmails(absl::string_view text, std::vector<Replacement>& out) {
  for (size_t at = text.find('@'); at != absl::string_view::npos; at = text.find('@', at + 1)) {
    size_t begin = at;
    while (begin > 0 && IsEmailLocalChar(text[begin - 1])) --begin;
    size_t end = at + 1;
    while (end < text.size() && IsEmailDomainChar(text[end])) ++end;
    while (end > at + 1 && (text[end - 1] == '.' || text[end - 1] == '-')) --end;
    if (begin == at || end == at + 1) continue;
    absl::string_view domain = text.substr(at + 1, end - at - 1);
    size_t dot = domain.rfind('.');
    if (dot == absl::string_view::npos || dot == 0 || domain.size() - dot - 1 < 2) continue;
    bool tld_alpha = std::all_of(domain.begin() + dot + 1, domain.end(), [](char c) {
      return absl::ascii_isalpha(static_cast<unsigned char>(c));
    });
    if (!tld_alpha) continue;
    absl::string_view email = text.substr(begin, end - begin);
    out.push_back({begin, end, common::MaskEmail(email), MaskingFinding::Kind::kEmail});
  }
}

// One separator-free digit run (plus a trailing X for an ID number).
std::optional<Replacement> ClassifyRun(absl::string_view run, size_t begin) {
  const size_t end = begin + run.size();
  if (run.size() == 18 && common::IsValidPersonalIdNumber(run)) {
    return Replacement{begin, end, common::MaskPersonalId(run), MaskingFinding::Kind::kPersonalId};
  }
  if (run.size() == 11 && run[0] == '1' && run[1] >= '3' && run[1] <= '9' &&
      std::all_of(run.begin(), run.end(), IsDigit)) {
    return Replacement{begin, end, common::MaskMobile(run), MaskingFinding::Kind::kMobile};
  }
  if (run.size() >= 16 && run.size() <= 19 && run[0] >= '3' && run[0] <= '6' &&
      std::all_of(run.begin(), run.end(), IsDigit) && PassesLuhn(run)) {
    return Replacement{begin, end, common::MaskBankCard(run), MaskingFinding::Kind::kBankCard};
  }
  return std::nullopt;
}

// A number token: digit groups joined by single ' ' or '-' (and ')' after an area code),
// not glued to ASCII letters or digits on either side.
void FindNumbers(absl::string_view text, const std::vector<Replacement>& taken,
                 std::vector<Replacement>& out) {
  auto inside_taken = [&](size_t pos) {
    for (const auto& r : taken) {
      if (pos >= r.begin && pos < r.end) return true;
    }
    return false;
  };
  size_t i = 0;
  while (i < text.size()) {
    bool area_paren = text[i] == '(' && i + 1 < text.size() && text[i + 1] == '0';
    if (!(IsDigit(text[i]) || area_paren) || inside_taken(i) ||
        (i > 0 && (IsAsciiAlnum(text[i - 1])))) {
      ++i;
      continue;
    }
    // Collect groups.
    size_t begin = i;
    std::vector<std::pair<size_t, size_t>> groups;  // [b, e) of each digit group
    size_t j = area_paren ? i + 1 : i;
    while (true) {
      size_t gb = j;
      while (j < text.size() && IsDigit(text[j])) ++j;
      // A trailing X/x closes an ID number.
      if (j < text.size() && (text[j] == 'X' || text[j] == 'x') && j - gb == 17) ++j;
      groups.emplace_back(gb, j);
      if (j + 1 < text.size() && (text[j] == ' ' || text[j] == '-' || text[j] == ')') &&
          IsDigit(text[j + 1]) && !(text[j] == ')' && !area_paren)) {
        ++j;
        continue;
      }
      break;
    }
    size_t end = j;
    bool glued_after = end < text.size() && IsAsciiAlnum(text[end]);
    if (glued_after) {
      // Skip the whole alphanumeric token: it is a code, not personal data.
      while (end < text.size() && IsAsciiAlnum(text[end])) ++end;
      i = end;
      continue;
    }
    absl::string_view token = text.substr(begin, end - begin);
    std::string digits = DigitsOf(token);
    bool matched = false;
    if (groups.size() == 1 && !area_paren) {
      auto r = ClassifyRun(token, begin);
      if (r) {
        out.push_back(std::move(*r));
        matched = true;
      }
    } else {
      size_t first_len = groups[0].second - groups[0].first;
      size_t rest = digits.size() - first_len;
      if (groups.size() == 2 && text[groups[0].first] == '0' && first_len >= 3 && first_len <= 4 &&
          rest >= 7 && rest <= 8) {
        out.push_back({begin, end, common::MaskLandline(token), MaskingFinding::Kind::kLandline});
        matched = true;
      } else if (!area_paren && digits.size() >= 16 && digits.size() <= 19 && digits[0] >= '3' &&
                 digits[0] <= '6' && PassesLuhn(digits)) {
        out.push_back({begin, end, MaskDigits(token, 4, 4), MaskingFinding::Kind::kBankCard});
        matched = true;
      } else if (!area_paren && digits.size() == 11 && digits[0] == '1' && digits[1] >= '3') {
        out.push_back({begin, end, MaskDigits(token, 3, 4), MaskingFinding::Kind::kMobile});
        matched = true;
      }
    }
    if (!matched && groups.size() > 1) {
      // Not one number as a whole: judge each group on its own ("电话 13812345678 1234").
      for (const auto& [gb, ge] : groups) {
        auto r = ClassifyRun(text.substr(gb, ge - gb), gb);
        if (r) out.push_back(std::move(*r));
      }
    }
    i = end;
  }
}

void FindNames(absl::string_view text, const std::vector<std::string>& names,
               const std::vector<Replacement>& taken, std::vector<Replacement>& out) {
  for (const auto& name : names) {
    if (name.empty()) continue;
    std::string masked = common::MaskPersonName(name);
    for (size_t at = text.find(name); at != absl::string_view::npos;
         at = text.find(name, at + name.size())) {
      bool overlaps = false;
      for (const auto& r : taken) {
        if (at < r.end && at + name.size() > r.begin) overlaps = true;
      }
      for (const auto& r : out) {
        if (at < r.end && at + name.size() > r.begin) overlaps = true;
      }
      if (!overlaps)
        out.push_back({at, at + name.size(), masked, MaskingFinding::Kind::kPersonName});
    }
  }
}

}  // namespace

bool PassesLuhn(absl::string_view digits) {
  if (digits.empty()) return false;
  int sum = 0;
  bool doubled = false;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (!IsDigit(*it)) return false;
    int d = *it - '0';
    if (doubled) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    doubled = !doubled;
  }
  return sum % 10 == 0;
}

PersonalDataMasker::PersonalDataMasker(std::vector<std::string> person_names) {
  for (auto& name : person_names) {
    std::string trimmed(absl::StripAsciiWhitespace(name));
    if (!trimmed.empty()) person_names_.push_back(std::move(trimmed));
  }
  // Longer names first so "欧阳娜娜" wins over "欧阳".
  std::sort(person_names_.begin(), person_names_.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string PersonalDataMasker::Mask(absl::string_view text,
                                     std::vector<MaskingFinding>* findings) const {
  std::vector<Replacement> emails;
  FindEmails(text, emails);
  std::vector<Replacement> all = emails;
  FindNumbers(text, emails, all);
  std::vector<Replacement> names;
  FindNames(text, person_names_, all, names);
  all.insert(all.end(), names.begin(), names.end());
  std::sort(all.begin(), all.end(),
            [](const Replacement& a, const Replacement& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (const auto& r : all) {
    if (r.begin < pos) continue;  // overlapping finding; the earlier one stands
    out.append(text.data() + pos, r.begin - pos);
    out.append(r.text);
    pos = r.end;
    if (findings != nullptr) findings->push_back({r.kind, r.begin, r.end - r.begin});
  }
  out.append(text.data() + pos, text.size() - pos);
  return out;
}

}  // namespace regsuite::disclosure
