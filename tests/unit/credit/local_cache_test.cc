// The in-process subject cache on its own: validity by day, the fill guard against a
// concurrent invalidation, the disabled state, the size bound.
#include "local_cache.h"

#include <catch2/catch.hpp>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "regsuite/common/clock.h"

namespace v1 = regsuite::credit::v1;
using regsuite::credit::LocalCache;

namespace {

const absl::CivilDay kToday(2026, 3, 2);

// A status computed at 10:00 bureau time on `day`.
v1::SubjectStatus Status(const std::string& uscc, v1::CreditTier tier,
                         absl::CivilDay day = kToday) {
  v1::SubjectStatus status;
  status.set_uscc(uscc);
  status.set_tier(tier);
  status.mutable_as_of()->set_seconds(absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), 10, 0, 0),
                      regsuite::common::BureauTimeZone())));
  return status;
}

}  // namespace

TEST_CASE("local cache: a stored subject is a hit on its day, another subject a miss") {
  LocalCache cache(100);
  cache.SetEnabled(true);
  const std::string a = "91330100MA2KXXXX1A";
  REQUIRE(cache.Put(cache.Ticket(a), Status(a, v1::CREDIT_TIER_BLACK)));
  auto hit = cache.Get(a, kToday);
  REQUIRE(hit != nullptr);
  CHECK(hit->tier() == v1::CREDIT_TIER_BLACK);
  CHECK(cache.Get("91330100MA2KXXXX2B", kToday) == nullptr);
  const LocalCache::Stats stats = cache.stats();
  CHECK(stats.hits == 1);
  CHECK(stats.misses == 1);
  CHECK(stats.entries == 1);
}

TEST_CASE("local cache: an entry computed on another day is a miss") {
  LocalCache cache(100);
  cache.SetEnabled(true);
  const std::string a = "91330100MA2KXXXX1A";
  REQUIRE(cache.Put(cache.Ticket(a), Status(a, v1::CREDIT_TIER_NORMAL, kToday - 1)));
  CHECK(cache.Get(a, kToday) == nullptr);
  CHECK(cache.Get(a, kToday - 1) != nullptr);
}

TEST_CASE("local cache: a fill whose read started before an invalidation is dropped") {
  LocalCache cache(100);
  cache.SetEnabled(true);
  const std::string a = "91330100MA2KXXXX1A";
  REQUIRE(cache.Put(cache.Ticket(a), Status(a, v1::CREDIT_TIER_NORMAL)));
  // A filler takes its ticket and reads the old state; the change is invalidated meanwhile.
  const uint64_t ticket = cache.Ticket(a);
  cache.Erase({a});
  CHECK_FALSE(cache.Put(ticket, Status(a, v1::CREDIT_TIER_NORMAL)));
  CHECK(cache.Get(a, kToday) == nullptr);
  // A read that starts after the invalidation fills normally.
  CHECK(cache.Put(cache.Ticket(a), Status(a, v1::CREDIT_TIER_BLACK)));
  CHECK(cache.Get(a, kToday)->tier() == v1::CREDIT_TIER_BLACK);
}

TEST_CASE("local cache: disabled it misses and refuses fills; re-enabling starts empty") {
  LocalCache cache(100);
  const std::string a = "91330100MA2KXXXX1A";
  CHECK_FALSE(cache.enabled());  // a new cache waits for its subscription
  CHECK_FALSE(cache.Put(cache.Ticket(a), Status(a, v1::CREDIT_TIER_NORMAL)));
  cache.SetEnabled(true);
  const uint64_t before_outage = cache.Ticket(a);
  REQUIRE(cache.Put(cache.Ticket(a), Status(a, v1::CREDIT_TIER_NORMAL)));
  cache.SetEnabled(false);
  CHECK(cache.Get(a, kToday) == nullptr);
  CHECK(cache.stats().entries == 0);
  cache.SetEnabled(true);
  CHECK(cache.Get(a, kToday) == nullptr);
  // A fill that started before the outage could have missed an invalidation sent during it.
  CHECK_FALSE(cache.Put(before_outage, Status(a, v1::CREDIT_TIER_NORMAL)));
}

TEST_CASE("local cache: never holds more than max_entries subjects") {
  for (size_t max_entries : {1, 7, 64, 200}) {
    LocalCache cache(max_entries);
    cache.SetEnabled(true);
    for (int i = 0; i < 1000; ++i) {
      const std::string uscc = absl::StrCat("9133010000000", 10000 + i);
      REQUIRE(cache.Put(cache.Ticket(uscc), Status(uscc, v1::CREDIT_TIER_NORMAL)));
      REQUIRE(cache.stats().entries <= max_entries);
      // The subject just stored is always there.
      REQUIRE(cache.Get(uscc, kToday) != nullptr);
    }
    INFO("max_entries " << max_entries);
    CHECK(cache.stats().entries >= 1);
  }
}
