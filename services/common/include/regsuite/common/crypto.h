#pragma once

#include "absl/strings/string_view.h"
#include <string>
#include <string_view>

namespace regsuite::common {

/// Lower-case hex SHA-256 of `data` (OpenSSL).
std::string Sha256Hex(absl::string_view data);

/// A random (version 4) UUID in canonical text form, from the OS CSPRNG.
std::string NewUuid();

/// True when `text` is a canonical UUID (8-4-4-4-12 hex digits).
bool IsUuid(absl::string_view text);

}  // namespace regsuite::common
