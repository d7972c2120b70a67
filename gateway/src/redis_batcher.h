#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "regsuite/common/redis.h"

namespace regsuite::gateway {

using RedisCommand = std::vector<std::string>;
using RedisReplies = absl::StatusOr<std::vector<common::RedisValue>>;
/// Sends every command, then reads every reply: one round trip (common::RedisClient::Pipeline).
using RedisPipelineFn = std::function<RedisReplies(const std::vector<RedisCommand>&)>;

/// Indexes of the EVALSHA commands whose reply is a NOSCRIPT error (the script is not in this
/// Redis's cache yet, or was flushed): they are sent again after SCRIPT LOAD.
std::vector<size_t> NoscriptRetries(const std::vector<RedisCommand>& commands,
                                    const std::vector<common::RedisValue>& replies);

/// A batch's commands after merging those that can share one Redis call (e.g. several takes
/// from the same token bucket): what is sent, and for each submitted command, which sent
/// command answers it and its rank among the commands merged into that one.
struct RedisMerge {
  std::vector<RedisCommand> commands;
  std::vector<std::pair<size_t, size_t>> source;  // per submitted command: (sent index, rank)
};
/// Optional batch hooks: `merge` rewrites the flattened commands; `split` derives the reply of
/// the command of rank `rank` from the reply of the merged command.
struct RedisMergeHooks {
  std::function<RedisMerge(std::vector<RedisCommand>)> merge;
  std::function<common::RedisValue(const common::RedisValue& merged, size_t rank)> split;
};

struct RedisBatcherOptions {
  int threads = 1;                  // Redis I/O threads, each with its pipeline in flight
  size_t max_queued = 20000;        // calls waiting; beyond that Submit refuses
  size_t max_batch_commands = 2048;  // commands in one pipeline (a call is never split)
};

/// Pipelines the Redis commands of many concurrent calls into one round trip.
///
/// A call submits its commands and a callback, and returns at once. Dedicated I/O threads take
/// everything queued, write it as one pipeline, read all replies, hand each call its own
/// replies (in the order it submitted its commands) and run its callback on the I/O thread.
/// An EVALSHA answered NOSCRIPT is sent again after SCRIPT LOAD of the script with that SHA-1,
/// in a second round trip for that batch only. A transport failure fails every call of the
/// batch with the same status (the pipeline function reconnects on a later batch).
class RedisBatcher {
 public:
  /// `scripts`: those that may be called by EVALSHA (loaded on NOSCRIPT); must outlive this.
  RedisBatcher(RedisPipelineFn pipeline, std::vector<const common::RedisScript*> scripts,
               RedisBatcherOptions options, RedisMergeHooks hooks = {});
  ~RedisBatcher();
  RedisBatcher(const RedisBatcher&) = delete;
  RedisBatcher& operator=(const RedisBatcher&) = delete;

  void Start();
  /// Queues a call. False when the queue is full or the batcher stopped: then neither argument
  /// was moved from, `done` is not called and the caller answers on its own. Otherwise `done`
  /// runs exactly once, on an I/O thread.
  bool Submit(std::vector<RedisCommand>&& commands, std::function<void(RedisReplies)>&& done);
  /// Completes every queued call, then joins the I/O threads. Later submissions are refused.
  void Stop();

  size_t queued() const;

 private:
  struct Pending {
    std::vector<RedisCommand> commands;
    std::function<void(RedisReplies)> done;
  };
  void Run();
  void RunBatch(std::vector<Pending>& batch);
  // SCRIPT LOAD of the scripts the retried commands name, then those commands again.
  RedisReplies Retry(const std::vector<RedisCommand>& commands, const std::vector<size_t>& retry);

  const RedisPipelineFn pipeline_;
  const RedisMergeHooks hooks_;
  absl::flat_hash_map<std::string, const common::RedisScript*> scripts_by_sha_;
  const RedisBatcherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  int idle_threads_ = 0;
  bool stopping_ = false;
  bool started_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace regsuite::gateway
