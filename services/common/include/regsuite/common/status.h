#pragma once

#include "absl/strings/string_view.h"
#include <grpcpp/support/status.h>

#include <string_view>

#include "absl/status/status.h"

namespace regsuite::common {

/// The one place where absl::Status becomes a gRPC status (codes map one to one).
grpc::Status ToGrpcStatus(const absl::Status& status);

/// The reverse mapping, for results of outbound gRPC calls.
absl::Status FromGrpcStatus(const grpc::Status& status);

/// INVALID_ARGUMENT whose message names the field and the rule: "uscc: check character mismatch".
absl::Status FieldError(absl::string_view field, absl::string_view rule);

/// FAILED_PRECONDITION naming the current state: "listing is ACTIVE; cannot notify".
absl::Status StateError(absl::string_view entity, absl::string_view current_state,
                        absl::string_view attempted);

}  // namespace regsuite::common
