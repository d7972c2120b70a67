#pragma once

#include <map>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients.h"
#include "dispatch.h"
#include "regsuite/common/redis.h"

namespace regsuite::gateway {

/// The signature headers of API.md, parsed and checked for form.
struct SignatureHeaders {
  std::string app_key;
  int64_t timestamp = 0;
  std::string nonce;
  common::SignatureMethod method = common::SignatureMethod::kHmacSha256;
  std::string signature;
};

/// Why a call was refused, for metrics (`reason` label) and audit.
struct AuthFailure {
  absl::Status status;
  std::string reason;  // missing_header, bad_header, unknown_client, disabled, stale, bad_signature, ...
};

/// Parses x-app-key, x-timestamp, x-nonce, x-signature-method, x-signature. Errors are
/// UNAUTHENTICATED naming the header and rule.
absl::StatusOr<SignatureHeaders> ParseSignatureHeaders(
    const std::multimap<std::string, std::string>& headers);

/// Checks a signed call against the client registry: client known and enabled, timestamp
/// within the window, the client's signature method, and the HMAC over the string-to-sign
/// (constant-time comparison). Pure computation: no I/O. Replay (nonce) is checked by
/// RequestGuard afterwards.
class Authenticator {
 public:
  explicit Authenticator(absl::Duration window) : window_(window) {}
  /// On success returns the client (copied out of the snapshot) and the parsed headers.
  absl::StatusOr<std::pair<Client, SignatureHeaders>> Verify(const ClientSnapshot& clients,
                                                            const IncomingCall& call,
                                                            absl::Time now,
                                                            std::string* failure_reason) const;
  absl::Duration window() const { return window_; }

 private:
  absl::Duration window_;
};

struct GuardOptions {
  absl::Duration nonce_window = absl::Seconds(600);  // twice the ±300 s timestamp window
  double default_rate = 50;                          // requests/s per client
  int default_burst = 100;
  double anonymous_rate = 5;  // per peer address, for public methods
  int anonymous_burst = 10;
  bool fail_open = false;     // rate limits when Redis is down (replay protection always closes)
};

/// Replay protection and rate limits in Redis, in one pipelined round trip per call:
/// SET nonce NX EX, then an atomic token-bucket Lua script for the client (and the method
/// where a rule sets a rate). When Redis is unreachable, a local token bucket takes over and
/// the policy decides; a signed call is refused because its nonce cannot be checked.
class RequestGuard {
 public:
  RequestGuard(common::RedisClient& redis, GuardOptions options);

  struct Outcome {
    absl::Status status;
    int retry_after_seconds = 0;
    std::string reason;  // replay, rate_limited, redis_unavailable
  };
  /// `client` null: an anonymous call to a public method, limited per `peer`.
  Outcome Check(const Client* client, const SignatureHeaders* headers, const AccessRule* rule,
                absl::string_view method, absl::string_view peer, absl::Time now);

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  Outcome LocalLimit(const std::string& key, double rate, int burst, absl::Time now);

  common::RedisClient& redis_;
  const GuardOptions options_;
  const common::RedisScript bucket_script_;
  std::mutex local_mu_;
  absl::flat_hash_map<std::string, Bucket> local_;
};

}  // namespace regsuite::gateway
