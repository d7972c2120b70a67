#include "redis_batcher.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"

namespace regsuite::gateway {

std::vector<size_t> NoscriptRetries(const std::vector<RedisCommand>& commands,
                                    const std::vector<common::RedisValue>& replies) {
  std::vector<size_t> retry;
  for (size_t i = 0; i < commands.size() && i < replies.size(); ++i) {
    const auto& reply = replies[i];
    if (reply.type == common::RedisValue::Type::kError && absl::StartsWith(reply.str, "NOSCRIPT") &&
        commands[i].size() >= 2 && commands[i][0] == "EVALSHA") {
      retry.push_back(i);
    }
  }
  return retry;
}

RedisBatcher::RedisBatcher(RedisPipelineFn pipeline,
                           std::vector<const common::RedisScript*> scripts,
                           RedisBatcherOptions options, RedisMergeHooks hooks)
    : pipeline_(std::move(pipeline)), hooks_(std::move(hooks)), options_(options) {
  for (const auto* script : scripts) scripts_by_sha_[script->sha1()] = script;
}

RedisBatcher::~RedisBatcher() { Stop(); }

void RedisBatcher::Start() {
  std::lock_guard lock(mu_);
  if (started_ || stopping_) return;
  started_ = true;
  for (int i = 0; i < std::max(1, options_.threads); ++i) {
    threads_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "gw-redis");  // for top -H and perf
      Run();
    });
  }
}

bool RedisBatcher::Submit(std::vector<RedisCommand>&& commands,
                          std::function<void(RedisReplies)>&& done) {
  std::lock_guard lock(mu_);
  if (stopping_ || queue_.size() >= options_.max_queued) return false;
  queue_.push_back({std::move(commands), std::move(done)});
  // Only a sleeping thread needs waking; a busy one takes the queue after its round trip.
  if (idle_threads_ > 0) cv_.notify_one();
  return true;
}

void RedisBatcher::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads = std::move(threads_);
    threads_.clear();
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
  Run();  // never started (or calls left behind): complete them on this thread
}

size_t RedisBatcher::queued() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void RedisBatcher::Run() {
  std::vector<Pending> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      ++idle_threads_;
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      --idle_threads_;
      if (queue_.empty()) return;  // stopping, and nothing left
      size_t commands = 0;
      while (!queue_.empty() &&
             (batch.empty() || commands + queue_.front().commands.size() <= options_.max_batch_commands)) {
        commands += queue_.front().commands.size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    RunBatch(batch);
    batch.clear();
  }
}

RedisReplies RedisBatcher::Retry(const std::vector<RedisCommand>& commands,
                                 const std::vector<size_t>& retry) {
  std::vector<RedisCommand> again;
  absl::flat_hash_set<std::string> loading;
  for (size_t i : retry) {
    auto script = scripts_by_sha_.find(commands[i][1]);
    if (script != scripts_by_sha_.end() && loading.insert(script->first).second) {
      again.push_back({"SCRIPT", "LOAD", script->second->source()});
    }
  }
  const size_t loads = again.size();
  for (size_t i : retry) again.push_back(commands[i]);
  auto replies = pipeline_(again);
  if (replies.ok()) replies->erase(replies->begin(), replies->begin() + static_cast<ptrdiff_t>(loads));
  return replies;
}

void RedisBatcher::RunBatch(std::vector<Pending>& batch) {
  std::vector<RedisCommand> submitted;
  for (auto& call : batch) {
    for (auto& command : call.commands) submitted.push_back(std::move(command));
  }
  const size_t count = submitted.size();
  RedisMerge merged;
  if (hooks_.merge) {
    merged = hooks_.merge(std::move(submitted));
  } else {
    merged.commands = std::move(submitted);
    for (size_t i = 0; i < count; ++i) merged.source.emplace_back(i, 0);
  }
  const auto& commands = merged.commands;
  RedisReplies replies = commands.empty() ? RedisReplies(std::vector<common::RedisValue>())
                                          : pipeline_(commands);
  // Sent commands whose retry failed in transport: their calls fail with this status.
  absl::Status retry_failed;
  std::vector<bool> failed(commands.size(), false);
  if (replies.ok() && replies->size() != commands.size()) {
    replies = absl::InternalError("redis: pipeline returned a reply count other than sent");
  }
  if (replies.ok()) {
    std::vector<size_t> retry = NoscriptRetries(commands, *replies);
    if (!retry.empty()) {
      auto again = Retry(commands, retry);
      if (again.ok() && again->size() != retry.size()) {
        again = absl::InternalError("redis: retry returned a reply count other than sent");
      }
      for (size_t k = 0; k < retry.size(); ++k) {
        if (again.ok()) {
          (*replies)[retry[k]] = std::move((*again)[k]);
        } else {
          failed[retry[k]] = true;
        }
      }
      if (!again.ok()) retry_failed = again.status();
    }
  }
  size_t offset = 0;
  for (auto& call : batch) {
    const size_t n = call.commands.size();
    bool call_failed = false;
    std::vector<common::RedisValue> own;
    own.reserve(n);
    for (size_t i = offset; replies.ok() && i < offset + n; ++i) {
      const auto [sent, rank] = merged.source[i];
      call_failed = call_failed || failed[sent];
      own.push_back(hooks_.split ? hooks_.split((*replies)[sent], rank)
                                 : std::move((*replies)[sent]));
    }
    offset += n;
    if (!replies.ok()) {
      call.done(replies.status());
    } else if (call_failed) {
      call.done(retry_failed);
    } else {
      call.done(std::move(own));
    }
  }
}

}  // namespace regsuite::gateway
