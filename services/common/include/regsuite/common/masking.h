#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace regsuite::common {

// Display masking (脱敏) of personal data before anything is published or logged. Inputs
// are UTF-8; surrounding ASCII whitespace is dropped; masks count code points, not bytes;
// invalid UTF-8 bytes are shown as U+FFFD. When an input is too short to keep its ends
// visible, everything is masked rather than revealed.

/// Keeps the first `keep_first` and last `keep_last` code points, one '*' per other one:
/// MaskMiddle("330106199001011234", 4, 4) == "3301**********1234".
std::string MaskMiddle(absl::string_view text, int keep_first, int keep_last);

/// Keeps the first `keep_first` and last `keep_last` ASCII digits; masks the other digits
/// and leaves every non-digit (spaces, '-') in place: "6222 0212 3456 7890", 4, 4 ->
/// "6222 **** **** 7890".
std::string MaskDigits(absl::string_view text, int keep_first, int keep_last);

/// Resident ID number: first 4 and last 4 kept: "3301**********1234".
std::string MaskPersonalId(absl::string_view id);

/// Mobile number: first 3 and last 4 digits kept: "138****5678". A leading "+86" or "0086"
/// country code is kept as it is.
std::string MaskMobile(absl::string_view number);

/// Landline: the area code (a leading 0-group followed by '-', ' ' or ')'; else the first 3
/// digits when the number starts with 0) and the last 4 digits kept: "0571-****4321".
std::string MaskLandline(absl::string_view number);

/// Bank card or account number: first 4 and last 4 digits kept: "6222********7890".
std::string MaskBankCard(absl::string_view number);

/// E-mail: the first character of the local part, then "***", then the domain:
/// "zhangsan@example.com" -> "z***@example.com".
std::string MaskEmail(absl::string_view email);

/// Person's name: the first character (the surname, usually) kept, one '*' per other
/// character: "张三" -> "张*", "欧阳娜娜" -> "欧***". A one-character name becomes "*".
std::string MaskPersonName(absl::string_view name);

}  // namespace regsuite::common
