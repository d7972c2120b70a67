#include "regsuite/common/status.h"

#include "absl/strings/str_cat.h"

namespace regsuite::common {

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  // absl::StatusCode and grpc::StatusCode share their numeric values by design.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

absl::Status FieldError(absl::string_view field, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", rule));
}

absl::Status StateError(absl::string_view entity, absl::string_view current_state,
                        absl::string_view attempted) {
  return absl::FailedPreconditionError(
      absl::StrCat(entity, " is ", current_state, "; cannot ", attempted));
}

}  // namespace regsuite::common
