#pragma once

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace regsuite::disclosure {

/// proto3 JSON for the jsonb columns (field names as in the proto).
std::string ToJson(const google::protobuf::Message& message);
/// Parses what ToJson wrote; INTERNAL when the stored row is unreadable.
absl::Status FromJson(absl::string_view json, google::protobuf::Message* message);
/// absl::Time → Timestamp.
google::protobuf::Timestamp ToTimestamp(absl::Time t);

}  // namespace regsuite::disclosure
