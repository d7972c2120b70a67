#include "store_util.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace regsuite::inspection {

std::vector<std::string> SplitUnitSeparated(absl::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, '\x1f');
}

std::string EncodeMessage(const google::protobuf::Message& message) {
  return absl::Base64Escape(message.SerializeAsString());
}

absl::Status DecodeMessage(absl::string_view base64, google::protobuf::Message* message) {
  std::string bytes;
  if (!absl::Base64Unescape(base64, &bytes) || !message->ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", message->GetTypeName(), " does not parse"));
  }
  return absl::OkStatus();
}

void SetTimestamp(absl::Time time, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(time);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(time - absl::FromUnixSeconds(seconds))));
}

absl::Status CheckEtag(absl::string_view given, int64_t version) {
  if (!given.empty() && given != absl::StrCat(version)) {
    return absl::AbortedError(
        absl::StrCat("etag: '", given, "' is stale; current is '", version, "'"));
  }
  return absl::OkStatus();
}

}  // namespace regsuite::inspection
