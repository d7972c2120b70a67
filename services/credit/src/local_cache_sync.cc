#include "local_cache_sync.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "regsuite/common/check.h"
#include "regsuite/common/log.h"

namespace regsuite::credit {
namespace {

constexpr char kAckKeyPrefix[] = "credit:l1:ack:";
constexpr char kAckExpiryMs[] = "10000";

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using ReplyPtr = std::unique_ptr<redisReply, ReplyDeleter>;

struct ContextDeleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

int PollMillis(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, 60'000));
}

// The message payload, e.g. "4f1c...-17 913301...,913302..." → {"4f1c...-17", "913301...", ...}.
std::vector<std::string> ParsePayload(absl::string_view payload) {
  std::pair<std::string, std::string> parts = absl::StrSplit(payload, absl::MaxSplits(' ', 1));
  std::vector<std::string> out = {parts.first};
  for (absl::string_view uscc : absl::StrSplit(parts.second, ',', absl::SkipEmpty())) {
    out.emplace_back(uscc);
  }
  return out;
}

}  // namespace

// The subscriber's connection: SUBSCRIBE, then replies read as the socket becomes readable,
// so the thread can also watch the stop pipe and send heartbeats.
class LocalCacheSync::Subscription {
 public:
  static absl::StatusOr<std::unique_ptr<Subscription>> Open(const common::RedisOptions& o) {
    ContextPtr c(
        redisConnectWithTimeout(o.host.c_str(), o.port, absl::ToTimeval(o.connect_timeout)));
    if (c == nullptr || c->err) {
      return absl::UnavailableError(absl::StrCat("redis: ", c ? c->errstr : "out of memory"));
    }
    redisSetTimeout(c.get(), absl::ToTimeval(o.command_timeout));
    // Blocking replies until SUBSCRIBE is confirmed; then the socket is read as it fills.
    auto reply_is = [](void* raw, int type) {
      ReplyPtr reply(static_cast<redisReply*>(raw));
      return reply != nullptr && reply->type == type;
    };
    if (!o.password.empty() &&
        !reply_is(redisCommand(c.get(), "AUTH %s", o.password.c_str()), REDIS_REPLY_STATUS)) {
      return absl::UnauthenticatedError("redis: AUTH failed");
    }
    if (!reply_is(redisCommand(c.get(), "SUBSCRIBE %s", kChannel), REDIS_REPLY_ARRAY)) {
      return absl::UnavailableError(absl::StrCat("redis: SUBSCRIBE failed: ", c->errstr));
    }
    return std::unique_ptr<Subscription>(new Subscription(std::move(c)));
  }

  int fd() const { return context_->fd; }

  // Reads what the socket has; false when the connection is lost.
  bool Read() { return redisBufferRead(context_.get()) == REDIS_OK; }

  // The next complete reply already read, nullptr if none; false on a protocol error.
  bool Next(ReplyPtr* reply) {
    void* raw = nullptr;
    if (redisGetReplyFromReader(context_.get(), &raw) != REDIS_OK) return false;
    reply->reset(static_cast<redisReply*>(raw));
    return true;
  }

  bool Ping() {
    if (redisAppendCommand(context_.get(), "PING") != REDIS_OK) return false;
    int done = 0;
    while (!done) {
      if (redisBufferWrite(context_.get(), &done) != REDIS_OK) return false;
    }
    return true;
  }

 private:
  explicit Subscription(ContextPtr c) : context_(std::move(c)) {}
  ContextPtr context_;
};

LocalCacheSync::LocalCacheSync(LocalCache& cache, common::RedisClient& redis, Options options)
    : cache_(cache),
      redis_(redis),
      options_(std::move(options)),
      id_prefix_(absl::StrFormat(
          "%016x", std::random_device{}() ^ (static_cast<uint64_t>(std::random_device{}()) << 32) ^
                       static_cast<uint64_t>(getpid()))) {
  cache_.SetEnabled(false);
  RS_CHECK(pipe2(wake_, O_CLOEXEC | O_NONBLOCK) == 0) << "pipe2: " << errno;
  thread_ = std::thread([this] { Run(); });
}

LocalCacheSync::~LocalCacheSync() {
  stopping_.store(true);
  const char byte = 0;
  (void)!write(wake_[1], &byte, 1);
  thread_.join();
  close(wake_[0]);
  close(wake_[1]);
  cache_.SetEnabled(false);
}

bool LocalCacheSync::WaitForStop(absl::Duration timeout) {
  pollfd wake = {wake_[0], POLLIN, 0};
  (void)poll(&wake, 1, PollMillis(timeout));
  return stopping_.load();
}

void LocalCacheSync::Run() {
  bool warned = false;
  while (!stopping_.load()) {
    auto subscription = Subscription::Open(options_.redis);
    if (!subscription.ok()) {
      if (!warned) {
        common::LogWarn("credit local cache bypassed: invalidation channel not subscribed",
                        {{"error", subscription.status().ToString()}});
        warned = true;
      }
      if (WaitForStop(options_.reconnect_backoff)) return;
      continue;
    }
    Subscription& sub = **subscription;
    // Empty and enabled only now: whatever was published before is already in Redis, and
    // fills that started earlier hold void tickets.
    cache_.SetEnabled(true);
    common::LogInfo("credit local cache enabled", {{"channel", kChannel}});
    warned = false;
    bool ping_sent = false;
    for (;;) {
      ReplyPtr reply;
      bool ok = true;
      while ((ok = sub.Next(&reply)) && reply != nullptr) {
        ping_sent = false;
        if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
            absl::string_view(reply->element[0]->str, reply->element[0]->len) == "message") {
          Acknowledge(absl::string_view(reply->element[2]->str, reply->element[2]->len));
        }
      }
      if (!ok) break;
      pollfd fds[2] = {{sub.fd(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
      const int n = poll(fds, 2, PollMillis(options_.heartbeat));
      if (stopping_.load()) break;
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      if (n == 0) {
        // Silence for a heartbeat: ask; silence for another one means the link is gone.
        if (ping_sent || !sub.Ping()) break;
        ping_sent = true;
        continue;
      }
      if (!sub.Read()) break;
    }
    cache_.SetEnabled(false);
    if (!stopping_.load()) {
      common::LogWarn("credit local cache bypassed: invalidation subscription lost", {});
      warned = true;
    }
  }
}

void LocalCacheSync::Acknowledge(absl::string_view payload) {
  std::vector<std::string> parts = ParsePayload(payload);
  const std::string key = absl::StrCat(kAckKeyPrefix, parts.front());
  parts.erase(parts.begin());
  cache_.Erase(parts);
  auto acked = redis_.Pipeline({{"RPUSH", key, "1"}, {"PEXPIRE", key, kAckExpiryMs}});
  if (!acked.ok()) {
    common::LogWarn("credit local cache invalidation not acknowledged",
                    {{"error", acked.status().ToString()}});
  }
}

void LocalCacheSync::Invalidate(const std::vector<std::string>& usccs) {
  if (usccs.empty()) return;
  cache_.Erase(usccs);
  const std::string id = absl::StrCat(id_prefix_, "-", next_id_.fetch_add(1));
  auto published =
      redis_.Command({"PUBLISH", kChannel, absl::StrCat(id, " ", absl::StrJoin(usccs, ","))});
  if (!published.ok() || published->type != common::RedisValue::Type::kInteger) {
    publish_failures_.fetch_add(1, std::memory_order_relaxed);
    common::LogWarn("credit local cache invalidation not published",
                    {{"error", published.ok() ? published->str : published.status().ToString()}});
    return;
  }
  const int64_t expected = published->integer;
  const std::string key = absl::StrCat(kAckKeyPrefix, id);
  // Each BLPOP well inside the client's command timeout (the connection would be dropped).
  const absl::Duration step = std::max(redis_.options().command_timeout / 2, absl::Milliseconds(1));
  const absl::Time deadline = absl::Now() + options_.ack_timeout;
  int64_t acked = 0;
  while (acked < expected) {
    const absl::Duration left = std::min(deadline - absl::Now(), step);
    if (left < absl::Milliseconds(1)) break;
    auto popped =
        redis_.Command({"BLPOP", key, absl::StrFormat("%.3f", absl::ToDoubleSeconds(left))});
    if (!popped.ok() || popped->type == common::RedisValue::Type::kError) break;
    if (popped->type == common::RedisValue::Type::kArray) ++acked;
  }
  if (acked < expected) {
    ack_timeouts_.fetch_add(1, std::memory_order_relaxed);
    common::LogWarn("credit local cache invalidation: replicas did not acknowledge in time",
                    {{"expected", absl::StrCat(expected)},
                     {"acknowledged", absl::StrCat(acked)},
                     {"subjects", absl::StrCat(usccs.size())}});
  }
}

}  // namespace regsuite::credit
