#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "clients.h"
#include "dispatch.h"
#include "redis_batcher.h"
#include "regsuite/common/redis.h"
#include "signature_headers.h"

namespace regsuite::gateway {

/// Why a call was refused, for metrics (`reason` label) and audit.
struct AuthFailure {
  absl::Status status;
  std::string reason;  // missing_header, bad_header, unknown_client, disabled, stale, bad_signature, ...
};

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
  /// mTLS: the enabled client whose certificate fingerprint the call carries. Without a
  /// certificate, the same error as a call without x-app-key.
  absl::StatusOr<Client> VerifyCertificate(const ClientSnapshot& clients, const IncomingCall& call,
                                           std::string* failure_reason) const;
  /// A signed call over mTLS: refused when its certificate is registered to another client.
  absl::Status CheckCertificateMatches(const ClientSnapshot& clients, const IncomingCall& call,
                                       const Client& client, std::string* failure_reason) const;
  absl::Duration window() const { return window_; }

 private:
  absl::Duration window_;
};

/// Merges the token-bucket takes (EVALSHA `sha1` 1 key rate burst now n) of one batch that
/// name the same bucket, rate and burst into one take of their summed n, at the latest `now`.
/// Redis then runs the Lua script once per bucket and batch instead of once per call.
RedisMerge MergeBucketTakes(std::vector<RedisCommand> commands, const std::string& sha1);
/// The reply of the take of rank `rank` in a merged take: {1, 0} when rank < granted, else
/// {0, retry_ms}. Anything but a {granted, retry_ms} array (an error) passes through.
common::RedisValue SplitBucketReply(const common::RedisValue& merged, size_t rank);

struct GuardOptions {
  absl::Duration nonce_window = absl::Seconds(600);  // twice the ±300 s timestamp window
  double default_rate = 50;                          // requests/s per client
  int default_burst = 100;
  double anonymous_rate = 5;  // per peer address, for public methods
  int anonymous_burst = 10;
  bool fail_open = false;     // rate limits when Redis is down (replay protection always closes)
  RedisBatcherOptions batcher;
};

/// Replay protection and rate limits in Redis: SET nonce NX PX, then an atomic token-bucket
/// Lua script for the client (and the method where a rule sets a rate). The commands of
/// concurrent calls share one pipelined round trip (RedisBatcher); the caller never blocks.
/// When Redis is unreachable, a local token bucket takes over and the policy decides; a signed
/// call is refused because its nonce cannot be checked.
class RequestGuard {
 public:
  /// `pipeline`: one round trip to Redis (common::RedisClient::Pipeline, which reconnects).
  RequestGuard(RedisPipelineFn pipeline, GuardOptions options);

  struct Outcome {
    absl::Status status;
    int retry_after_seconds = 0;
    std::string reason;  // replay, rate_limited, redis_unavailable, overloaded
  };
  /// What one call asks of Redis, and what the local fallback needs.
  struct Plan {
    struct Limit {
      std::string key;
      double rate;
      int burst;
    };
    bool nonce = false;  // commands[0] is the nonce SET
    std::vector<Limit> limits;
    std::vector<RedisCommand> commands;
    absl::Time now;
  };
  /// `client` null: an anonymous call to a public method, limited per `peer`. `headers` null:
  /// no nonce (anonymous, or mTLS without signature).
  Plan MakePlan(const Client* client, const SignatureHeaders* headers, const AccessRule* rule,
                absl::string_view method, absl::string_view peer, absl::Time now) const;
  /// The verdict from the plan's replies (in command order), or from the failure to get them
  /// (RESOURCE_EXHAUSTED: the call was not queued, the gateway is overloaded).
  Outcome Decide(const Plan& plan, const RedisReplies& replies);

  /// Queues the plan's commands for the next pipeline and returns at once; `done` runs on a
  /// Redis I/O thread (or here, at once, with UNAVAILABLE when the queue is full).
  void CheckAsync(Plan plan, std::function<void(Outcome)> done);

  void Start() { batcher_.Start(); }
  /// Completes the queued checks, then stops the I/O threads.
  void Stop() { batcher_.Stop(); }

 private:
  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  Outcome LocalLimit(const std::string& key, double rate, int burst, absl::Time now);

  const GuardOptions options_;
  const common::RedisScript bucket_script_;
  const std::string nonce_px_;
  std::mutex local_mu_;
  absl::flat_hash_map<std::string, Bucket> local_;
  RedisBatcher batcher_;  // last: its threads use the members above
};

}  // namespace regsuite::gateway
