#include "regsuite/common/masking.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace regsuite::common {
namespace {

constexpr absl::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Splits UTF-8 text into code points; a malformed byte becomes a unit of its own, marked
// invalid so that it is never copied into the output.
struct CodePoint {
  absl::string_view bytes;
  bool valid;
};

std::vector<CodePoint> SplitCodePoints(absl::string_view text) {
  std::vector<CodePoint> result;
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 0;
    if (lead < 0x80) {
      length = 1;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
    }
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
    }
    if (valid && length > 2) {
      // Overlong forms, UTF-16 surrogates and values above U+10FFFF are not characters.
      const auto second = static_cast<unsigned char>(text[i + 1]);
      valid = !(lead == 0xE0 && second < 0xA0) && !(lead == 0xED && second > 0x9F) &&
              !(lead == 0xF0 && second < 0x90) && !(lead == 0xF4 && second > 0x8F);
    }
    if (!valid) length = 1;
    result.push_back(CodePoint{text.substr(i, length), valid});
    i += length;
  }
  return result;
}

void AppendCodePoint(std::string* out, const CodePoint& code_point) {
  absl::StrAppend(out, code_point.valid ? code_point.bytes : kReplacementCharacter);
}

bool IsDigit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }

std::string MaskDigitsUntrimmed(absl::string_view text, int keep_first, int keep_last) {
  const std::vector<CodePoint> code_points = SplitCodePoints(text);
  const size_t digits = static_cast<size_t>(std::count_if(
      code_points.begin(), code_points.end(),
      [](const CodePoint& cp) { return cp.bytes.size() == 1 && IsDigit(cp.bytes[0]); }));
  const size_t first = static_cast<size_t>(std::max(keep_first, 0));
  const size_t last = static_cast<size_t>(std::max(keep_last, 0));
  const bool mask_all = digits <= first + last;
  std::string out;
  size_t digit_index = 0;
  for (const CodePoint& cp : code_points) {
    if (cp.bytes.size() == 1 && IsDigit(cp.bytes[0])) {
      const bool keep = !mask_all && (digit_index < first || digit_index >= digits - last);
      out.push_back(keep ? cp.bytes[0] : '*');
      ++digit_index;
    } else {
      AppendCodePoint(&out, cp);
    }
  }
  return out;
}

}  // namespace

std::string MaskMiddle(absl::string_view text, int keep_first, int keep_last) {
  const std::vector<CodePoint> code_points = SplitCodePoints(absl::StripAsciiWhitespace(text));
  const size_t count = code_points.size();
  const size_t first = static_cast<size_t>(std::max(keep_first, 0));
  const size_t last = static_cast<size_t>(std::max(keep_last, 0));
  std::string out;
  if (count <= first + last) return std::string(count, '*');
  for (size_t i = 0; i < count; ++i) {
    if (i < first || i >= count - last) {
      AppendCodePoint(&out, code_points[i]);
    } else {
      out.push_back('*');
    }
  }
  return out;
}

std::string MaskDigits(absl::string_view text, int keep_first, int keep_last) {
  return MaskDigitsUntrimmed(absl::StripAsciiWhitespace(text), keep_first, keep_last);
}

std::string MaskPersonalId(absl::string_view id) { return MaskMiddle(id, 4, 4); }

std::string MaskMobile(absl::string_view number) {
  number = absl::StripAsciiWhitespace(number);
  for (absl::string_view prefix : {"+86", "0086"}) {
    if (absl::StartsWith(number, prefix)) {
      return absl::StrCat(prefix, MaskDigitsUntrimmed(number.substr(prefix.size()), 3, 4));
    }
  }
  return MaskDigits(number, 3, 4);
}

std::string MaskLandline(absl::string_view number) {
  number = absl::StripAsciiWhitespace(number);
  size_t start = 0;
  if (!number.empty() && number[0] == '(') start = 1;
  size_t end = start;
  while (end < number.size() && IsDigit(number[end])) ++end;
  int keep_first = 0;
  if (end > start && number[start] == '0') {
    const bool separated =
        end < number.size() && (number[end] == '-' || number[end] == ' ' || number[end] == ')');
    const size_t group = end - start;
    keep_first = separated && group >= 3 && group <= 4 ? static_cast<int>(group) : 3;
  }
  return MaskDigits(number, keep_first, 4);
}

std::string MaskBankCard(absl::string_view number) { return MaskDigits(number, 4, 4); }

std::string MaskEmail(absl::string_view email) {
  email = absl::StripAsciiWhitespace(email);
  if (email.empty()) return "";
  const size_t at = email.rfind('@');
  const absl::string_view local = at == absl::string_view::npos ? email : email.substr(0, at);
  const std::vector<CodePoint> local_points = SplitCodePoints(local);
  std::string out;
  // A one-character local part would be shown whole, so it is masked completely.
  if (local_points.size() > 1) AppendCodePoint(&out, local_points.front());
  out.append("***");
  if (at != absl::string_view::npos) {
    for (const CodePoint& cp : SplitCodePoints(email.substr(at))) AppendCodePoint(&out, cp);
  }
  return out;
}

std::string MaskPersonName(absl::string_view name) {
  const std::vector<CodePoint> code_points = SplitCodePoints(absl::StripAsciiWhitespace(name));
  if (code_points.empty()) return "";
  if (code_points.size() == 1) return "*";
  std::string out;
  AppendCodePoint(&out, code_points.front());
  out.append(code_points.size() - 1, '*');
  return out;
}

}  // namespace regsuite::common
