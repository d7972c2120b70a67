#include "auth.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace regsuite::gateway {
namespace {

// KEYS[1] bucket key; ARGV: rate per second, burst, now in ms. Returns {allowed, retry_ms}.
constexpr char kTokenBucket[] = R"lua(
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = burst; ts = now end
if now > ts then tokens = math.min(burst, tokens + (now - ts) * rate / 1000) end
local allowed = 0
local retry_ms = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(math.max(now, ts)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry_ms}
)lua";

const std::string* Header(const std::multimap<std::string, std::string>& headers,
                          const char* name) {
  auto it = headers.find(name);
  return it == headers.end() ? nullptr : &it->second;
}

absl::Status Unauthenticated(absl::string_view header, absl::string_view rule) {
  return absl::UnauthenticatedError(absl::StrCat(header, ": ", rule));
}

bool NonceCharsetOk(absl::string_view nonce) {
  for (char c : nonce) {
    if (!(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

int RetryAfterSeconds(int64_t retry_ms) {
  return static_cast<int>(std::max<int64_t>(1, (retry_ms + 999) / 1000));
}

}  // namespace

absl::StatusOr<SignatureHeaders> ParseSignatureHeaders(
    const std::multimap<std::string, std::string>& headers) {
  SignatureHeaders out;
  const std::string* app_key = Header(headers, "x-app-key");
  const std::string* timestamp = Header(headers, "x-timestamp");
  const std::string* nonce = Header(headers, "x-nonce");
  const std::string* method = Header(headers, "x-signature-method");
  const std::string* signature = Header(headers, "x-signature");
  if (app_key == nullptr || app_key->empty()) return Unauthenticated("x-app-key", "missing");
  if (timestamp == nullptr) return Unauthenticated("x-timestamp", "missing");
  if (nonce == nullptr) return Unauthenticated("x-nonce", "missing");
  if (signature == nullptr || signature->empty()) return Unauthenticated("x-signature", "missing");
  out.app_key = *app_key;
  if (timestamp->empty() || timestamp->size() > 12 || !absl::SimpleAtoi(*timestamp, &out.timestamp) ||
      timestamp->find_first_not_of("0123456789") != std::string::npos) {
    return Unauthenticated("x-timestamp", "must be Unix time in seconds");
  }
  if (nonce->size() < 16 || nonce->size() > 64 || !NonceCharsetOk(*nonce)) {
    return Unauthenticated("x-nonce", "must be 16-64 characters from [A-Za-z0-9_-]");
  }
  out.nonce = *nonce;
  auto parsed_method = common::ParseSignatureMethod(method == nullptr ? "" : *method);
  if (!parsed_method.ok()) return absl::UnauthenticatedError(parsed_method.status().message());
  out.method = *parsed_method;
  out.signature = *signature;
  return out;
}

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
  if (!common::SignaturesEqual(expected, headers->signature)) {
    *failure_reason = "bad_signature";
    return Unauthenticated("x-signature", "does not match the request");
  }
  return std::make_pair(client, std::move(*headers));
}

RequestGuard::RequestGuard(common::RedisClient& redis, GuardOptions options)
    : redis_(redis), options_(options), bucket_script_(kTokenBucket) {}

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

RequestGuard::Outcome RequestGuard::Check(const Client* client, const SignatureHeaders* headers,
                                          const AccessRule* rule, absl::string_view method,
                                          absl::string_view peer, absl::Time now) {
  const std::string now_ms = absl::StrCat(absl::ToUnixMillis(now));
  struct Limit {
    std::string key;
    double rate;
    int burst;
  };
  std::vector<Limit> limits;
  if (client == nullptr) {
    limits.push_back({absl::StrCat("gateway:rl:anon:", peer.substr(0, peer.rfind(':'))),
                      options_.anonymous_rate, options_.anonymous_burst});
  } else {
    double rate = client->rate_per_second > 0 ? client->rate_per_second : options_.default_rate;
    int burst = client->burst > 0 ? client->burst : std::max(1, options_.default_burst);
    limits.push_back({absl::StrCat("gateway:rl:client:", client->app_key), rate, burst});
    if (rule != nullptr && rule->rate_per_second > 0) {
      limits.push_back({absl::StrCat("gateway:rl:method:", client->app_key, ":", method),
                        rule->rate_per_second,
                        std::max(1, static_cast<int>(std::ceil(rule->rate_per_second)))});
    }
  }
  std::vector<std::vector<std::string>> commands;
  if (headers != nullptr) {
    commands.push_back({"SET", absl::StrCat("gateway:nonce:", client->app_key, ":", headers->nonce),
                        "1", "NX", "EX", absl::StrCat(absl::ToInt64Seconds(options_.nonce_window))});
  }
  for (const auto& l : limits) {
    commands.push_back({"EVALSHA", bucket_script_.sha1(), "1", l.key, absl::StrCat(l.rate),
                        absl::StrCat(l.burst), now_ms});
  }
  auto replies = redis_.Pipeline(commands);
  if (replies.ok()) {
    // First use on this Redis (or after SCRIPT FLUSH): load the script and run only the
    // bucket commands again; the nonce was already recorded by the first pipeline.
    const size_t first_bucket = headers != nullptr ? 1 : 0;
    bool noscript = false;
    for (size_t i = first_bucket; i < replies->size(); ++i) {
      noscript = noscript || ((*replies)[i].type == common::RedisValue::Type::kError &&
                              absl::StartsWith((*replies)[i].str, "NOSCRIPT"));
    }
    if (noscript) {
      auto loaded = redis_.Command({"SCRIPT", "LOAD", bucket_script_.source()});
      std::vector<std::vector<std::string>> buckets(commands.begin() + first_bucket, commands.end());
      auto again = loaded.ok() ? redis_.Pipeline(buckets) : absl::StatusOr<std::vector<common::RedisValue>>(loaded.status());
      if (!again.ok()) {
        replies = again.status();
      } else {
        for (size_t i = 0; i < again->size(); ++i) (*replies)[first_bucket + i] = std::move((*again)[i]);
      }
    }
  }
  if (!replies.ok()) {
    if (headers != nullptr) {
      return {absl::UnavailableError("replay protection unavailable (Redis unreachable); retry"), 1,
              "redis_unavailable"};
    }
    if (options_.fail_open) return {};
    for (const auto& l : limits) {
      Outcome local = LocalLimit(l.key, l.rate, l.burst, now);
      if (!local.status.ok()) return local;
    }
    return {};
  }
  size_t i = 0;
  if (headers != nullptr) {
    const auto& nonce_reply = (*replies)[i++];
    if (nonce_reply.is_nil()) {
      return {absl::UnauthenticatedError("x-nonce: already used within the replay window"), 0,
              "replay"};
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

}  // namespace regsuite::gateway
