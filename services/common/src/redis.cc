#include "regsuite/common/redis.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <sys/time.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "regsuite/common/config.h"

namespace regsuite::common {
namespace {

RedisValue Copy(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      v.type = RedisValue::Type::kString;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::kStatus;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      v.type = RedisValue::Type::kError;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::kInteger;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::kArray;
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(Copy(r->element[i]));
      break;
    default:
      v.type = RedisValue::Type::kNil;
  }
  return v;
}

void AppendArgv(redisContext* c, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  redisAppendCommandArgv(c, static_cast<int>(args.size()), argv.data(), lens.data());
}

std::string Sha1Hex(absl::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha1(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xf]);
  }
  return out;
}

}  // namespace

void AddRedisConfigKeys(ConfigSchema& schema) {
  schema.Add("redis.host", ConfigType::kString, "127.0.0.1", "Redis host")
      .Add("redis.port", ConfigType::kInt, "7379", "Redis port")
      .AddSecret("redis.password", "Redis AUTH password (empty: none)")
      .Add("redis.pool_size", ConfigType::kInt, "8", "maximum open Redis connections")
      .Add("redis.connect_timeout", ConfigType::kDuration, "500ms", "connection timeout")
      .Add("redis.command_timeout", ConfigType::kDuration, "500ms", "timeout of every command");
}

RedisOptions ReadRedisOptions(const Config& config) {
  RedisOptions o;
  o.host = config.GetString("redis.host");
  o.port = static_cast<int>(config.GetInt("redis.port"));
  o.password = config.GetString("redis.password");
  o.pool_size = static_cast<int>(config.GetInt("redis.pool_size"));
  o.connect_timeout = config.GetDuration("redis.connect_timeout");
  o.command_timeout = config.GetDuration("redis.command_timeout");
  return o;
}

RedisScript::RedisScript(std::string source) : source_(std::move(source)), sha1_(Sha1Hex(source_)) {}

void RedisClient::ContextDeleter::operator()(redisContext* c) const { redisFree(c); }

RedisClient::RedisClient(RedisOptions options) : options_(std::move(options)) {}
RedisClient::~RedisClient() = default;

absl::StatusOr<RedisClient::ContextPtr> RedisClient::Connect() {
  timeval tv = absl::ToTimeval(options_.connect_timeout);
  ContextPtr c(redisConnectWithTimeout(options_.host.c_str(), options_.port, tv));
  if (c == nullptr || c->err) {
    std::string why = c ? c->errstr : "out of memory";
    return absl::UnavailableError(
        absl::StrCat("redis ", options_.host, ":", options_.port, ": ", why));
  }
  timeval ctv = absl::ToTimeval(options_.command_timeout);
  redisSetTimeout(c.get(), ctv);
  if (!options_.password.empty()) {
    auto* r = static_cast<redisReply*>(redisCommand(c.get(), "AUTH %s", options_.password.c_str()));
    bool ok = r != nullptr && r->type != REDIS_REPLY_ERROR;
    if (r) freeReplyObject(r);
    if (!ok) return absl::UnauthenticatedError("redis: AUTH failed");
  }
  return c;
}

absl::StatusOr<RedisClient::ContextPtr> RedisClient::Checkout() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      ContextPtr c = std::move(idle_.back());
      idle_.pop_back();
      return c;
    }
    if (absl::Now() < down_until_) {
      return absl::UnavailableError("redis: unreachable (recent connect failed)");
    }
  }
  auto c = Connect();
  if (!c.ok()) {
    std::lock_guard lock(mu_);
    down_until_ = absl::Now() + options_.reconnect_backoff;
  }
  return c;
}

void RedisClient::Checkin(ContextPtr context) {
  std::lock_guard lock(mu_);
  if (static_cast<int>(idle_.size()) < options_.pool_size) idle_.push_back(std::move(context));
}

absl::StatusOr<std::vector<RedisValue>> RedisClient::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  auto c = Checkout();
  if (!c.ok()) return c.status();
  for (const auto& cmd : commands) AppendArgv(c->get(), cmd);
  std::vector<RedisValue> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(c->get(), &raw) != REDIS_OK || raw == nullptr) {
      // The connection is in an unknown state: drop it (not returned to the pool).
      return absl::UnavailableError(absl::StrCat("redis: ", (*c)->errstr));
    }
    auto* reply = static_cast<redisReply*>(raw);
    replies.push_back(Copy(reply));
    freeReplyObject(reply);
  }
  Checkin(std::move(*c));
  return replies;
}

absl::StatusOr<RedisValue> RedisClient::Command(const std::vector<std::string>& args) {
  auto replies = Pipeline({args});
  if (!replies.ok()) return replies.status();
  return std::move(replies->front());
}

absl::StatusOr<RedisValue> RedisClient::Eval(const RedisScript& script,
                                             const std::vector<std::string>& keys,
                                             const std::vector<std::string>& args) {
  auto build = [&](std::string verb, const std::string& body) {
    std::vector<std::string> cmd = {std::move(verb), body, std::to_string(keys.size())};
    cmd.insert(cmd.end(), keys.begin(), keys.end());
    cmd.insert(cmd.end(), args.begin(), args.end());
    return cmd;
  };
  auto reply = Command(build("EVALSHA", script.sha1()));
  if (!reply.ok()) return reply;
  if (reply->type == RedisValue::Type::kError && reply->str.rfind("NOSCRIPT", 0) == 0) {
    // EVAL runs the script and caches it, so the next EVALSHA succeeds.
    return Command(build("EVAL", script.source()));
  }
  return reply;
}

absl::Status RedisClient::Ping() {
  auto reply = Command({"PING"});
  if (!reply.ok()) return reply.status();
  if (reply->type == RedisValue::Type::kError) {
    return absl::UnavailableError(absl::StrCat("redis: ", reply->str));
  }
  return absl::OkStatus();
}

}  // namespace regsuite::common
