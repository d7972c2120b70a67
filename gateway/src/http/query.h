#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace regsuite::gateway {

/// The query string as signed (API.md): parameters sorted by name then value, `name=value`
/// joined by '&', percent-encoding kept as sent; empty parameters dropped; a parameter
/// without '=' is written `name=`. Used by the HTTP ingress and by `regctl sign`.
std::string CanonicalQuery(absl::string_view raw_query);

/// Decodes a query string ('+' is a space, %XX escapes) into (name, value) pairs in the
/// order sent. INVALID_ARGUMENT naming the parameter for a malformed escape.
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> ParseQuery(
    absl::string_view raw_query);

}  // namespace regsuite::gateway
