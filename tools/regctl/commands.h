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

/// `regctl client create|list|rotate|disable|enable|access`.
int Client(const common::Config& config, const std::vector<std::string>& args);
/// `regctl audit verify`: exit 0 when the chain is intact, 1 naming the first bad row.
int Audit(const common::Config& config, const std::vector<std::string>& args);
/// `regctl sign ...`: prints the signature headers or a ready curl command.
int Sign(const std::vector<std::string>& args);
/// `regctl exchange status|retry|import`: push progress, re-queue parked batches, 法人库 import.
int Exchange(const common::Config& config, const std::vector<std::string>& args);

common::ConfigSchema RegctlSchema();

}  // namespace regsuite::regctl
