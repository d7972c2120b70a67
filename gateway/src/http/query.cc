#include "http/query.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "http/routes.h"

namespace regsuite::gateway {

std::string CanonicalQuery(absl::string_view raw_query) {
  std::vector<std::pair<absl::string_view, absl::string_view>> params;
  for (absl::string_view piece : absl::StrSplit(raw_query, '&', absl::SkipEmpty())) {
    size_t eq = piece.find('=');
    if (eq == absl::string_view::npos) {
      params.emplace_back(piece, absl::string_view());
    } else {
      params.emplace_back(piece.substr(0, eq), piece.substr(eq + 1));
    }
  }
  std::sort(params.begin(), params.end());
  std::string out;
  out.reserve(raw_query.size() + params.size());
  for (const auto& [name, value] : params) {
    if (!out.empty()) out.push_back('&');
    absl::StrAppend(&out, name, "=", value);
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    absl::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view piece : absl::StrSplit(raw_query, '&', absl::SkipEmpty())) {
    size_t eq = piece.find('=');
    absl::string_view raw_name = piece.substr(0, eq);
    absl::string_view raw_value =
        eq == absl::string_view::npos ? absl::string_view() : piece.substr(eq + 1);
    std::string name, value;
    if (!PercentDecode(raw_name, /*plus_is_space=*/true, &name)) {
      return absl::InvalidArgumentError(
          absl::StrCat(raw_name, ": malformed percent-encoding in query parameter name"));
    }
    if (!PercentDecode(raw_value, /*plus_is_space=*/true, &value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": malformed percent-encoding in query parameter value"));
    }
    params.emplace_back(std::move(name), std::move(value));
  }
  return params;
}

}  // namespace regsuite::gateway
