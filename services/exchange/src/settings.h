#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "push_protocol.h"
#include "regsuite/common/config.h"

namespace regsuite::exchange {

/// Push mode (`push.*`): where and how batches go to the provincial platform.
struct PushSettings {
  // Full URL of the platform's batch endpoint; empty disables the push.
  std::string url;
  PlatformCredentials credentials;
  int batch_size = 100;
  absl::Duration interval = absl::Seconds(1);
  absl::Duration timeout = absl::Seconds(10);
  absl::Duration initial_backoff = absl::Seconds(1);
  absl::Duration max_backoff = absl::Minutes(5);

  bool enabled() const { return !url.empty(); }
};

/// Base-data import (`import.*`).
struct ImportSettings {
  // The platform's enterprise endpoint for a pull (GET ?offset=&limit=); empty: no pull.
  std::string url;
  int page_size = 200;
  // Rows per InspectionService.ImportEnterprises call.
  int chunk_size = 500;
  absl::Duration timeout = absl::Seconds(30);
};

struct ExchangeSettings {
  PushSettings push;
  ImportSettings import;
};

/// Adds the `push.*` and `import.*` keys (push.secret only from REGSUITE_PUSH_SECRET(_FILE)).
void AddExchangeConfigKeys(common::ConfigSchema& schema);

/// Reads and validates them; INVALID_ARGUMENT naming the key.
absl::StatusOr<ExchangeSettings> ReadExchangeSettings(const common::Config& config);

}  // namespace regsuite::exchange
