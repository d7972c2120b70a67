#include "push_protocol.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "regsuite/common/log.h"

namespace regsuite::exchange {

std::string BatchIdFor(int64_t first_cursor, int64_t last_cursor) {
  return absl::StrCat("exchange-", first_cursor, "-", last_cursor);
}

std::string BatchJson(absl::string_view batch_id, const std::vector<v1::Change>& changes) {
  std::string out = "{\"batchId\":\"";
  common::AppendJsonEscaped(&out, batch_id);
  out += "\",\"changes\":[";
  for (size_t i = 0; i < changes.size(); ++i) {
    std::string json;
    (void)google::protobuf::util::MessageToJsonString(changes[i], &json);
    json.pop_back();  // the closing brace: "time" goes last
    absl::StrAppend(&out, i == 0 ? "" : ",", json, ",\"time\":\"",
                    google::protobuf::util::TimeUtil::ToString(changes[i].occurred_at()), "\"}");
  }
  out += "]}";
  return out;
}

PushOutcome ClassifyHttpStatus(int http_status) {
  if (http_status >= 200 && http_status < 300) return PushOutcome::kAcknowledged;
  // 401/403 concern the bureau's credentials or the clock, not the batch: parking would park
  // every batch until they are fixed, so they are retried (and show in the push status).
  if (http_status == 0 || http_status >= 500 || http_status == 401 || http_status == 403 ||
      http_status == 408 || http_status == 425 || http_status == 429)
    return PushOutcome::kRetry;
  return PushOutcome::kPark;
}

absl::Duration BackoffDelay(int failures, absl::Duration initial, absl::Duration max) {
  absl::Duration delay = initial;
  for (int i = 1; i < failures && delay < max; ++i) delay *= 2;
  return std::min(delay, max);
}

std::pair<std::string, std::string> UrlPathAndQuery(absl::string_view url) {
  size_t scheme = url.find("://");
  absl::string_view rest = scheme == absl::string_view::npos ? url : url.substr(scheme + 3);
  size_t slash = rest.find('/');
  absl::string_view target = slash == absl::string_view::npos ? "/" : rest.substr(slash);
  target = target.substr(0, target.find('#'));
  size_t q = target.find('?');
  if (q == absl::string_view::npos) return {std::string(target), ""};
  return {std::string(target.substr(0, q)), std::string(target.substr(q + 1))};
}

std::string SortedQuery(absl::string_view raw_query) {
  std::vector<std::pair<std::string, std::string>> params;
  for (absl::string_view piece : absl::StrSplit(raw_query, '&', absl::SkipEmpty())) {
    std::pair<std::string, std::string> kv = absl::StrSplit(piece, absl::MaxSplits('=', 1));
    params.push_back(std::move(kv));
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [name, value] : params)
    absl::StrAppend(&out, out.empty() ? "" : "&", name, "=", value);
  return out;
}

std::vector<std::pair<std::string, std::string>> SignedHeaders(
    const PlatformCredentials& credentials, absl::string_view http_method, absl::string_view url,
    absl::string_view body, absl::Time now, absl::string_view nonce) {
  auto [path, query] = UrlPathAndQuery(url);
  const std::string timestamp = absl::StrCat(absl::ToUnixSeconds(now));
  const std::string to_sign =
      common::StringToSign(http_method, path, SortedQuery(query), timestamp, nonce,
                           common::BodyDigestHex(credentials.method, body));
  return {
      {"x-app-key", credentials.app_key},
      {"x-timestamp", timestamp},
      {"x-nonce", std::string(nonce)},
      {"x-signature-method", std::string(common::SignatureMethodName(credentials.method))},
      {"x-signature", common::SignatureBase64(credentials.method, credentials.secret, to_sign)}};
}

}  // namespace regsuite::exchange
