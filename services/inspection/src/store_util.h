#pragma once

#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "regsuite/common/pg.h"

namespace regsuite::inspection {

using common::PgTextArray;

/// Splits the output of array_to_string(col, E'\x1f').
std::vector<std::string> SplitUnitSeparated(absl::string_view text);

/// Base64 of the serialized message, for the *_pb text columns.
std::string EncodeMessage(const google::protobuf::Message& message);
absl::Status DecodeMessage(absl::string_view base64, google::protobuf::Message* message);

/// zstd for a draw's snapshot texts (tens of MB for a province-wide draw, ~13:1).
std::string CompressSnapshot(absl::string_view text);
/// DATA_LOSS when `compressed` is not a whole zstd frame.
absl::StatusOr<std::string> DecompressSnapshot(absl::string_view compressed);

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out);

/// ABORTED when the caller gave an etag that is not the current version.
absl::Status CheckEtag(absl::string_view given, int64_t version);

}  // namespace regsuite::inspection
