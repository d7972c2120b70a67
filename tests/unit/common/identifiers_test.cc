#include "regsuite/common/identifiers.h"

#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace regsuite::common {
namespace {

// Parse() must fail with INVALID_ARGUMENT and exactly `message`.
void RequireUsccError(const std::string& text, const std::string& message) {
  absl::StatusOr<Uscc> parsed = Uscc::Parse(text);
  INFO("input: " << text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(parsed.status().message() == message);
}

void RequirePersonalIdError(const std::string& text, const std::string& message) {
  absl::StatusOr<PersonalId> parsed = PersonalId::Parse(text);
  INFO("input: " << text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(parsed.status().message() == message);
}

// Builds a code whose GB 32100 check character is right, from 17 given characters.
std::string WithCheckCharacter(const std::string& first17) {
  const char check = Uscc::ComputeCheckCharacter(first17);
  REQUIRE(check != '\0');
  return first17 + check;
}

// --- USCC -----------------------------------------------------------------------------------

TEST_CASE("uscc: the published valid examples parse", "[identifiers]") {
  for (const char* code : {"91350100M000100Y43", "91110000802100433B", "91330100799655058B"}) {
    absl::StatusOr<Uscc> uscc = Uscc::Parse(code);
    INFO(code << ": " << uscc.status());
    REQUIRE(uscc.ok());
    CHECK(uscc->str() == code);
    CHECK(IsValidUscc(code));
  }
}

TEST_CASE("uscc: accessors split department, category, region, organisation code and check",
          "[identifiers]") {
  absl::StatusOr<Uscc> uscc = Uscc::Parse("91350100M000100Y43");
  REQUIRE(uscc.ok());
  CHECK(uscc->registry_department() == '9');
  CHECK(uscc->organisation_category() == '1');
  CHECK(uscc->region_code() == "350100");
  CHECK(uscc->organisation_code() == "M000100Y4");
  CHECK(uscc->check_character() == '3');
}

TEST_CASE("uscc: a wrong check character is rejected as check character mismatch",
          "[identifiers]") {
  RequireUsccError("913100007109242800", "uscc: check character mismatch");
  RequireUsccError("91350100M000100Y44", "uscc: check character mismatch");
  CHECK_FALSE(IsValidUscc("913100007109242800"));
}

TEST_CASE("uscc: lower case and surrounding whitespace are normalised", "[identifiers]") {
  absl::StatusOr<Uscc> uscc = Uscc::Parse("  91350100m000100y43\t");
  INFO(uscc.status());
  REQUIRE(uscc.ok());
  CHECK(uscc->str() == "91350100M000100Y43");
  CHECK(*uscc == *Uscc::Parse("91350100M000100Y43"));
}

TEST_CASE("uscc: must be exactly 18 characters", "[identifiers]") {
  RequireUsccError("", "uscc: must be 18 characters");
  RequireUsccError("91350100M000100Y4", "uscc: must be 18 characters");
  RequireUsccError("91350100M000100Y433", "uscc: must be 18 characters");
  RequireUsccError("9135 0100M000100Y43", "uscc: must be 18 characters");
}

TEST_CASE("uscc: each of the letters I O S V Z is not allowed, named with its position",
          "[identifiers]") {
  for (char letter : {'I', 'O', 'S', 'V', 'Z'}) {
    std::string code = "91350100M000100Y43";
    code[4] = letter;
    RequireUsccError(code,
                     absl::StrFormat("uscc: character '%c' at position 5 is not allowed", letter));
    // Lower case is upper-cased first, so it is reported the same way.
    code[4] = static_cast<char>(letter - 'A' + 'a');
    RequireUsccError(code,
                     absl::StrFormat("uscc: character '%c' at position 5 is not allowed", letter));
  }
  RequireUsccError("91350100M000100Y4-", "uscc: character '-' at position 18 is not allowed");
}

TEST_CASE(
    "uscc: a wrong organisation-code check character is rejected even when the "
    "GB 32100 check character is right",
    "[identifiers]") {
  // 91350100M000100Y43 has organisation check '4' at position 17; use '5' and recompute 18.
  const std::string code = WithCheckCharacter("91350100M000100Y5");
  RequireUsccError(code, "uscc: organisation code check character mismatch");
  const std::string other = WithCheckCharacter("9111000080210043X");
  RequireUsccError(other, "uscc: organisation code check character mismatch");
}

// Independent GB 11714 reference for the next test.
char ReferenceOrganisationCheck(const std::string& first8) {
  constexpr std::array<int, 8> kWeights = {3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (int i = 0; i < 8; ++i) {
    const char c = first8[i];
    sum += (c <= '9' ? c - '0' : c - 'A' + 10) * kWeights[i];
  }
  const int check = 11 - sum % 11;
  return check == 10 ? 'X' : check == 11 ? '0' : static_cast<char>('0' + check);
}

TEST_CASE("uscc: organisation check 10 is written X and 11 is written 0", "[identifiers]") {
  bool saw_x = false;
  bool saw_zero = false;
  for (int i = 0; i < 200; ++i) {
    const std::string first8 = absl::StrFormat("MA%06d", i * 7919 % 1000000);
    const char check = Uscc::ComputeOrganisationCheckCharacter(first8);
    REQUIRE(check == ReferenceOrganisationCheck(first8));
    saw_x = saw_x || check == 'X';
    saw_zero = saw_zero || check == '0';
    // Every code assembled from correct check characters parses.
    const std::string code =
        WithCheckCharacter(absl::StrCat("91330100", first8, std::string(1, check)));
    INFO(code);
    CHECK(Uscc::Parse(code).ok());
  }
  CHECK(saw_x);
  CHECK(saw_zero);
}

TEST_CASE("uscc: a weighted sum divisible by 31 gives check character 0", "[identifiers]") {
  // Only the first character varies: its weight is 1, so exactly one choice of it makes the
  // sum divisible by 31.
  constexpr std::string_view kCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY";
  int zeros = 0;
  for (char first : kCharset) {
    const std::string first17 = std::string(1, first) + "1330100799655058";
    if (Uscc::ComputeCheckCharacter(first17) == '0') ++zeros;
  }
  CHECK(zeros == 1);
  CHECK(Uscc::ComputeCheckCharacter("too short") == '\0');
  CHECK(Uscc::ComputeCheckCharacter("91350100O000100Y4") == '\0');
}

// --- Personal ID ------------------------------------------------------------------------------

TEST_CASE("personal id: a number with a correct ISO 7064 MOD 11-2 check digit parses",
          "[identifiers]") {
  for (const char* number : {"330106199001011213", "440301198510150035", "330106199001011221"}) {
    absl::StatusOr<PersonalId> id = PersonalId::Parse(number);
    INFO(number << ": " << id.status());
    REQUIRE(id.ok());
    CHECK(id->str() == number);
    CHECK(IsValidPersonalIdNumber(number));
  }
  absl::StatusOr<PersonalId> id = PersonalId::Parse("440301198510150035");
  REQUIRE(id.ok());
  CHECK(id->region_code() == "440301");
  CHECK(id->birth_date() == absl::CivilDay(1985, 10, 15));
}

TEST_CASE("personal id: check character X (value 10) is accepted, also in lower case",
          "[identifiers]") {
  CHECK(PersonalId::ComputeCheckCharacter("11010519491231002") == 'X');
  absl::StatusOr<PersonalId> id = PersonalId::Parse("11010519491231002x");
  REQUIRE(id.ok());
  CHECK(id->str() == "11010519491231002X");
  CHECK(IsValidPersonalIdNumber("33010619900101123X"));
}

TEST_CASE("personal id: a wrong check digit is rejected", "[identifiers]") {
  RequirePersonalIdError("330106199001011234", "personal id: check character mismatch");
  RequirePersonalIdError("110105194912310021", "personal id: check character mismatch");
  CHECK_FALSE(IsValidPersonalIdNumber("330106199001011234"));
}

TEST_CASE("personal id: length, digits, check character and birth date rules", "[identifiers]") {
  RequirePersonalIdError("33010619900101121", "personal id: must be 18 characters");
  RequirePersonalIdError("3301061990010112134", "personal id: must be 18 characters");
  RequirePersonalIdError("33010619900101121A", "personal id: check character must be a digit or X");
  RequirePersonalIdError("3301061990O101121X", "personal id: characters 1-17 must be digits");
  // 1990-02-30 does not exist; the check digit is made right so only the date is wrong.
  const std::string bad_date = "33010619900230121";
  RequirePersonalIdError(bad_date + PersonalId::ComputeCheckCharacter(bad_date),
                         "personal id: birth date in characters 7-14 is not a valid date");
  const std::string month13 = "33010619901301121";
  RequirePersonalIdError(month13 + PersonalId::ComputeCheckCharacter(month13),
                         "personal id: birth date in characters 7-14 is not a valid date");
}

TEST_CASE("personal id: error messages never echo the number", "[identifiers]") {
  absl::StatusOr<PersonalId> id = PersonalId::Parse("330106199001011234");
  REQUIRE_FALSE(id.ok());
  CHECK(id.status().message().find("3301061990") == std::string_view::npos);
}

TEST_CASE("personal id: Masked keeps the first 4 and last 4 characters", "[identifiers]") {
  CHECK(PersonalId::Parse("330106199001011213")->Masked() == "3301**********1213");
  CHECK(PersonalId::Parse("11010519491231002X")->Masked() == "1101**********002X");
}

}  // namespace
}  // namespace regsuite::common
