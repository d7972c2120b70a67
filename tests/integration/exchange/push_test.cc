// The pusher against the platform stand-in (tests/e2e/platform_stub) and a real PostgreSQL:
// signed batches accepted; 5xx retried then delivered; 4xx parked, then re-queued and delivered;
// a restart (new Pusher on the same schema) resumes from the acknowledged cursor; a batch whose
// acknowledgement was lost goes again with the same Idempotency-Key and is recorded once.
#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"
#include "exchange_env.h"
#include "platform_stub_process.h"
#include "pusher.h"
#include "regsuite/common/clock.h"

namespace {

namespace ev = regsuite::events::v1;
using regsuite::exchange::PushCycle;
using regsuite::exchange::Pusher;
using regsuite::exchange::PushSettings;
using regsuite::exchange::testing::ExchangeDb;
using regsuite::exchange::testing::PlatformStub;
using regsuite::exchange::testing::TempDir;

PushSettings Settings(const PlatformStub& stub) {
  PushSettings s;
  s.url = stub.feed_url();
  s.credentials.app_key = stub.app_key();
  s.credentials.secret = stub.secret();
  s.batch_size = 2;
  s.timeout = absl::Seconds(5);
  return s;
}

void DeliverListings(ExchangeDb& db, int from, int to) {
  for (int i = from; i <= to; ++i)
    REQUIRE(db.Deliver(db.ListingEvent(absl::StrCat("L-", i), ev::LISTING_CHANGE_PUBLISHED)).ok());
}

// Runs cycles until the pusher is idle; returns the cycles seen (idle excluded).
std::vector<PushCycle> Drain(Pusher& pusher) {
  std::vector<PushCycle> cycles;
  for (int i = 0; i < 50; ++i) {
    auto cycle = pusher.RunOnce();
    INFO(cycle.status().ToString());
    REQUIRE(cycle.ok());
    if (*cycle == PushCycle::kIdle) return cycles;
    cycles.push_back(*cycle);
  }
  FAIL("pusher never became idle");
  return cycles;
}

std::vector<std::string> Cursors(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i <= to; ++i) out.push_back(std::to_string(i));
  return out;
}

regsuite::exchange::v1::PushStatus Status(ExchangeDb& db, const PushSettings& settings) {
  auto status = regsuite::exchange::ReadPushStatus(db.pool, settings);
  REQUIRE(status.ok());
  return *status;
}

}  // namespace

TEST_CASE("signed batches reach the platform in order and the acknowledged cursor advances") {
  ExchangeDb db;
  PlatformStub stub(TempDir("exchange-push"));
  const PushSettings settings = Settings(stub);
  Pusher pusher(db.pool, settings, db.metrics, regsuite::common::SystemClock::Get());
  DeliverListings(db, 1, 5);
  CHECK(Status(db, settings).pending_changes() == 5);
  CHECK(Drain(pusher).size() == 3);  // batches of 2, 2, 1
  CHECK(stub.RecordedCursors() == Cursors(1, 5));
  auto batches = stub.Batches().fields().at("batches").list_value().values();
  REQUIRE(batches.size() == 3);
  CHECK(batches[0].struct_value().fields().at("idempotencyKey").string_value() == "exchange-1-2");
  CHECK(stub.Batches().fields().at("rejected").number_value() == 0);
  auto status = Status(db, settings);
  CHECK(status.last_acknowledged_cursor() == "5");
  CHECK(status.pending_changes() == 0);
  CHECK(status.has_last_success_at());
  CHECK(db.metrics.RenderText().find("regsuite_exchange_push_changes_total 5") !=
        std::string::npos);
}

TEST_CASE("5xx and timeouts are retried with the same batch until the platform accepts it") {
  ExchangeDb db;
  PlatformStub stub(TempDir("exchange-push"));
  PushSettings settings = Settings(stub);
  settings.timeout = absl::Milliseconds(500);
  Pusher pusher(db.pool, settings, db.metrics, regsuite::common::SystemClock::Get());
  DeliverListings(db, 1, 2);
  stub.Fail(R"({"status": 503, "count": 1})");
  stub.Fail(R"({"mode": "timeout", "count": 1, "seconds": 1.5})");
  CHECK(*pusher.RunOnce() == PushCycle::kRetryLater);
  CHECK(Status(db, settings).consecutive_failures() == 1);
  CHECK(*pusher.RunOnce() == PushCycle::kRetryLater);
  auto failing = Status(db, settings);
  CHECK(failing.consecutive_failures() == 2);
  CHECK(failing.inflight_batch_id() == "exchange-1-2");
  CHECK(failing.last_acknowledged_cursor().empty());
  DeliverListings(db, 3, 3);  // arrives meanwhile: not mixed into the batch being retried
  CHECK(*pusher.RunOnce() == PushCycle::kAcknowledged);
  Drain(pusher);
  CHECK(stub.RecordedCursors() == Cursors(1, 3));
  auto batches = stub.Batches().fields().at("batches").list_value().values();
  REQUIRE(batches.size() == 2);
  CHECK(batches[0].struct_value().fields().at("batchId").string_value() == "exchange-1-2");
  CHECK(Status(db, settings).consecutive_failures() == 0);
}

TEST_CASE("a 4xx parks the batch, the push moves on, and a re-queued batch is delivered") {
  ExchangeDb db;
  PlatformStub stub(TempDir("exchange-push"));
  const PushSettings settings = Settings(stub);
  Pusher pusher(db.pool, settings, db.metrics, regsuite::common::SystemClock::Get());
  DeliverListings(db, 1, 4);
  stub.Fail(R"({"status": 422, "count": 1})");
  CHECK(*pusher.RunOnce() == PushCycle::kParked);
  Drain(pusher);
  CHECK(stub.RecordedCursors() == Cursors(3, 4));
  auto parked = Status(db, settings);
  CHECK(parked.last_acknowledged_cursor() == "4");
  REQUIRE(parked.parked_batches_size() == 1);
  CHECK(parked.parked_batches(0).batch_id() == "exchange-1-2");
  CHECK(parked.parked_batches(0).http_status() == 422);
  CHECK(parked.parked_batches(0).state() == "PARKED");
  CHECK(db.metrics.RenderText().find("regsuite_exchange_push_parked_batches 1") !=
        std::string::npos);

  auto requeued = regsuite::exchange::RequeueParkedBatches(db.pool);
  REQUIRE(requeued.ok());
  CHECK(*requeued == 1);
  CHECK(Drain(pusher).size() == 1);
  CHECK(stub.RecordedCursors() == std::vector<std::string>{"3", "4", "1", "2"});
  CHECK(Status(db, settings).parked_batches_size() == 0);
  CHECK(*regsuite::exchange::RequeueParkedBatches(db.pool) == 0);
}

TEST_CASE("after a restart the push resumes from the acknowledged cursor without duplicates") {
  ExchangeDb db;
  PlatformStub stub(TempDir("exchange-push"));
  const PushSettings settings = Settings(stub);
  DeliverListings(db, 1, 3);
  {
    Pusher before(db.pool, settings, db.metrics, regsuite::common::SystemClock::Get());
    CHECK(*before.RunOnce() == PushCycle::kAcknowledged);  // 1-2
    stub.Fail(R"({"status": 500, "count": 1})");
    CHECK(*before.RunOnce() == PushCycle::kRetryLater);  // 3 in flight when "the process dies"
  }
  DeliverListings(db, 4, 6);
  stub.Restart();  // the platform restarts too and keeps its record
  Pusher after(db.pool, settings, db.metrics, regsuite::common::SystemClock::Get());
  Drain(after);
  CHECK(stub.RecordedCursors() == Cursors(1, 6));
  auto batches = stub.Batches().fields().at("batches").list_value().values();
  REQUIRE(batches.size() == 4);
  CHECK(batches[1].struct_value().fields().at("batchId").string_value() == "exchange-3-3");
  CHECK(stub.Duplicates() == 0);
}

TEST_CASE("a batch whose acknowledgement was lost is sent again with its key and recorded once") {
  ExchangeDb db;
  PlatformStub stub(TempDir("exchange-push"));
  const PushSettings settings = Settings(stub);
  DeliverListings(db, 1, 2);
  Pusher pusher(db.pool, settings, db.metrics, regsuite::common::SystemClock::Get());
  CHECK(*pusher.RunOnce() == PushCycle::kAcknowledged);
  // The process died after the platform's 200 and before its commit: progress as before the
  // send, the batch still in flight.
  {
    auto lease = db.pool.Acquire();
    REQUIRE(lease.ok());
    pqxx::work txn(lease->conn());
    txn.exec(
        "UPDATE push_state SET acknowledged_cursor = 0, inflight_first = 1, inflight_last = 2");
    txn.commit();
  }
  DeliverListings(db, 3, 3);
  Drain(pusher);
  CHECK(stub.RecordedCursors() == Cursors(1, 3));
  CHECK(stub.Duplicates() == 1);
}

TEST_CASE("HMAC-SM3 batches are accepted; a wrong secret (401) is retried, never parked") {
  ExchangeDb db;
  PlatformStub stub(TempDir("exchange-push"));
  PushSettings settings = Settings(stub);
  settings.credentials.method = regsuite::common::SignatureMethod::kHmacSm3;
  DeliverListings(db, 1, 1);
  {
    PushSettings wrong = settings;
    wrong.credentials.secret = "not-the-platform-secret";
    Pusher pusher(db.pool, wrong, db.metrics, regsuite::common::SystemClock::Get());
    CHECK(*pusher.RunOnce() == PushCycle::kRetryLater);
    CHECK(stub.Batches().fields().at("rejected").number_value() == 1);
    auto status = Status(db, wrong);
    CHECK(status.parked_batches_size() == 0);
    CHECK(status.last_error().rfind("HTTP 401", 0) == 0);
  }
  Pusher pusher(db.pool, settings, db.metrics, regsuite::common::SystemClock::Get());
  Drain(pusher);
  CHECK(stub.RecordedCursors() == Cursors(1, 1));
}
