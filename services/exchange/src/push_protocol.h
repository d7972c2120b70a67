#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "regsuite/common/signing.h"
#include "regsuite/exchange/v1/exchange.pb.h"

namespace regsuite::exchange {

/// The batch id and Idempotency-Key of the changes first..last: deterministic, so a batch
/// sent again after a crash or a parked batch re-queued by an operator carries the same key.
std::string BatchIdFor(int64_t first_cursor, int64_t last_cursor);

/// The HTTP body of a pushed batch: {"batchId": ..., "changes": [...]}, each change in the
/// proto3 JSON form ListChanges returns plus "time" (= occurredAt, RFC 3339).
std::string BatchJson(absl::string_view batch_id, const std::vector<v1::Change>& changes);

/// What a platform answer means for the batch.
enum class PushOutcome {
  kAcknowledged,  // 2xx
  kRetry,         // no answer, 5xx, 401, 403, 408, 425, 429: the same batch again after a backoff
  kPark,          // any other status: rejected permanently, parked for an operator
};
PushOutcome ClassifyHttpStatus(int http_status);  // 0 = no HTTP answer (timeout, refused)

/// Delay before attempt number `failures` + 1 after `failures` consecutive failures (>= 1):
/// initial · 2^(failures−1), capped at `max`.
absl::Duration BackoffDelay(int failures, absl::Duration initial, absl::Duration max);

/// Path and raw query of an http(s) URL ("http://h:1/a/b?x=1" → "/a/b", "x=1").
std::pair<std::string, std::string> UrlPathAndQuery(absl::string_view url);

/// API.md's QUERY: parameters sorted by name then value, `name=value` joined by `&`, as sent.
std::string SortedQuery(absl::string_view raw_query);

/// Who signs outgoing platform requests.
struct PlatformCredentials {
  std::string app_key;
  std::string secret;
  common::SignatureMethod method = common::SignatureMethod::kHmacSha256;
};

/// The signature headers of API.md for an HTTP request (x-app-key, x-timestamp, x-nonce,
/// x-signature-method, x-signature).
std::vector<std::pair<std::string, std::string>> SignedHeaders(
    const PlatformCredentials& credentials, absl::string_view http_method, absl::string_view url,
    absl::string_view body, absl::Time now, absl::string_view nonce);

}  // namespace regsuite::exchange
