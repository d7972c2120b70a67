#pragma once

#include "absl/strings/string_view.h"
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace regsuite::common {

/// Asks grpc.health.v1.Health/Check at `address` for `service` ("" = the whole server).
/// Returns the status name (SERVING, NOT_SERVING, ...) or the call's error.
absl::StatusOr<std::string> CheckServingStatus(absl::string_view address, absl::string_view service,
                                               absl::Duration timeout);

}  // namespace regsuite::common
