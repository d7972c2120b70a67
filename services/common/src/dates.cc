#include "regsuite/common/dates.h"

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace regsuite::common {
namespace {

constexpr size_t kMaxEchoedLength = 32;

// Quotes untrusted input for an error message: escaped and cut short.
std::string Quoted(absl::string_view text) {
  if (text.size() > kMaxEchoedLength) {
    return absl::StrCat("'", absl::CHexEscape(text.substr(0, kMaxEchoedLength)), "...'");
  }
  return absl::StrCat("'", absl::CHexEscape(text), "'");
}

int DigitsValue(absl::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

}  // namespace

absl::StatusOr<absl::CivilDay> ParseDate(absl::string_view yyyy_mm_dd) {
  const absl::string_view s = yyyy_mm_dd;
  bool well_formed = s.size() == 10 && s[4] == '-' && s[7] == '-';
  for (size_t i = 0; well_formed && i < s.size(); ++i) {
    if (i != 4 && i != 7 && !absl::ascii_isdigit(static_cast<unsigned char>(s[i]))) {
      well_formed = false;
    }
  }
  if (!well_formed) {
    return absl::InvalidArgumentError(
        absl::StrCat("date: ", Quoted(s), " must have the form YYYY-MM-DD"));
  }
  const int year = DigitsValue(s.substr(0, 4));
  const int month = DigitsValue(s.substr(5, 2));
  const int day = DigitsValue(s.substr(8, 2));
  // CivilDay normalises out-of-range fields (02-30 -> 03-02); a round trip detects that.
  const absl::CivilDay civil(year, month, day);
  if (civil.year() != year || civil.month() != month || civil.day() != day) {
    return absl::InvalidArgumentError(
        absl::StrCat("date: ", Quoted(s), " is not a valid calendar date"));
  }
  return civil;
}

std::string FormatDate(absl::CivilDay day) {
  return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
}

}  // namespace regsuite::common
