#pragma once

#include "absl/strings/string_view.h"
#include <string>
#include <vector>

#include "regsuite/common/config.h"

namespace regsuite::regctl {

/// `regctl migrate [--schema NAME]...`: the calendar schema and every service schema (or
/// only the named ones), each under its advisory lock.
int Migrate(const common::Config& config, const std::vector<std::string>& args);
/// `regctl calendar load FILE` / `regctl calendar show YEAR`.
int Calendar(const common::Config& config, const std::vector<std::string>& args);
/// `regctl health HOST:PORT [SERVICE]`: exit 0 when SERVING.
int Health(const std::vector<std::string>& args);

common::ConfigSchema RegctlSchema();

}  // namespace regsuite::regctl
