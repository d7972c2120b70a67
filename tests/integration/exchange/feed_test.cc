// The change feed against a real PostgreSQL schema: order, replay from an old cursor, inbox
// idempotency, no entry skipped under concurrent appends, argument validation.
#include <google/protobuf/util/message_differencer.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "change_feed.h"
#include "exchange_env.h"
#include "exchange_service.h"
#include "regsuite/common/events.h"

namespace {

namespace ev = regsuite::events::v1;
namespace v1 = regsuite::exchange::v1;
using regsuite::exchange::ChangeFeed;
using regsuite::exchange::testing::ExchangeDb;

v1::ListChangesResponse List(ExchangeDb& db, const std::string& cursor, int limit) {
  v1::ListChangesRequest request;
  request.set_cursor(cursor);
  request.set_limit(limit);
  auto response = ChangeFeed::List(db.pool, request);
  INFO(response.status().ToString());
  REQUIRE(response.ok());
  return *response;
}

}  // namespace

TEST_CASE(
    "changes come in cursor order, page by page, and an old cursor replays the same entries") {
  ExchangeDb db;
  for (int i = 1; i <= 5; ++i) {
    auto ack = db.Deliver(db.ListingEvent("L-" + std::to_string(i), ev::LISTING_CHANGE_PUBLISHED));
    REQUIRE(ack.ok());
    CHECK_FALSE(ack->duplicate());
  }
  REQUIRE(db.Deliver(db.ListingEvent("L-2", ev::LISTING_CHANGE_REPAIRED)).ok());

  auto first = List(db, "", 4);
  REQUIRE(first.changes_size() == 4);
  CHECK(first.has_more());
  CHECK(first.changes(0).entity_id() == "L-1");
  CHECK(first.changes(3).entity_id() == "L-4");
  CHECK(first.next_cursor() == first.changes(3).cursor());
  auto second = List(db, first.next_cursor(), 4);
  REQUIRE(second.changes_size() == 2);
  CHECK_FALSE(second.has_more());
  CHECK(second.changes(1).entity_id() == "L-2");
  CHECK(second.changes(1).operation() == v1::CHANGE_OPERATION_DELETE);
  CHECK(std::stoll(second.changes(0).cursor()) > std::stoll(first.changes(3).cursor()));

  // Nothing new: the cursor stays where it is.
  auto empty = List(db, second.next_cursor(), 4);
  CHECK(empty.changes_size() == 0);
  CHECK(empty.next_cursor() == second.next_cursor());

  // A consumer that re-reads from an old cursor gets exactly the same entries.
  auto replay = List(db, first.changes(1).cursor(), 100);
  REQUIRE(replay.changes_size() == 4);
  using google::protobuf::util::MessageDifferencer;
  CHECK(MessageDifferencer::Equals(replay.changes(0), first.changes(2)));
  CHECK(MessageDifferencer::Equals(replay.changes(1), first.changes(3)));
  CHECK(MessageDifferencer::Equals(replay.changes(3), second.changes(1)));
}

TEST_CASE("a redelivered event is acknowledged as a duplicate and appends nothing") {
  ExchangeDb db;
  auto event = db.ListingEvent("L-9", ev::LISTING_CHANGE_PUBLISHED);
  auto first = db.Deliver(event);
  REQUIRE(first.ok());
  CHECK_FALSE(first->duplicate());
  auto again = db.Deliver(event);
  REQUIRE(again.ok());
  CHECK(again->duplicate());
  auto all = List(db, "", 100);
  REQUIRE(all.changes_size() == 1);
  CHECK(all.changes(0).source_event_id() == event.event_id());
}

TEST_CASE("a DeliverEvents batch appends its entries in order, counts them once, fails alone") {
  ExchangeDb db;
  ev::EventBatch batch;
  *batch.add_events() = db.ListingEvent("L-21", ev::LISTING_CHANGE_PUBLISHED);
  auto bad = db.ListingEvent("L-22", ev::LISTING_CHANGE_PUBLISHED);
  bad.set_payload("not a ListingChanged");  // fails its effect, so the batch's transaction
  *batch.add_events() = bad;
  *batch.add_events() = db.ListingEvent("L-23", ev::LISTING_CHANGE_PUBLISHED);
  auto ack = regsuite::exchange::ExchangeService::ApplyEvents(db.pool, db.metrics, batch);
  REQUIRE(ack.results_size() == 3);
  CHECK(ack.results(0).code() == 0);
  CHECK(ack.results(1).code() == static_cast<int>(absl::StatusCode::kInvalidArgument));
  CHECK(ack.results(1).message() == "payload: does not parse as regsuite.events.v1.ListingChanged");
  CHECK(ack.results(2).code() == 0);
  auto all = List(db, "", 100);
  REQUIRE(all.changes_size() == 2);
  CHECK(all.changes(0).entity_id() == "L-21");
  CHECK(all.changes(1).entity_id() == "L-23");
  // The metric counts what was appended, not the rolled-back first attempt.
  CHECK(absl::StrContains(db.metrics.RenderText(),
                          "regsuite_exchange_feed_changes_total{entity_type=\"ENTITY_TYPE_CREDIT_"
                          "LISTING\"} 2"));

  auto again = regsuite::exchange::ExchangeService::ApplyEvents(db.pool, db.metrics, batch);
  CHECK(again.results(0).duplicate());
  CHECK(again.results(2).duplicate());
  CHECK(List(db, "", 100).changes_size() == 2);
}

TEST_CASE(
    "a reader following the feed during concurrent deliveries sees every entry once, in order") {
  ExchangeDb db;
  constexpr int kWriters = 4, kPerWriter = 25;
  std::atomic<int> done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        auto ack =
            db.Deliver(db.ListingEvent(absl::StrCat("W", w, "-", i), ev::LISTING_CHANGE_PUBLISHED));
        CHECK(ack.ok());
      }
      ++done;
    });
  }
  std::vector<std::string> seen;
  std::string cursor;
  while (true) {
    const bool writers_done = done.load() == kWriters;
    auto page = List(db, cursor, 7);
    for (const auto& c : page.changes()) seen.push_back(c.entity_id());
    cursor = page.next_cursor();
    if (writers_done && page.changes_size() == 0) break;
  }
  for (auto& t : writers) t.join();
  CHECK(seen.size() == kWriters * kPerWriter);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());
}

TEST_CASE("ListChanges refuses a bad limit, cursor or entity type, naming the field") {
  ExchangeDb db;
  v1::ListChangesRequest request;
  request.set_limit(5000);
  CHECK(ChangeFeed::List(db.pool, request).status().message() ==
        "limit: must be between 1 and 1000");
  request.set_limit(10);
  request.set_cursor("not-a-cursor");
  CHECK(ChangeFeed::List(db.pool, request).status().message() ==
        "cursor: not a cursor returned by ListChanges");
  request.clear_cursor();
  request.add_entity_types(static_cast<v1::EntityType>(99));
  CHECK(ChangeFeed::List(db.pool, request).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("entity_types narrows the feed to the asked types") {
  ExchangeDb db;
  REQUIRE(db.Deliver(db.ListingEvent("L-1", ev::LISTING_CHANGE_PUBLISHED)).ok());
  ev::CertificateStatusChanged c;
  c.set_certificate_no("CERT-1");
  c.set_status(ev::CERTIFICATE_STATUS_SUSPENDED);
  auto event = regsuite::common::MakeEnvelopeEvent(
      "licensing", regsuite::common::DeliverEventMethod("exchange"), "certificate", "CERT-1",
      "licensing.certificate_status_changed", c, absl::Now());
  ev::EventEnvelope envelope;
  REQUIRE(envelope.ParseFromString(event.payload));
  REQUIRE(db.Deliver(envelope).ok());
  v1::ListChangesRequest request;
  request.add_entity_types(v1::ENTITY_TYPE_CERTIFICATE);
  auto only = ChangeFeed::List(db.pool, request);
  REQUIRE(only.ok());
  REQUIRE(only->changes_size() == 1);
  CHECK(only->changes(0).entity_id() == "CERT-1");
}
