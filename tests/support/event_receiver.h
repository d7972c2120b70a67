#pragma once

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "regsuite/common/pg.h"
#include "regsuite/events/v1/events.pb.h"
#include "regsuite/common/worker_pool.h"

namespace regsuite::testing {

/// A stand-in receiving service for outbox tests: it accepts EventEnvelope requests on any
/// method, and EventBatch requests on any method ending in /DeliverEvents, and applies them
/// with the real common::ApplyDeliveredEvent(s): the inbox claim and the effect (a row in
/// `effects`) in one transaction. Failures can be injected.
class EventReceiver {
 public:
  /// Creates `schema` with inbox and effects tables and starts a server on a free port.
  /// Without `accepts_batches` it answers DeliverEvents with UNIMPLEMENTED (an older receiver).
  explicit EventReceiver(std::string schema, absl::Duration per_call_delay = absl::ZeroDuration(),
                         bool accepts_batches = true);
  ~EventReceiver();

  std::string address() const { return address_; }
  /// The next call delivering this event (alone, or first in a batch) applies its effects but
  /// answers UNAVAILABLE (an acknowledgement lost on the way back).
  void LoseAckOnce(const std::string& event_id);
  /// The next delivery of this event fails before any effect.
  void RejectOnce(const std::string& event_id);
  /// The next `times` attempts to apply this event fail (in a batch, each attempt fails the
  /// batch's transaction; ApplyDeliveredEvents then applies the events one by one).
  void RejectTimes(const std::string& event_id, int times);

  int64_t effects();
  int64_t distinct_effects();
  int duplicates() const { return duplicates_.load(); }
  /// Aggregate ids in the order their effects were applied, for one aggregate: the payload
  /// sequence numbers.
  std::vector<int> SequenceOf(const std::string& aggregate_id);

  /// Calls answered (of any kind), DeliverEvents calls and the events they carried.
  int calls() const { return calls_.load(); }
  int batch_calls() const { return batch_calls_.load(); }
  int batch_events() const { return batch_events_.load(); }

  grpc::Status Handle(const std::string& method, const std::string& body, std::string* ack);

 private:
  class Service;
  const std::string schema_;
  absl::Status Effect(pqxx::work& txn, const events::v1::EventEnvelope& envelope);

  const absl::Duration delay_;
  const bool accepts_batches_;
  common::PgPool pool_;
  common::WorkerPool workers_{4, 10000};
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::mutex mu_;
  std::set<std::string> lose_ack_;
  std::map<std::string, int> reject_;
  std::atomic<int> duplicates_{0};
  std::atomic<int> calls_{0};
  std::atomic<int> batch_calls_{0};
  std::atomic<int> batch_events_{0};
};

}  // namespace regsuite::testing
