// The Redis client against a real redis-server: commands, pipelining, scripts, reconnects.
#include <catch2/catch.hpp>

#include "regsuite/common/crypto.h"
#include "regsuite/common/redis.h"
#include "test_env.h"

using regsuite::common::RedisClient;
using regsuite::common::RedisScript;
using regsuite::common::RedisValue;

TEST_CASE("redis: a pipeline sends every command and returns the replies in order") {
  RedisClient redis(regsuite::testing::TestRedisOptions());
  const std::string key = "test:" + regsuite::common::NewUuid();
  auto replies = redis.Pipeline({{"SET", key, std::string("a\0b", 3)}, {"APPEND", key, "c"}, {"GET", key},
                                 {"DEL", key}, {"GET", key}});
  REQUIRE(replies.ok());
  REQUIRE(replies->size() == 5);
  CHECK((*replies)[0].str == "OK");
  CHECK((*replies)[1].integer == 4);
  CHECK((*replies)[2].str == std::string("a\0bc", 4));
  CHECK((*replies)[3].integer == 1);
  CHECK((*replies)[4].is_nil());
}

TEST_CASE("redis: a script runs by EVALSHA and is reloaded after SCRIPT FLUSH") {
  RedisClient redis(regsuite::testing::TestRedisOptions());
  RedisScript script("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  const std::string key = "test:" + regsuite::common::NewUuid();
  REQUIRE(redis.Command({"SCRIPT", "FLUSH"}).ok());
  auto first = redis.Eval(script, {key}, {"5"});
  REQUIRE(first.ok());
  CHECK(first->integer == 5);
  auto cached = redis.Command({"SCRIPT", "EXISTS", script.sha1()});
  REQUIRE(cached.ok());
  CHECK(cached->elements.at(0).integer == 1);
  auto second = redis.Eval(script, {key}, {"2"});
  REQUIRE(second.ok());
  CHECK(second->integer == 7);
  REQUIRE(redis.Command({"DEL", key}).ok());
}

TEST_CASE("redis: calls fail with UNAVAILABLE while the server is down and recover after") {
  RedisClient redis(regsuite::testing::TestRedisOptions());
  REQUIRE(redis.Ping().ok());
  regsuite::testing::StopRedis();
  auto down = redis.Ping();
  CHECK(down.code() == absl::StatusCode::kUnavailable);
  regsuite::testing::StartRedis();
  CHECK(regsuite::testing::Eventually([&] { return redis.Ping().ok(); }, absl::Seconds(10)));
}
