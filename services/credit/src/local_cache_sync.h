#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "local_cache.h"
#include "regsuite/common/redis.h"

namespace regsuite::credit {

/// Keeps the LocalCache of every credit replica coherent with the decisions of all of them.
///
/// Invalidate() (called after the Redis entries were invalidated) erases the subjects here,
/// PUBLISHes `<message id> <uscc>,<uscc>...` on `credit:l1:invalidate` and waits, at most
/// `ack_timeout`, until every subscriber PUBLISH reached has erased them and acknowledged
/// (RPUSH on `credit:l1:ack:<message id>`, expiring after 10 s): a check made on any
/// subscribed replica after the decision returned does not see the old tier. A timeout or a
/// failed PUBLISH is logged and counted; the decision still succeeds.
///
/// A thread holds this replica's subscription (its own hiredis connection, with a PING every
/// `heartbeat` of silence; no answer within one more heartbeat counts as lost). The cache is
/// enabled only while subscribed: it is emptied and bypassed from start-up until the first
/// SUBSCRIBE is confirmed and whenever the connection is lost, so a replica that could miss
/// invalidations never serves from it.
class LocalCacheSync {
 public:
  struct Options {
    common::RedisOptions redis;  // for the subscriber connection
    absl::Duration ack_timeout = absl::Milliseconds(200);
    absl::Duration heartbeat = absl::Seconds(1);
    absl::Duration reconnect_backoff = absl::Milliseconds(200);
  };
  static constexpr char kChannel[] = "credit:l1:invalidate";

  /// `redis` serves PUBLISH, the acknowledgements and the waits for them.
  LocalCacheSync(LocalCache& cache, common::RedisClient& redis, Options options);
  ~LocalCacheSync();  // unsubscribes (the cache is left disabled)
  LocalCacheSync(const LocalCacheSync&) = delete;
  LocalCacheSync& operator=(const LocalCacheSync&) = delete;

  void Invalidate(const std::vector<std::string>& usccs);

  LocalCache& cache() { return cache_; }
  bool subscribed() const { return cache_.enabled(); }
  uint64_t ack_timeouts() const { return ack_timeouts_.load(std::memory_order_relaxed); }
  uint64_t publish_failures() const { return publish_failures_.load(std::memory_order_relaxed); }

 private:
  class Subscription;
  void Run();
  void Acknowledge(absl::string_view payload);
  // Waits up to `timeout` for the pipe to be written to (by the destructor); true if it was.
  bool WaitForStop(absl::Duration timeout);

  LocalCache& cache_;
  common::RedisClient& redis_;
  const Options options_;
  const std::string id_prefix_;
  std::atomic<uint64_t> next_id_{0};
  std::atomic<uint64_t> ack_timeouts_{0};
  std::atomic<uint64_t> publish_failures_{0};
  std::atomic<bool> stopping_{false};
  int wake_[2] = {-1, -1};  // a pipe: written once to stop the thread
  std::thread thread_;
};

}  // namespace regsuite::credit
