#include "store_util.h"

#include <zstd.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "regsuite/common/check.h"

namespace regsuite::inspection {

std::vector<std::string> SplitUnitSeparated(absl::string_view text) {
  if (text.empty()) return {};
  return absl::StrSplit(text, '\x1f');
}

std::string CompressSnapshot(absl::string_view text) {
  // Level 1: the draw is on the caller's clock; higher levels gain little on this text.
  constexpr int kLevel = 1;
  std::string out(ZSTD_compressBound(text.size()), '\0');
  const size_t written = ZSTD_compress(out.data(), out.size(), text.data(), text.size(), kLevel);
  RS_CHECK(!ZSTD_isError(written));  // only fails on a too small buffer, sized by the bound
  out.resize(written);
  return out;
}

absl::StatusOr<std::string> DecompressSnapshot(absl::string_view compressed) {
  const unsigned long long size = ZSTD_getFrameContentSize(compressed.data(), compressed.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    return absl::DataLossError("snapshot: not a zstd frame with its content size");
  }
  // A province-wide snapshot is tens of MB; a header claiming more is damaged, not allocated.
  constexpr unsigned long long kMaxSnapshotBytes = 1ull << 30;
  if (size > kMaxSnapshotBytes) {
    return absl::DataLossError(absl::StrCat("snapshot: frame claims ", size, " bytes"));
  }
  std::string out(size, '\0');
  const size_t read = ZSTD_decompress(out.data(), out.size(), compressed.data(), compressed.size());
  if (ZSTD_isError(read) || read != size) {
    return absl::DataLossError(absl::StrCat("snapshot: ", ZSTD_getErrorName(read)));
  }
  return out;
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
