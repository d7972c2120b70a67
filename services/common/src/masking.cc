#include "regsuite/common/masking.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "absl/strings/ascii.h"

namespace regsuite::common {
namespace {

constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

// Splits UTF-8 text into code points; a malformed byte becomes a unit of its own, marked
// invalid so that it is never copied into the output.
struct CodePoint {
  std::string_view bytes;
  bool valid;
};

std::vector<CodePoint> SplitCodePoints(std::string_view text) {
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
    if (!valid) length = 1;
    result.push_back(CodePoint{text.substr(i, length), valid});
    i += length;
  }
  return result;
}

void AppendCodePoint(std::string* out, const CodePoint& code_point) {
  out->append(code_point.valid ? code_point.bytes : kReplacementCharacter);
}

std::string_view StripWhitespace(std::string_view text) {
  const absl::string_view stripped =
      absl::StripAsciiWhitespace(absl::string_view(text.data(), text.size()));
  return {stripped.data(), stripped.size()};
}

bool IsDigit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }

std::string MaskDigitsUntrimmed(std::string_view text, int keep_first, int keep_last) {
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

std::string MaskMiddle(std::string_view text, int keep_first, int keep_last) {
  const std::vector<CodePoint> code_points = SplitCodePoints(StripWhitespace(text));
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

std::string MaskDigits(std::string_view text, int keep_first, int keep_last) {
  return MaskDigitsUntrimmed(StripWhitespace(text), keep_first, keep_last);
}

std::string MaskPersonalId(std::string_view id) { return MaskMiddle(id, 4, 4); }

std::string MaskMobile(std::string_view number) {
  number = StripWhitespace(number);
  for (std::string_view prefix : {"+86", "0086"}) {
    if (number.starts_with(prefix)) {
      return std::string(prefix) + MaskDigitsUntrimmed(number.substr(prefix.size()), 3, 4);
    }
  }
  return MaskDigits(number, 3, 4);
}

std::string MaskLandline(std::string_view number) {
  number = StripWhitespace(number);
  size_t start = 0;
  if (!number.empty() && number[0] == '(') start = 1;
  size_t end = start;
  while (end < number.size() && IsDigit(number[end])) ++end;
  int keep_first = 0;
  if (end > start && number[start] == '0') {
    const bool separated = end < number.size() &&
                           (number[end] == '-' || number[end] == ' ' || number[end] == ')');
    const size_t group = end - start;
    keep_first = separated && group >= 3 && group <= 4 ? static_cast<int>(group) : 3;
  }
  return MaskDigits(number, keep_first, 4);
}

std::string MaskBankCard(std::string_view number) { return MaskDigits(number, 4, 4); }

std::string MaskEmail(std::string_view email) {
  email = StripWhitespace(email);
  if (email.empty()) return "";
  const size_t at = email.rfind('@');
  const std::string_view local = at == std::string_view::npos ? email : email.substr(0, at);
  const std::vector<CodePoint> local_points = SplitCodePoints(local);
  std::string out;
  // A one-character local part would be shown whole, so it is masked completely.
  if (local_points.size() > 1) AppendCodePoint(&out, local_points.front());
  out.append("***");
  if (at != std::string_view::npos) {
    for (const CodePoint& cp : SplitCodePoints(email.substr(at))) AppendCodePoint(&out, cp);
  }
  return out;
}

std::string MaskPersonName(std::string_view name) {
  const std::vector<CodePoint> code_points = SplitCodePoints(StripWhitespace(name));
  if (code_points.empty()) return "";
  if (code_points.size() == 1) return "*";
  std::string out;
  AppendCodePoint(&out, code_points.front());
  out.append(code_points.size() - 1, '*');
  return out;
}

}  // namespace regsuite::common
