#include "regsuite/common/identifiers.h"

#include <array>
#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/masking.h"

namespace regsuite::common {
namespace {

// GB 32100: the value of a character is its index here (I, O, S, V, Z are never used).
constexpr absl::string_view kUsccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr int kUsccLength = 18;
constexpr int kUsccModulus = 31;
// 3^(i-1) mod 31 for positions 1-17.
constexpr std::array<int, 17> kUsccWeights = {1,  3,  9,  27, 19, 26, 16, 17, 20,
                                              29, 25, 13, 8,  24, 10, 30, 28};
// GB 11714 organisation code: weights of its first 8 characters.
constexpr std::array<int, 8> kOrganisationWeights = {3, 7, 9, 10, 5, 8, 4, 2};

// GB 11643 / ISO 7064 MOD 11-2: weights 2^(18-i) mod 11 for positions 1-17.
constexpr std::array<int, 17> kPersonalIdWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                    3, 7, 9,  10, 5, 8, 4, 2};
constexpr std::array<char, 11> kPersonalIdCheck = {'1', '0', 'X', '9', '8', '7',
                                                   '6', '5', '4', '3', '2'};
constexpr int kPersonalIdLength = 18;
constexpr int kMinBirthYear = 1800;

int UsccValue(char c) {
  const size_t index = kUsccCharset.find(c);
  return index == absl::string_view::npos ? -1 : static_cast<int>(index);
}

// GB 11714 value: digits 0-9, letters A=10 ... Z=35.
int OrganisationValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
  return -1;
}

bool AllDigits(absl::string_view text) {
  for (char c : text) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

int DigitsValue(absl::string_view digits) {
  int value = 0;
  for (char c : digits) value = value * 10 + (c - '0');
  return value;
}

absl::Status UsccError(absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("uscc: ", rule));
}

absl::Status PersonalIdError(absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("personal id: ", rule));
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Uscc

char Uscc::ComputeCheckCharacter(absl::string_view first17) {
  if (first17.size() != kUsccWeights.size()) return '\0';
  int sum = 0;
  for (size_t i = 0; i < first17.size(); ++i) {
    const int value = UsccValue(first17[i]);
    if (value < 0) return '\0';
    sum += value * kUsccWeights[i];
  }
  const int check = (kUsccModulus - sum % kUsccModulus) % kUsccModulus;  // 31 -> 0
  return kUsccCharset[check];
}

char Uscc::ComputeOrganisationCheckCharacter(absl::string_view first8) {
  if (first8.size() != kOrganisationWeights.size()) return '\0';
  int sum = 0;
  for (size_t i = 0; i < first8.size(); ++i) {
    const int value = OrganisationValue(first8[i]);
    if (value < 0) return '\0';
    sum += value * kOrganisationWeights[i];
  }
  const int check = 11 - sum % 11;
  if (check == 10) return 'X';
  if (check == 11) return '0';
  return static_cast<char>('0' + check);
}

absl::StatusOr<Uscc> Uscc::Parse(absl::string_view text) {
  std::string code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(text));
  if (code.size() != kUsccLength) return UsccError("must be 18 characters");
  for (size_t i = 0; i < code.size(); ++i) {
    if (UsccValue(code[i]) < 0) {
      return UsccError(absl::StrCat("character '", absl::CHexEscape(code.substr(i, 1)),
                                    "' at position ", i + 1, " is not allowed"));
    }
  }
  const absl::string_view view = code;
  if (ComputeCheckCharacter(view.substr(0, 17)) != code[17]) {
    return UsccError("check character mismatch");
  }
  if (ComputeOrganisationCheckCharacter(view.substr(8, 8)) != code[16]) {
    return UsccError("organisation code check character mismatch");
  }
  return Uscc(std::move(code));
}

bool IsValidUscc(absl::string_view text) { return Uscc::Parse(text).ok(); }

// ---------------------------------------------------------------------------------------
// PersonalId

char PersonalId::ComputeCheckCharacter(absl::string_view first17) {
  if (first17.size() != kPersonalIdWeights.size() || !AllDigits(first17)) return '\0';
  int sum = 0;
  for (size_t i = 0; i < first17.size(); ++i) sum += (first17[i] - '0') * kPersonalIdWeights[i];
  return kPersonalIdCheck[sum % 11];
}

absl::StatusOr<PersonalId> PersonalId::Parse(absl::string_view text) {
  std::string number(absl::StripAsciiWhitespace(text));
  if (number.size() != kPersonalIdLength) return PersonalIdError("must be 18 characters");
  if (number[17] == 'x') number[17] = 'X';
  const absl::string_view view = number;
  if (!AllDigits(view.substr(0, 17))) {
    return PersonalIdError("characters 1-17 must be digits");
  }
  if (!AllDigits(view.substr(17, 1)) && number[17] != 'X') {
    return PersonalIdError("check character must be a digit or X");
  }
  const int year = DigitsValue(view.substr(6, 4));
  const int month = DigitsValue(view.substr(10, 2));
  const int day = DigitsValue(view.substr(12, 2));
  const absl::CivilDay birth_date(year, month, day);
  if (year < kMinBirthYear || birth_date.year() != year || birth_date.month() != month ||
      birth_date.day() != day) {
    return PersonalIdError("birth date in characters 7-14 is not a valid date");
  }
  if (ComputeCheckCharacter(view.substr(0, 17)) != number[17]) {
    return PersonalIdError("check character mismatch");
  }
  return PersonalId(std::move(number), birth_date);
}

std::string PersonalId::Masked() const { return MaskPersonalId(number_); }

bool IsValidPersonalIdNumber(absl::string_view text) { return PersonalId::Parse(text).ok(); }

}  // namespace regsuite::common
