#pragma once

#include <google/protobuf/timestamp.pb.h>

#include "absl/time/time.h"

namespace regsuite::common {

/// The instant a protobuf Timestamp names (seconds and nanoseconds).
inline absl::Time FromTimestamp(const google::protobuf::Timestamp& ts) {
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

}  // namespace regsuite::common
