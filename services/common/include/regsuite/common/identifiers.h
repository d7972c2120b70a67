#pragma once

#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace regsuite::common {

/// Unified social credit code (统一社会信用代码, GB 32100-2015), validated: 18 characters
/// from `0123456789ABCDEFGHJKLMNPQRTUWXY`, its GB 32100 check character and the GB 11714
/// check character of the embedded organisation code.
class Uscc {
 public:
  /// Trims surrounding whitespace and upper-cases. INVALID_ARGUMENT, one message per rule:
  /// "uscc: must be 18 characters", "uscc: character 'O' at position 5 is not allowed",
  /// "uscc: check character mismatch", "uscc: organisation code check character mismatch".
  static absl::StatusOr<Uscc> Parse(absl::string_view text);

  /// The GB 32100 check character for the first 17 characters (upper case, from the
  /// charset), or '\0' when `first17` is not 17 such characters.
  static char ComputeCheckCharacter(absl::string_view first17);

  /// The GB 11714 check character ('0'-'9' or 'X') for the first 8 characters of an
  /// organisation code (digits or upper-case letters), or '\0' when the input is not that.
  static char ComputeOrganisationCheckCharacter(absl::string_view first8);

  /// The normalised 18 characters.
  const std::string& str() const { return code_; }
  /// Character 1: registration authority (登记管理部门), e.g. '9' = market regulation.
  char registry_department() const { return code_[0]; }
  /// Character 2: organisation category (机构类别).
  char organisation_category() const { return code_[1]; }
  /// Characters 3-8: administrative region code (登记管理机关行政区划码).
  absl::string_view region_code() const { return absl::string_view(code_).substr(2, 6); }
  /// Characters 9-17: organisation code (主体标识码, GB 11714) including its check character.
  absl::string_view organisation_code() const { return absl::string_view(code_).substr(8, 9); }
  /// Character 18.
  char check_character() const { return code_[17]; }

  friend bool operator==(const Uscc& a, const Uscc& b) { return a.code_ == b.code_; }
  friend bool operator<(const Uscc& a, const Uscc& b) { return a.code_ < b.code_; }
  template <typename H>
  friend H AbslHashValue(H h, const Uscc& uscc) {
    return H::combine(std::move(h), uscc.code_);
  }

 private:
  explicit Uscc(std::string code) : code_(std::move(code)) {}

  std::string code_;
};

/// Whether `text` parses as a Uscc.
bool IsValidUscc(absl::string_view text);

/// Resident identity card number (居民身份证号, GB 11643-1999), validated: 17 digits plus a
/// check character (digit or 'X', ISO 7064 MOD 11-2) and a real birth date in characters
/// 7-14. Personal data: show it only through Masked(); error messages never echo it.
class PersonalId {
 public:
  /// Trims surrounding whitespace; a lower-case 'x' check character becomes 'X'.
  static absl::StatusOr<PersonalId> Parse(absl::string_view text);

  /// The ISO 7064 MOD 11-2 check character ('0'-'9' or 'X') for 17 digits, or '\0' when
  /// `first17` is not 17 digits.
  static char ComputeCheckCharacter(absl::string_view first17);

  /// The full number. Never log or publish it; use Masked().
  const std::string& str() const { return number_; }
  /// Characters 1-6: administrative region code of registration.
  absl::string_view region_code() const { return absl::string_view(number_).substr(0, 6); }
  absl::CivilDay birth_date() const { return birth_date_; }
  /// "3301**********1234": first 4 and last 4 characters.
  std::string Masked() const;

  friend bool operator==(const PersonalId& a, const PersonalId& b) {
    return a.number_ == b.number_;
  }

 private:
  PersonalId(std::string number, absl::CivilDay birth_date)
      : number_(std::move(number)), birth_date_(birth_date) {}

  std::string number_;
  absl::CivilDay birth_date_;
};

/// Whether `text` parses as a PersonalId.
bool IsValidPersonalIdNumber(absl::string_view text);

}  // namespace regsuite::common
