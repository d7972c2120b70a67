#pragma once

#include "absl/strings/string_view.h"
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct redisContext;

namespace regsuite::common {

class Config;
class ConfigSchema;

struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string password;
  int pool_size = 8;
  absl::Duration connect_timeout = absl::Milliseconds(500);
  absl::Duration command_timeout = absl::Milliseconds(500);
  // After a failed connect, calls fail fast for this long instead of waiting on the network.
  absl::Duration reconnect_backoff = absl::Milliseconds(250);
};

void AddRedisConfigKeys(ConfigSchema& schema);
RedisOptions ReadRedisOptions(const Config& config);

/// A reply, copied out of hiredis.
struct RedisValue {
  enum class Type { kNil, kString, kInteger, kArray, kStatus, kError };
  Type type = Type::kNil;
  std::string str;
  int64_t integer = 0;
  std::vector<RedisValue> elements;

  bool is_nil() const { return type == Type::kNil; }
};

/// A Lua script called by EVALSHA (loaded on first NOSCRIPT).
class RedisScript {
 public:
  explicit RedisScript(std::string source);
  const std::string& source() const { return source_; }
  const std::string& sha1() const { return sha1_; }

 private:
  std::string source_;
  std::string sha1_;
};

/// Thread-safe Redis client: a small pool of hiredis connections, each call with a timeout;
/// a connection that saw an I/O error is dropped and reopened on the next call.
/// Error replies come back as values of Type::kError, transport failures as UNAVAILABLE.
class RedisClient {
 public:
  explicit RedisClient(RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  absl::StatusOr<RedisValue> Command(const std::vector<std::string>& args);
  /// Sends all commands, then reads all replies: one round trip.
  absl::StatusOr<std::vector<RedisValue>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);
  absl::StatusOr<RedisValue> Eval(const RedisScript& script, const std::vector<std::string>& keys,
                                  const std::vector<std::string>& args);
  absl::Status Ping();

  const RedisOptions& options() const { return options_; }

 private:
  struct ContextDeleter {
    void operator()(redisContext* c) const;
  };
  using ContextPtr = std::unique_ptr<redisContext, ContextDeleter>;

  absl::StatusOr<ContextPtr> Checkout();
  void Checkin(ContextPtr context);
  absl::StatusOr<ContextPtr> Connect();

  const RedisOptions options_;
  std::mutex mu_;
  std::vector<ContextPtr> idle_;
  absl::Time down_until_ = absl::InfinitePast();
};

}  // namespace regsuite::common
