#pragma once

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "regsuite/common/pg.h"
#include "regsuite/common/worker_pool.h"

namespace regsuite::testing {

/// A stand-in receiving service for outbox tests: it accepts EventEnvelope requests on any
/// method, and in one transaction claims the event in its inbox and records the effect
/// (a row in `effects`), as a real receiver does. Failures can be injected.
class EventReceiver {
 public:
  /// Creates `schema` with inbox and effects tables and starts a server on a free port.
  explicit EventReceiver(std::string schema, absl::Duration per_call_delay = absl::ZeroDuration());
  ~EventReceiver();

  std::string address() const { return address_; }
  /// The next delivery of this event applies its effect but answers UNAVAILABLE
  /// (an acknowledgement lost on the way back).
  void LoseAckOnce(const std::string& event_id);
  /// The next delivery of this event fails before any effect.
  void RejectOnce(const std::string& event_id);

  int64_t effects();
  int64_t distinct_effects();
  int duplicates() const { return duplicates_.load(); }
  /// Aggregate ids in the order their effects were applied, for one aggregate: the payload
  /// sequence numbers.
  std::vector<int> SequenceOf(const std::string& aggregate_id);

  grpc::Status Handle(const std::string& body, std::string* ack);

 private:
  class Service;
  const std::string schema_;
  const absl::Duration delay_;
  common::PgPool pool_;
  common::WorkerPool workers_{4, 10000};
  std::unique_ptr<Service> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::mutex mu_;
  std::set<std::string> lose_ack_;
  std::set<std::string> reject_;
  std::atomic<int> duplicates_{0};
};

}  // namespace regsuite::testing
