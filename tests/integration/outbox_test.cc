// The durable event mechanism (DESIGN.md "Cross-service flows") against real PostgreSQL:
// outbox rows written in the producer's transaction, a relay delivering them in order per
// aggregate, a receiver whose inbox makes every redelivery a no-op.
#include <catch2/catch.hpp>
#include <csignal>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "event_receiver.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/events.h"
#include "regsuite/common/migrations.h"
#include "regsuite/common/outbox.h"
#include "regsuite/common/server.h"
#include "regsuite/events/v1/events.pb.h"
#include "test_env.h"

using regsuite::common::OutboxEvent;
using regsuite::common::OutboxRelay;
using regsuite::common::OutboxRelayOptions;
using regsuite::common::PgPool;
using regsuite::testing::EventReceiver;

namespace {

constexpr char kTestMethod[] = "/regsuite.testing.Receiver/Deliver";
// A DeliverEvent: the relay sends several rows for it as one call to .../DeliverEvents.
constexpr char kEventMethod[] = "/regsuite.testing.Receiver/DeliverEvent";

/// A producer schema with the real outbox/inbox migrations applied.
struct Producer {
  Producer()
      : schema(regsuite::testing::UniqueSchemaName("producer")),
        pool(regsuite::testing::TestPgOptions(schema)) {
    regsuite::testing::MigrateSchema(schema, schema);
  }
  ~Producer() { regsuite::testing::DropSchema(schema); }

  // Writes one event per (aggregate, seq) in its own transaction; returns the event ids.
  // `padding` bytes of filler in each envelope make big events.
  std::vector<std::string> Enqueue(int aggregates, int per_aggregate,
                                   const std::string& method = kTestMethod, size_t padding = 0) {
    std::vector<std::string> ids;
    for (int seq = 1; seq <= per_aggregate; ++seq) {
      for (int a = 0; a < aggregates; ++a) {
        auto id = pool.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::string> {
          regsuite::events::v1::EventEnvelope envelope;
          envelope.set_event_id(regsuite::common::NewUuid());
          envelope.set_source_service("producer");
          envelope.set_aggregate_type("thing");
          envelope.set_aggregate_id(absl::StrCat("agg-", a));
          envelope.set_event_type("thing.changed");
          envelope.set_payload_type("test.Thing");
          envelope.set_payload(std::to_string(seq));
          if (padding > 0) envelope.set_trace_parent(std::string(padding, 'x'));
          return regsuite::common::EnqueueOutbox(
              txn, OutboxEvent{envelope.event_id(), "thing", envelope.aggregate_id(),
                               "thing.changed", method, envelope.SerializeAsString(), ""});
        });
        REQUIRE(id.ok());
        ids.push_back(*id);
      }
    }
    return ids;
  }

  int64_t Pending() {
    return *pool.Transact([](pqxx::work& txn) -> absl::StatusOr<int64_t> {
      return txn.exec1("SELECT count(*) FROM outbox WHERE delivered_at IS NULL")[0].as<int64_t>();
    });
  }

  std::string schema;
  PgPool pool;
};

struct ReceiverSchema {
  ReceiverSchema() : name(regsuite::testing::UniqueSchemaName("receiver")) {}
  ~ReceiverSchema() { regsuite::testing::DropSchema(name); }
  std::string name;
};

OutboxRelayOptions FastRetries() {
  OutboxRelayOptions o;
  o.batch_size = 8;
  o.initial_backoff = absl::Milliseconds(10);
  o.max_backoff = absl::Milliseconds(50);
  return o;
}

// A producer, a receiver and a relay between them.
struct Pipeline {
  explicit Pipeline(absl::Duration receiver_delay = absl::ZeroDuration(),
                    bool accepts_batches = true)
      : receiver(receiver_schema.name, receiver_delay, accepts_batches),
        relay(producer.pool,
              grpc::CreateChannel(receiver.address(), grpc::InsecureChannelCredentials()),
              FastRetries()) {}
  Producer producer;
  ReceiverSchema receiver_schema;
  EventReceiver receiver;
  OutboxRelay relay;
};

void DrainWith(OutboxRelay& relay, Producer& producer) {
  REQUIRE(regsuite::testing::Eventually(
      [&] {
        REQUIRE(relay.RunOnce().ok());
        return producer.Pending() == 0;
      },
      absl::Seconds(30)));
}

void RequireInOrder(EventReceiver& receiver, int aggregates, int per_aggregate) {
  std::vector<int> expected(per_aggregate);
  for (int i = 0; i < per_aggregate; ++i) expected[i] = i + 1;
  for (int a = 0; a < aggregates; ++a) {
    INFO("aggregate agg-" << a);
    CHECK(receiver.SequenceOf(absl::StrCat("agg-", a)) == expected);
  }
}

}  // namespace

TEST_CASE("an outbox row exists only if the producer's transaction commits") {
  Producer producer;
  auto rolled_back = producer.pool.Transact([&](pqxx::work& txn) -> absl::Status {
    auto id = regsuite::common::EnqueueOutbox(
        txn, OutboxEvent{"", "thing", "agg-0", "thing.changed", kTestMethod, "x", ""});
    REQUIRE(id.ok());
    return absl::AbortedError("the business change failed");
  });
  CHECK(rolled_back.code() == absl::StatusCode::kAborted);
  CHECK(producer.Pending() == 0);
}

TEST_CASE("an outbox event with a malformed target method is refused naming the field") {
  Producer producer;
  auto status = producer.pool.Transact([&](pqxx::work& txn) -> absl::Status {
    return regsuite::common::EnqueueOutbox(
               txn, OutboxEvent{"", "thing", "agg-0", "thing.changed", "Deliver", "x", ""})
        .status();
  });
  CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  CHECK(status.message() == "target_method: must be a full gRPC method path /package.Service/Method");
}

TEST_CASE("a lost acknowledgement makes the relay deliver again and the inbox makes it a no-op") {
  Pipeline pipeline;
  auto& [producer, receiver_schema, receiver, relay] = pipeline;
  auto ids = producer.Enqueue(4, 5);
  for (int i = 0; i < 20; i += 4) receiver.LoseAckOnce(ids[i]);

  DrainWith(relay, producer);

  CHECK(receiver.effects() == 20);
  CHECK(receiver.distinct_effects() == 20);
  CHECK(receiver.duplicates() == 5);
  RequireInOrder(receiver, 4, 5);
}

TEST_CASE("a failed delivery holds back later events of the same aggregate, not of others") {
  Pipeline pipeline;
  auto& [producer, receiver_schema, receiver, relay] = pipeline;
  auto ids = producer.Enqueue(3, 4);  // ids ordered seq-major: ids[0..2] are seq 1 of agg 0..2
  receiver.RejectOnce(ids[0]);         // agg-0, seq 1
  receiver.RejectOnce(ids[3 + 1]);     // agg-1, seq 2

  REQUIRE(relay.RunOnce().ok());
  // First pass: only heads are eligible; agg-0's head failed, agg-1 and agg-2 got seq 1.
  CHECK(receiver.SequenceOf("agg-0").empty());
  CHECK(receiver.SequenceOf("agg-1") == std::vector<int>{1});
  CHECK(receiver.SequenceOf("agg-2") == std::vector<int>{1});
  DrainWith(relay, producer);
  CHECK(receiver.effects() == 12);
  RequireInOrder(receiver, 3, 4);
}

TEST_CASE("relays killed mid-batch and restarted deliver every event exactly once, in order") {
  // One call per event, and DeliverEvents batches (slower calls, so that kills land mid-way).
  const bool batches = GENERATE(false, true);
  INFO((batches ? "DeliverEvents batches" : "one call per event"));
  Producer producer;
  ReceiverSchema receiver_schema;
  // A slow receiver keeps deliveries in flight when the relay is killed.
  EventReceiver receiver(receiver_schema.name, absl::Milliseconds(batches ? 60 : 5));
  constexpr int kAggregates = 20;
  constexpr int kPerAggregate = 20;
  producer.Enqueue(kAggregates, kPerAggregate, batches ? kEventMethod : kTestMethod);
  constexpr int kTotal = kAggregates * kPerAggregate;

  const std::string harness = regsuite::testing::BinaryPath("outbox_relay_harness");
  const auto env = regsuite::testing::ServiceEnvironment({});
  const std::vector<std::string> args = {producer.schema, receiver.address()};
  int kills = 0;
  {
    // Two replicas at once; kill both with SIGKILL at different moments.
    regsuite::testing::ChildProcess first(harness, args, env);
    regsuite::testing::ChildProcess second(harness, args, env);
    REQUIRE(regsuite::testing::Eventually([&] { return receiver.effects() >= kTotal / 4; },
                                          absl::Seconds(60)));
    first.Kill(SIGKILL);
    ++kills;
    REQUIRE(regsuite::testing::Eventually([&] { return receiver.effects() >= kTotal / 2; },
                                          absl::Seconds(60)));
    second.Kill(SIGKILL);
    ++kills;
    first.Wait(absl::Seconds(5));
    second.Wait(absl::Seconds(5));
  }
  const int64_t pending_after_kills = producer.Pending();
  CHECK(pending_after_kills > 0);
  {
    regsuite::testing::ChildProcess restarted(harness, args, env);
    REQUIRE(regsuite::testing::Eventually([&] { return producer.Pending() == 0; },
                                          absl::Seconds(120)));
  }
  std::cout << "outbox crash test (" << (batches ? "batches" : "single calls")
            << "): events=" << kTotal << " kills=" << kills
            << " pending_after_kills=" << pending_after_kills
            << " effects=" << receiver.effects() << " redeliveries_absorbed_by_inbox="
            << receiver.duplicates() << "\n";
  CHECK(receiver.effects() == kTotal);
  CHECK(receiver.distinct_effects() == kTotal);
  CHECK((receiver.batch_calls() > 0) == batches);
  RequireInOrder(receiver, kAggregates, kPerAggregate);
}

TEST_CASE("rows of one pass for the same DeliverEvent go as one DeliverEvents call, in order") {
  Pipeline pipeline;
  auto& [producer, receiver_schema, receiver, relay] = pipeline;
  producer.Enqueue(6, 3, kEventMethod);
  REQUIRE(relay.RunOnce().value_or(-1) == 6);  // the six heads
  CHECK(receiver.calls() == 1);
  CHECK(receiver.batch_calls() == 1);
  CHECK(receiver.batch_events() == 6);
  DrainWith(relay, producer);
  CHECK(receiver.calls() == 3);
  CHECK(receiver.batch_calls() == 3);
  CHECK(relay.batch_calls_total() == 3);
  CHECK(receiver.effects() == 18);
  CHECK(receiver.distinct_effects() == 18);
  RequireInOrder(receiver, 6, 3);
}

TEST_CASE("a pass's rows are split so that no DeliverEvents call carries more than 1 MiB") {
  Pipeline pipeline;
  auto& [producer, receiver_schema, receiver, relay] = pipeline;
  producer.Enqueue(5, 1, kEventMethod, 400 * 1024);
  REQUIRE(relay.RunOnce().value_or(-1) == 5);
  // 400 KiB each: two and two in batches, the fifth alone.
  CHECK(receiver.batch_calls() == 2);
  CHECK(receiver.batch_events() == 4);
  CHECK(receiver.calls() == 3);
  CHECK(receiver.distinct_effects() == 5);
}

TEST_CASE("one event failing in a batch fails alone: the rest of the batch is applied") {
  Pipeline pipeline;
  auto& [producer, receiver_schema, receiver, relay] = pipeline;
  auto ids = producer.Enqueue(4, 2, kEventMethod);  // ids[0..3]: seq 1 of agg-0..3
  // Fails the batch's transaction and then its own.
  receiver.RejectTimes(ids[1], 2);
  REQUIRE(relay.RunOnce().value_or(-1) == 3);
  CHECK(receiver.SequenceOf("agg-0") == std::vector<int>{1});
  CHECK(receiver.SequenceOf("agg-1").empty());
  CHECK(receiver.SequenceOf("agg-2") == std::vector<int>{1});
  CHECK(receiver.SequenceOf("agg-3") == std::vector<int>{1});
  CHECK(relay.failed_total() == 1);
  DrainWith(relay, producer);
  CHECK(receiver.effects() == 8);
  RequireInOrder(receiver, 4, 2);
}

TEST_CASE("a lost acknowledgement of a batch makes the relay send it again; the inbox absorbs it") {
  Pipeline pipeline;
  auto& [producer, receiver_schema, receiver, relay] = pipeline;
  auto ids = producer.Enqueue(5, 2, kEventMethod);
  receiver.LoseAckOnce(ids[0]);  // first in the first batch
  DrainWith(relay, producer);
  CHECK(receiver.effects() == 10);
  CHECK(receiver.distinct_effects() == 10);
  CHECK(receiver.duplicates() == 5);  // the whole first batch, once more
  RequireInOrder(receiver, 5, 2);
}

TEST_CASE("a receiver without DeliverEvents gets one call per event, from then on") {
  Pipeline pipeline(absl::ZeroDuration(), /*accepts_batches=*/false);
  auto& [producer, receiver_schema, receiver, relay] = pipeline;
  producer.Enqueue(4, 3, kEventMethod);
  REQUIRE(relay.RunOnce().value_or(-1) == 4);  // delivered in the same pass, one by one
  DrainWith(relay, producer);
  CHECK(relay.failed_total() == 0);
  CHECK(receiver.batch_calls() == 0);
  CHECK(receiver.calls() == 12);
  CHECK(receiver.effects() == 12);
  RequireInOrder(receiver, 4, 3);
}

TEST_CASE("ApplyDeliveredEvents: an invalid envelope fails alone, a repeated id is a duplicate") {
  Producer producer;  // its schema has the inbox
  auto envelope = [](const std::string& id) {
    regsuite::events::v1::EventEnvelope e;
    e.set_event_id(id);
    e.set_source_service("producer");
    e.set_event_type("thing.changed");
    e.set_payload_type("test.Thing");
    return e;
  };
  const std::string a = regsuite::common::NewUuid();
  const std::string b = regsuite::common::NewUuid();
  regsuite::events::v1::EventBatch batch;
  *batch.add_events() = envelope(a);
  *batch.add_events() = envelope("not-a-uuid");
  *batch.add_events() = envelope(a);
  *batch.add_events() = envelope(b);
  std::vector<std::string> applied;
  auto effect = [&](pqxx::work&, const regsuite::events::v1::EventEnvelope& e) {
    applied.push_back(e.event_id());
    return absl::OkStatus();
  };
  auto ack = regsuite::common::ApplyDeliveredEvents(producer.pool, batch, effect);
  REQUIRE(ack.results_size() == 4);
  CHECK(ack.results(0).code() == 0);
  CHECK_FALSE(ack.results(0).duplicate());
  CHECK(ack.results(1).code() == static_cast<int>(absl::StatusCode::kInvalidArgument));
  CHECK(ack.results(1).message() == "event_id: must be a UUID");
  CHECK(ack.results(2).code() == 0);
  CHECK(ack.results(2).duplicate());
  CHECK(ack.results(3).code() == 0);
  CHECK_FALSE(ack.results(3).duplicate());
  CHECK(applied == std::vector<std::string>{a, b});

  applied.clear();
  auto again = regsuite::common::ApplyDeliveredEvents(producer.pool, batch, effect);
  CHECK(applied.empty());
  CHECK(again.results(0).duplicate());
  CHECK(again.results(3).duplicate());
}
