#include "auth.h"

#include <cmath>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace regsuite::gateway {
namespace {

// KEYS[1] bucket key; ARGV: rate per second, burst, now in ms, and n, the calls asking for a
// token (the batcher merges the calls of one batch on the same bucket). Grants up to n tokens.
// Returns {granted, retry_ms}: retry_ms, when some were refused, is when the next token comes.
constexpr char kTokenBucket[] = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local n = tonumber(ARGV[4]) or 1
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local granted = math.max(0, math.min(n, math.floor(tokens)))
tokens = tokens - granted
local retry_ms = 0
if granted < n then
  retry_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {granted, retry_ms}
)lua";

int RetryAfterSeconds(int64_t retry_ms) {
  return static_cast<int>(std::max<int64_t>(1, (retry_ms + 999) / 1000));
}

}  // namespace

absl::StatusOr<std::pair<Client, SignatureHeaders>> Authenticator::Verify(
    const ClientSnapshot& clients, const IncomingCall& call, absl::Time now,
    std::string* failure_reason) const {
  auto headers = ParseSignatureHeaders(call.headers);
  if (!headers.ok()) {
    *failure_reason = "bad_header";
    return headers.status();
  }
  auto it = clients.by_app_key.find(headers->app_key);
  if (it == clients.by_app_key.end() || it->second.disabled) {
    *failure_reason = it == clients.by_app_key.end() ? "unknown_client" : "disabled_client";
    return Unauthenticated("x-app-key", "unknown or disabled client");
  }
  const Client& client = it->second;
  const absl::Time signed_at = absl::FromUnixSeconds(headers->timestamp);
  if (absl::AbsDuration(now - signed_at) > window_) {
    *failure_reason = "stale_timestamp";
    return Unauthenticated("x-timestamp",
                           absl::StrCat("outside the allowed window of ±",
                                        absl::ToInt64Seconds(window_), " s of the gateway clock"));
  }
  if (headers->method != client.signature_method) {
    *failure_reason = "wrong_signature_method";
    return Unauthenticated("x-signature-method",
                           absl::StrCat("this client signs with ",
                                        common::SignatureMethodName(client.signature_method)));
  }
  const std::string to_sign = common::StringToSign(
      call.signed_method, call.signed_path, call.signed_query, absl::StrCat(headers->timestamp),
      headers->nonce, common::BodyDigestHex(headers->method, call.signed_body));
  const std::string expected = common::SignatureBase64(headers->method, client.secret, to_sign);
  // After a rotation, the previous secret signs until its grace period ends.
  auto previous_ok = [&] {
    if (client.previous_secret.empty() || now >= client.previous_secret_until) return false;
    return common::SignaturesEqual(
        common::SignatureBase64(headers->method, client.previous_secret, to_sign),
        headers->signature);
  };
  if (!common::SignaturesEqual(expected, headers->signature) && !previous_ok()) {
    *failure_reason = "bad_signature";
    return Unauthenticated("x-signature", "does not match the request");
  }
  return std::make_pair(client, std::move(*headers));
}

absl::StatusOr<Client> Authenticator::VerifyCertificate(const ClientSnapshot& clients,
                                                        const IncomingCall& call,
                                                        std::string* failure_reason) const {
  if (call.client_cert_fingerprint.empty()) {
    *failure_reason = "bad_header";
    return Unauthenticated("x-app-key", "missing");
  }
  auto key = clients.app_key_by_cert_fingerprint.find(call.client_cert_fingerprint);
  if (key == clients.app_key_by_cert_fingerprint.end()) {
    *failure_reason = "unknown_certificate";
    return Unauthenticated("client certificate", "not registered to any client");
  }
  auto it = clients.by_app_key.find(key->second);
  if (it == clients.by_app_key.end() || it->second.disabled) {
    *failure_reason = "disabled_client";
    return Unauthenticated("client certificate", "its client is disabled");
  }
  return it->second;
}

absl::Status Authenticator::CheckCertificateMatches(const ClientSnapshot& clients,
                                                    const IncomingCall& call, const Client& client,
                                                    std::string* failure_reason) const {
  auto key = clients.app_key_by_cert_fingerprint.find(call.client_cert_fingerprint);
  if (key == clients.app_key_by_cert_fingerprint.end() || key->second == client.app_key) {
    return absl::OkStatus();
  }
  *failure_reason = "certificate_mismatch";
  return Unauthenticated("client certificate", "registered to another client than x-app-key");
}

RedisMerge MergeBucketTakes(std::vector<RedisCommand> commands, const std::string& sha1) {
  RedisMerge merged;
  merged.source.reserve(commands.size());
  // (key, rate, burst) → index of the merged command; its n and now are updated in place.
  absl::flat_hash_map<std::tuple<std::string, std::string, std::string>, size_t> groups;
  for (auto& command : commands) {
    const bool bucket = command.size() == 8 && command[0] == "EVALSHA" && command[1] == sha1 &&
                        command[2] == "1";
    if (!bucket) {
      merged.source.emplace_back(merged.commands.size(), 0);
      merged.commands.push_back(std::move(command));
      continue;
    }
    auto [group, inserted] =
        groups.try_emplace(std::make_tuple(command[3], command[4], command[5]), merged.commands.size());
    if (inserted) {
      merged.source.emplace_back(group->second, 0);
      merged.commands.push_back(std::move(command));
      continue;
    }
    RedisCommand& take = merged.commands[group->second];
    int64_t n = 0;
    int64_t now = 0;
    int64_t this_n = 0;
    int64_t this_now = 0;
    if (!absl::SimpleAtoi(take[7], &n) || !absl::SimpleAtoi(take[6], &now) ||
        !absl::SimpleAtoi(command[7], &this_n) || !absl::SimpleAtoi(command[6], &this_now)) {
      merged.source.emplace_back(merged.commands.size(), 0);  // not ours to merge: sent alone
      merged.commands.push_back(std::move(command));
      continue;
    }
    merged.source.emplace_back(group->second, static_cast<size_t>(n));
    take[7] = absl::StrCat(n + this_n);
    if (this_now > now) take[6] = std::move(command[6]);
  }
  return merged;
}

common::RedisValue SplitBucketReply(const common::RedisValue& merged, size_t rank) {
  if (merged.type != common::RedisValue::Type::kArray || merged.elements.size() != 2) return merged;
  common::RedisValue one = merged;
  const bool granted = static_cast<int64_t>(rank) < merged.elements[0].integer;
  one.elements[0].integer = granted ? 1 : 0;
  if (granted) one.elements[1].integer = 0;
  return one;
}

RequestGuard::RequestGuard(RedisPipelineFn pipeline, GuardOptions options)
    : options_(options),
      bucket_script_(kTokenBucket),
      nonce_px_(absl::StrCat(absl::ToInt64Milliseconds(options_.nonce_window))),
      batcher_(std::move(pipeline), {&bucket_script_}, options_.batcher,
               RedisMergeHooks{[sha1 = bucket_script_.sha1()](std::vector<RedisCommand> commands) {
                                 return MergeBucketTakes(std::move(commands), sha1);
                               },
                               SplitBucketReply}) {}

RequestGuard::Outcome RequestGuard::LocalLimit(const std::string& key, double rate, int burst,
                                               absl::Time now) {
  std::lock_guard lock(local_mu_);
  auto [it, inserted] = local_.try_emplace(key, Bucket{static_cast<double>(burst), now});
  Bucket& b = it->second;
  b.tokens = std::min<double>(burst, b.tokens + absl::ToDoubleSeconds(now - b.updated) * rate);
  b.updated = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return {};
  }
  return {absl::ResourceExhaustedError("rate limit exceeded (local limiter: Redis unavailable)"),
          RetryAfterSeconds(static_cast<int64_t>(std::ceil((1 - b.tokens) * 1000 / rate))),
          "rate_limited"};
}

RequestGuard::Plan RequestGuard::MakePlan(const Client* client, const SignatureHeaders* headers,
                                          const AccessRule* rule, absl::string_view method,
                                          absl::string_view peer, absl::Time now) const {
  Plan plan;
  plan.now = now;
  if (client == nullptr) {
    plan.limits.push_back({absl::StrCat("gateway:rl:anon:", peer.substr(0, peer.rfind(':'))),
                           options_.anonymous_rate, options_.anonymous_burst});
  } else {
    double rate = client->rate_per_second > 0 ? client->rate_per_second : options_.default_rate;
    int burst = client->burst > 0 ? client->burst : std::max(1, options_.default_burst);
    plan.limits.push_back({absl::StrCat("gateway:rl:client:", client->app_key), rate, burst});
    if (rule != nullptr && rule->rate_per_second > 0) {
      plan.limits.push_back({absl::StrCat("gateway:rl:method:", client->app_key, ":", method),
                             rule->rate_per_second,
                             std::max(1, static_cast<int>(std::ceil(rule->rate_per_second)))});
    }
  }
  plan.commands.reserve(plan.limits.size() + 1);
  if (headers != nullptr && client != nullptr) {
    plan.nonce = true;
    plan.commands.push_back({"SET", absl::StrCat("gateway:nonce:", client->app_key, ":", headers->nonce),
                             "1", "NX", "PX", nonce_px_});
  }
  const std::string now_ms = absl::StrCat(absl::ToUnixMillis(now));
  for (const auto& l : plan.limits) {
    plan.commands.push_back({"EVALSHA", bucket_script_.sha1(), "1", l.key, absl::StrCat(l.rate),
                             absl::StrCat(l.burst), now_ms, "1"});
  }
  return plan;
}

RequestGuard::Outcome RequestGuard::Decide(const Plan& plan, const RedisReplies& replies) {
  if (replies.status().code() == absl::StatusCode::kResourceExhausted) {
    return {absl::UnavailableError("gateway overloaded, retry later"), 1, "overloaded"};
  }
  if (!replies.ok() || replies->size() != plan.limits.size() + (plan.nonce ? 1 : 0)) {
    if (plan.nonce) {
      return {absl::UnavailableError("replay protection unavailable (Redis unreachable); retry"), 1,
              "redis_unavailable"};
    }
    if (options_.fail_open) return {};
    for (const auto& l : plan.limits) {
      Outcome local = LocalLimit(l.key, l.rate, l.burst, plan.now);
      if (!local.status.ok()) return local;
    }
    return {};
  }
  size_t i = 0;
  if (plan.nonce) {
    const auto& nonce_reply = (*replies)[i++];
    if (nonce_reply.is_nil()) {
      return {absl::UnauthenticatedError("x-nonce: already used within the replay window"), 0,
              "replay"};
    }
    if (nonce_reply.type == common::RedisValue::Type::kError) {
      return {absl::UnavailableError(absl::StrCat("replay protection error: ", nonce_reply.str)), 1,
              "redis_unavailable"};
    }
  }
  for (; i < replies->size(); ++i) {
    const auto& r = (*replies)[i];
    if (r.type != common::RedisValue::Type::kArray || r.elements.size() != 2) {
      return {absl::UnavailableError(absl::StrCat("rate limiter error: ", r.str)), 1,
              "redis_unavailable"};
    }
    if (r.elements[0].integer != 1) {
      return {absl::ResourceExhaustedError("rate limit exceeded; retry after the time given"),
              RetryAfterSeconds(r.elements[1].integer), "rate_limited"};
    }
  }
  return {};
}

void RequestGuard::CheckAsync(Plan plan, std::function<void(Outcome)> done) {
  std::vector<RedisCommand> commands = std::move(plan.commands);
  std::function<void(RedisReplies)> on_replies =
      [this, plan = std::move(plan), done = std::move(done)](RedisReplies replies) {
        done(Decide(plan, replies));
      };
  if (!batcher_.Submit(std::move(commands), std::move(on_replies))) {
    on_replies(absl::ResourceExhaustedError("Redis queue full"));  // Decide: overloaded
  }
}

}  // namespace regsuite::gateway
