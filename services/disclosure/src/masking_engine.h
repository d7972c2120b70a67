#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace regsuite::disclosure {

/// What the desensitisation engine found and masked in one text (for the review record).
struct MaskingFinding {
  enum class Kind { kPersonalId, kMobile, kLandline, kBankCard, kEmail, kPersonName };
  Kind kind;
  size_t offset = 0;  // byte offset in the original text
  size_t length = 0;  // bytes replaced
};

/// Desensitisation (脱敏, 政府信息公开条例 Art 15/17): finds personal data in free text and
/// masks it with regsuite/common masking.h. A candidate must be a whole number token (not
/// glued to ASCII letters or other digits) and pass its own validation, so ordinary numbers
/// (order numbers, amounts, dates, decision numbers) stay as they are:
///   - resident ID numbers: 18 characters with a valid GB 11643 check character and birth date;
///   - mobile numbers: 11 digits starting 13-19 (optionally +86 / 0086 in front);
///   - landlines: a 0-area code (3-4 digits) then '-', ' ' or ')' then 7-8 digits;
///   - bank cards: 16-19 digits (groups separated by spaces or '-'), first digit 3-6, Luhn;
///   - e-mail addresses;
///   - the given natural persons' names, wherever they occur.
class PersonalDataMasker {
 public:
  PersonalDataMasker() = default;
  /// Names of natural persons to mask wherever they occur (e.g. the party of a penalty).
  explicit PersonalDataMasker(std::vector<std::string> person_names);

  /// The masked text; `findings` (optional) receives what was masked.
  std::string Mask(absl::string_view text, std::vector<MaskingFinding>* findings = nullptr) const;

 private:
  std::vector<std::string> person_names_;
};

/// Luhn (ISO/IEC 7812) check over a string of ASCII digits.
bool PassesLuhn(absl::string_view digits);

}  // namespace regsuite::disclosure
