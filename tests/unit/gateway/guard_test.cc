// The Redis batcher and the request guard against an in-memory fake of the few Redis commands
// they send (SET NX PX, EVALSHA of the token bucket, SCRIPT LOAD). No I/O: a batcher that was
// never started completes its queued calls in Stop(), on the test's thread.
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

#include "absl/strings/str_cat.h"
#include "auth.h"
#include "redis_batcher.h"

using regsuite::common::RedisScript;
using regsuite::common::RedisValue;
using regsuite::gateway::AccessRule;
using regsuite::gateway::Client;
using regsuite::gateway::GuardOptions;
using regsuite::gateway::MergeBucketTakes;
using regsuite::gateway::NoscriptRetries;
using regsuite::gateway::SplitBucketReply;
using regsuite::gateway::RedisBatcher;
using regsuite::gateway::RedisBatcherOptions;
using regsuite::gateway::RedisCommand;
using regsuite::gateway::RedisReplies;
using regsuite::gateway::RequestGuard;
using regsuite::gateway::SignatureHeaders;

namespace {

RedisValue Str(std::string s) {
  RedisValue v;
  v.type = RedisValue::Type::kString;
  v.str = std::move(s);
  return v;
}

RedisValue Err(std::string s) {
  RedisValue v;
  v.type = RedisValue::Type::kError;
  v.str = std::move(s);
  return v;
}

RedisValue Int(int64_t i) {
  RedisValue v;
  v.type = RedisValue::Type::kInteger;
  v.integer = i;
  return v;
}

// Just enough Redis: SET NX (nil when the key exists), EVALSHA answering NOSCRIPT until the
// script is loaded and then {allowed, retry_ms}, SCRIPT LOAD, ECHO; `down` fails transport.
struct FakeRedis {
  bool down = false;
  bool fail_after_noscript = false;  // the retry round trip fails in transport
  std::set<std::string> keys;
  std::set<std::string> loaded;
  int64_t tokens = 1 << 30;  // one bucket for all keys: {granted, retry_ms} of ARGV n takes
  int64_t retry_ms = 0;
  std::vector<std::vector<RedisCommand>> pipelines;

  RedisReplies operator()(const std::vector<RedisCommand>& commands) {
    pipelines.push_back(commands);
    if (down) return absl::UnavailableError("redis: Connection refused");
    if (fail_after_noscript && pipelines.size() > 1) return absl::UnavailableError("redis: reset");
    std::vector<RedisValue> replies;
    for (const auto& c : commands) {
      if (c[0] == "SET") {
        RedisValue ok;
        if (keys.insert(c[1]).second) ok = Str("OK");
        replies.push_back(ok);
      } else if (c[0] == "SCRIPT") {
        loaded.insert(RedisScript(c[2]).sha1());
        replies.push_back(Str(RedisScript(c[2]).sha1()));
      } else if (c[0] == "EVALSHA") {
        if (!loaded.contains(c[1])) {
          replies.push_back(Err("NOSCRIPT No matching script."));
          continue;
        }
        const int64_t n = c.size() >= 8 ? std::stoll(c[7]) : 1;
        const int64_t granted = std::min(n, tokens);
        tokens -= granted;
        RedisValue v;
        v.type = RedisValue::Type::kArray;
        v.elements = {Int(granted), Int(granted < n ? retry_ms : 0)};
        replies.push_back(v);
      } else {
        replies.push_back(Str(c[1]));  // ECHO
      }
    }
    return replies;
  }
};

regsuite::gateway::RedisPipelineFn Fn(FakeRedis& redis) {
  return [&redis](const std::vector<RedisCommand>& commands) { return redis(commands); };
}

// What each call of a batch received.
struct Received {
  std::vector<RedisReplies> replies;
  std::function<void(RedisReplies)> Slot() {
    const size_t i = replies.size();
    replies.emplace_back(absl::UnknownError("not called"));
    return [this, i](RedisReplies r) { replies[i] = std::move(r); };
  }
};

bool Submit(RedisBatcher& batcher, std::vector<RedisCommand> commands,
            std::function<void(RedisReplies)> done) {
  return batcher.Submit(std::move(commands), std::move(done));
}

Client ClientWithRate(double rate, int burst) {
  Client c;
  c.app_key = "prov";
  c.rate_per_second = rate;
  c.burst = burst;
  return c;
}

SignatureHeaders Headers(std::string nonce) {
  SignatureHeaders h;
  h.app_key = "prov";
  h.nonce = std::move(nonce);
  return h;
}

const absl::Time kNow = absl::FromUnixSeconds(1795132800);

}  // namespace

TEST_CASE("NOSCRIPT retries are the EVALSHA commands answered NOSCRIPT, nothing else") {
  std::vector<RedisCommand> commands = {{"SET", "n", "1", "NX", "PX", "600000"},
                                        {"EVALSHA", "abc", "1", "k"},
                                        {"EVALSHA", "abc", "1", "k2"},
                                        {"ECHO", "NOSCRIPT"}};
  std::vector<RedisValue> replies = {Err("NOSCRIPT x"), Err("NOSCRIPT No matching script."),
                                     Err("ERR other"), Err("NOSCRIPT y")};
  CHECK(NoscriptRetries(commands, replies) == std::vector<size_t>{1});
}

TEST_CASE("batcher: queued calls share one pipeline and each gets its own replies in order") {
  FakeRedis redis;
  RedisBatcher batcher(Fn(redis), {}, RedisBatcherOptions{});
  Received got;
  REQUIRE(Submit(batcher, {{"ECHO", "a1"}, {"ECHO", "a2"}}, got.Slot()));
  REQUIRE(Submit(batcher, {{"ECHO", "b1"}}, got.Slot()));
  REQUIRE(Submit(batcher, {}, got.Slot()));
  REQUIRE(Submit(batcher, {{"ECHO", "c1"}, {"ECHO", "c2"}, {"ECHO", "c3"}}, got.Slot()));
  batcher.Stop();
  REQUIRE(redis.pipelines.size() == 1);
  CHECK(redis.pipelines[0].size() == 6);
  auto strs = [](const RedisReplies& r) {
    std::vector<std::string> out;
    for (const auto& v : *r) out.push_back(v.str);
    return out;
  };
  REQUIRE(got.replies[0].ok());
  CHECK(strs(got.replies[0]) == std::vector<std::string>{"a1", "a2"});
  CHECK(strs(got.replies[1]) == std::vector<std::string>{"b1"});
  CHECK(strs(got.replies[2]).empty());
  CHECK(strs(got.replies[3]) == std::vector<std::string>{"c1", "c2", "c3"});
}

TEST_CASE("batcher: a batch holds at most max_batch_commands, but a call is never split") {
  FakeRedis redis;
  RedisBatcherOptions options;
  options.max_batch_commands = 3;
  RedisBatcher batcher(Fn(redis), {}, options);
  Received got;
  REQUIRE(Submit(batcher, {{"ECHO", "a"}, {"ECHO", "a"}}, got.Slot()));
  REQUIRE(Submit(batcher, {{"ECHO", "b"}, {"ECHO", "b"}}, got.Slot()));
  REQUIRE(Submit(batcher, {{"ECHO", "c"}, {"ECHO", "c"}, {"ECHO", "c"}, {"ECHO", "c"}}, got.Slot()));
  batcher.Stop();
  REQUIRE(redis.pipelines.size() == 3);
  CHECK(redis.pipelines[0].size() == 2);
  CHECK(redis.pipelines[2].size() == 4);
  for (const auto& r : got.replies) CHECK(r.ok());
}

TEST_CASE("batcher: NOSCRIPT loads the script and resends only the bucket commands") {
  FakeRedis redis;
  RedisScript script("return {1, 0}");
  RedisBatcher batcher(Fn(redis), {&script}, RedisBatcherOptions{});
  Received got;
  REQUIRE(Submit(batcher, {{"SET", "nonce-1", "1", "NX", "PX", "600000"},
                           {"EVALSHA", script.sha1(), "1", "bucket-a"}},
                 got.Slot()));
  REQUIRE(Submit(batcher, {{"EVALSHA", script.sha1(), "1", "bucket-b"}}, got.Slot()));
  batcher.Stop();
  REQUIRE(redis.pipelines.size() == 2);
  const auto& retry = redis.pipelines[1];
  REQUIRE(retry.size() == 3);
  CHECK(retry[0] == RedisCommand{"SCRIPT", "LOAD", "return {1, 0}"});
  CHECK(retry[1][3] == "bucket-a");
  CHECK(retry[2][3] == "bucket-b");
  REQUIRE(got.replies[0].ok());
  REQUIRE(got.replies[0]->size() == 2);
  CHECK((*got.replies[0])[0].str == "OK");  // the nonce, from the first round trip
  CHECK((*got.replies[0])[1].type == RedisValue::Type::kArray);
  REQUIRE(got.replies[1].ok());
  CHECK((*got.replies[1])[0].elements[0].integer == 1);
}

TEST_CASE("batcher: a transport failure fails the batch's calls; a failed retry only its own") {
  FakeRedis redis;
  RedisScript script("return {1, 0}");
  {
    redis.down = true;
    RedisBatcher batcher(Fn(redis), {&script}, RedisBatcherOptions{});
    Received got;
    REQUIRE(Submit(batcher, {{"ECHO", "a"}}, got.Slot()));
    REQUIRE(Submit(batcher, {{"ECHO", "b"}}, got.Slot()));
    batcher.Stop();
    for (const auto& r : got.replies) CHECK(r.status().code() == absl::StatusCode::kUnavailable);
  }
  redis.down = false;
  redis.fail_after_noscript = true;
  redis.pipelines.clear();
  RedisBatcher batcher(Fn(redis), {&script}, RedisBatcherOptions{});
  Received got;
  REQUIRE(Submit(batcher, {{"ECHO", "a"}}, got.Slot()));
  REQUIRE(Submit(batcher, {{"SET", "n", "1"}, {"EVALSHA", script.sha1(), "1", "k"}}, got.Slot()));
  REQUIRE(Submit(batcher, {{"ECHO", "c"}}, got.Slot()));
  batcher.Stop();
  CHECK(got.replies[0].ok());
  CHECK(got.replies[1].status().code() == absl::StatusCode::kUnavailable);
  CHECK(got.replies[2].ok());
}

TEST_CASE("batcher: a full queue or a stopped batcher refuses and leaves the call untouched") {
  FakeRedis redis;
  RedisBatcherOptions options;
  options.max_queued = 1;
  RedisBatcher batcher(Fn(redis), {}, options);
  Received got;
  REQUIRE(Submit(batcher, {{"ECHO", "a"}}, got.Slot()));
  std::vector<RedisCommand> commands = {{"ECHO", "b"}};
  std::function<void(RedisReplies)> done = [](RedisReplies) {};
  CHECK_FALSE(batcher.Submit(std::move(commands), std::move(done)));
  CHECK(commands.size() == 1);  // not moved from: the caller still owns it
  CHECK(done != nullptr);
  batcher.Stop();
  CHECK(got.replies[0].ok());
  CHECK_FALSE(batcher.Submit(std::move(commands), std::move(done)));
}

TEST_CASE("batcher: started I/O threads complete calls submitted from other threads") {
  FakeRedis redis;
  std::mutex mu;
  std::condition_variable cv;
  int completed = 0;
  RedisBatcher batcher(
      [&](const std::vector<RedisCommand>& commands) {
        std::lock_guard lock(mu);  // the fake is not thread-safe; two I/O threads share it
        return redis(commands);
      },
      {}, RedisBatcherOptions{.threads = 2});
  batcher.Start();
  constexpr int kCalls = 200;
  for (int i = 0; i < kCalls; ++i) {
    REQUIRE(Submit(batcher, {{"ECHO", absl::StrCat(i)}}, [&, i](RedisReplies r) {
      std::lock_guard lock(mu);
      if (r.ok() && r->size() == 1 && (*r)[0].str == absl::StrCat(i)) ++completed;
      cv.notify_all();
    }));
  }
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(30), [&] { return completed == kCalls; });
  }
  batcher.Stop();
  CHECK(completed == kCalls);
}

TEST_CASE("guard: a fresh nonce passes, the same nonce again is a replay") {
  FakeRedis redis;
  auto check = [&](const SignatureHeaders& headers) {
    RequestGuard guard(Fn(redis), GuardOptions{});
    Client client = ClientWithRate(10, 10);
    RequestGuard::Outcome outcome{absl::UnknownError("not called")};
    guard.CheckAsync(guard.MakePlan(&client, &headers, nullptr, "m", "ipv4:1.2.3.4:5", kNow),
                     [&](RequestGuard::Outcome o) { outcome = std::move(o); });
    guard.Stop();
    return outcome;
  };
  CHECK(check(Headers("n-1")).status.ok());
  auto replay = check(Headers("n-1"));
  CHECK(replay.status.code() == absl::StatusCode::kUnauthenticated);
  CHECK(replay.reason == "replay");
  CHECK(check(Headers("n-2")).status.ok());
  // The nonce key is per client and expires after the replay window (PX, milliseconds).
  REQUIRE(!redis.pipelines.empty());
  CHECK(redis.pipelines[0][0] ==
        RedisCommand{"SET", "gateway:nonce:prov:n-1", "1", "NX", "PX", "600000"});
}

TEST_CASE("guard: the plan limits the client, and the method when its rule sets a rate") {
  FakeRedis redis;
  RequestGuard guard(Fn(redis), GuardOptions{});
  Client client = ClientWithRate(0, 0);  // the defaults apply
  AccessRule rule{"regsuite.credit.v1.CreditService/*", 2.5};
  auto plan = guard.MakePlan(&client, nullptr, &rule, "pkg.S/M", "ipv4:1.2.3.4:5", kNow);
  CHECK_FALSE(plan.nonce);
  REQUIRE(plan.commands.size() == 2);
  CHECK(plan.commands[0][3] == "gateway:rl:client:prov");
  CHECK(plan.commands[0][4] == "50");
  CHECK(plan.commands[1][3] == "gateway:rl:method:prov:pkg.S/M");
  CHECK(plan.commands[1][5] == "3");
  auto anonymous = guard.MakePlan(nullptr, nullptr, nullptr, "pkg.S/M", "ipv4:1.2.3.4:5", kNow);
  REQUIRE(anonymous.commands.size() == 1);
  CHECK(anonymous.commands[0][3] == "gateway:rl:anon:ipv4:1.2.3.4");
}

TEST_CASE("guard: an empty bucket refuses with retry-after in whole seconds, rounded up") {
  FakeRedis redis;
  redis.tokens = 0;
  redis.retry_ms = 1200;
  RequestGuard guard(Fn(redis), GuardOptions{});
  Client client = ClientWithRate(1, 1);
  RequestGuard::Outcome outcome;
  guard.CheckAsync(guard.MakePlan(&client, nullptr, nullptr, "m", "p:1", kNow),
                   [&](RequestGuard::Outcome o) { outcome = std::move(o); });
  guard.Stop();
  CHECK(outcome.status.code() == absl::StatusCode::kResourceExhausted);
  CHECK(outcome.retry_after_seconds == 2);
  CHECK(outcome.reason == "rate_limited");
}

TEST_CASE("guard: Redis down refuses signed calls and falls back to the local bucket") {
  FakeRedis redis;
  redis.down = true;
  GuardOptions options;
  options.anonymous_rate = 1;
  options.anonymous_burst = 2;
  RequestGuard guard(Fn(redis), options);
  Client client = ClientWithRate(10, 10);
  SignatureHeaders headers = Headers("n");
  std::vector<RequestGuard::Outcome> outcomes(4);
  guard.CheckAsync(guard.MakePlan(&client, &headers, nullptr, "m", "p:1", kNow),
                   [&](RequestGuard::Outcome o) { outcomes[0] = std::move(o); });
  for (size_t i = 1; i < outcomes.size(); ++i) {
    guard.CheckAsync(guard.MakePlan(nullptr, nullptr, nullptr, "m", "ipv4:9.9.9.9:1", kNow),
                     [&, i](RequestGuard::Outcome o) { outcomes[i] = std::move(o); });
  }
  guard.Stop();
  CHECK(outcomes[0].status.code() == absl::StatusCode::kUnavailable);  // replay fails closed
  CHECK(outcomes[0].reason == "redis_unavailable");
  CHECK(outcomes[1].status.ok());
  CHECK(outcomes[2].status.ok());
  CHECK(outcomes[3].status.code() == absl::StatusCode::kResourceExhausted);  // burst of 2 spent

  options.fail_open = true;
  RequestGuard open(Fn(redis), options);
  int passed = 0;
  for (int i = 0; i < 5; ++i) {
    open.CheckAsync(open.MakePlan(nullptr, nullptr, nullptr, "m", "ipv4:9.9.9.9:1", kNow),
                    [&](RequestGuard::Outcome o) { passed += o.status.ok() ? 1 : 0; });
  }
  open.Stop();
  CHECK(passed == 5);
}

TEST_CASE("guard: a call that cannot be queued is shed as overloaded, answered at once") {
  FakeRedis redis;
  GuardOptions options;
  options.batcher.max_queued = 1;
  RequestGuard guard(Fn(redis), options);
  Client client = ClientWithRate(10, 10);
  RequestGuard::Outcome first;
  RequestGuard::Outcome second;
  guard.CheckAsync(guard.MakePlan(&client, nullptr, nullptr, "m", "p:1", kNow),
                   [&](RequestGuard::Outcome o) { first = std::move(o); });
  guard.CheckAsync(guard.MakePlan(&client, nullptr, nullptr, "m", "p:1", kNow),
                   [&](RequestGuard::Outcome o) { second = std::move(o); });
  CHECK(second.status.code() == absl::StatusCode::kUnavailable);
  CHECK(second.reason == "overloaded");
  guard.Stop();
  CHECK(first.status.ok());
}

TEST_CASE("bucket takes of one batch on the same bucket merge into one, at the latest time") {
  std::vector<RedisCommand> commands = {
      {"SET", "nonce-a", "1", "NX", "PX", "600000"},
      {"EVALSHA", "sha", "1", "rl:a", "50", "100", "1000", "1"},
      {"EVALSHA", "sha", "1", "rl:b", "50", "100", "1000", "1"},
      {"EVALSHA", "sha", "1", "rl:a", "50", "100", "1005", "1"},
      {"EVALSHA", "sha", "1", "rl:a", "10", "100", "1001", "1"},  // another rate: its own take
      {"EVALSHA", "other", "1", "rl:a", "50", "100", "1002", "1"},
      {"EVALSHA", "sha", "1", "rl:a", "50", "100", "1003", "1"}};
  auto merged = MergeBucketTakes(commands, "sha");
  REQUIRE(merged.commands.size() == 5);
  CHECK(merged.commands[1] == RedisCommand{"EVALSHA", "sha", "1", "rl:a", "50", "100", "1005", "3"});
  CHECK(merged.commands[2] == commands[2]);
  using Source = std::vector<std::pair<size_t, size_t>>;
  CHECK(merged.source == Source{{0, 0}, {1, 0}, {2, 0}, {1, 1}, {3, 0}, {4, 0}, {1, 2}});
}

TEST_CASE("a merged take's reply grants the first ranks and refuses the rest with its retry") {
  RedisValue reply;
  reply.type = RedisValue::Type::kArray;
  reply.elements = {Int(2), Int(700)};
  auto one = [&](size_t rank) {
    RedisValue v = SplitBucketReply(reply, rank);
    return std::make_pair(v.elements[0].integer, v.elements[1].integer);
  };
  CHECK(one(0) == std::make_pair<int64_t, int64_t>(1, 0));
  CHECK(one(1) == std::make_pair<int64_t, int64_t>(1, 0));
  CHECK(one(2) == std::make_pair<int64_t, int64_t>(0, 700));
  CHECK(SplitBucketReply(Err("ERR script"), 1).str == "ERR script");
}

TEST_CASE("guard: concurrent calls on one bucket cost one script run; the quota still holds") {
  FakeRedis redis;
  redis.tokens = 2;
  redis.retry_ms = 300;
  RequestGuard guard(Fn(redis), GuardOptions{});
  Client client = ClientWithRate(10, 10);
  std::vector<RequestGuard::Outcome> outcomes(3);
  for (size_t i = 0; i < outcomes.size(); ++i) {
    SignatureHeaders headers = Headers(absl::StrCat("nonce-", i));
    guard.CheckAsync(guard.MakePlan(&client, &headers, nullptr, "m", "p:1", kNow),
                     [&, i](RequestGuard::Outcome o) { outcomes[i] = std::move(o); });
  }
  guard.Stop();
  // One pipeline: 3 nonces and one take of 3 (NOSCRIPT), then SCRIPT LOAD and that take again.
  REQUIRE(redis.pipelines.size() == 2);
  CHECK(redis.pipelines[0].size() == 4);
  REQUIRE(redis.pipelines[0][1].size() == 8);  // the nonces stay in place, the take joins the first
  CHECK(redis.pipelines[0][1][7] == "3");
  CHECK(outcomes[0].status.ok());
  CHECK(outcomes[1].status.ok());
  CHECK(outcomes[2].status.code() == absl::StatusCode::kResourceExhausted);
  CHECK(outcomes[2].retry_after_seconds == 1);
}
