#pragma once

#include "absl/strings/string_view.h"
#include <grpcpp/channel.h>
#include <grpcpp/client_context.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <pqxx/pqxx>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace regsuite::common {

class PgPool;

/// An event to deliver to another service's gRPC method.
struct OutboxEvent {
  std::string event_id;  // UUID; generated when empty. The receiver's inbox key.
  std::string aggregate_type;
  std::string aggregate_id;
  std::string event_type;
  std::string target_method;  // "/regsuite.disclosure.v1.DisclosureService/DeliverEvent"
  std::string payload;        // the serialized request message of target_method
  std::string trace_parent;
};

/// Writes `event` into the outbox inside the caller's transaction (so it exists exactly when
/// the change it announces does). Returns the event id.
absl::StatusOr<std::string> EnqueueOutbox(pqxx::work& txn, const OutboxEvent& event);

/// Records `event_id` in the receiver's inbox inside the transaction that applies its effect.
/// Returns false when it was already there: the caller skips the effect and acknowledges.
absl::StatusOr<bool> ClaimInbox(pqxx::work& txn, absl::string_view event_id,
                                absl::string_view source_service, absl::string_view event_type);

struct OutboxRelayOptions {
  int batch_size = 64;
  absl::Duration poll_interval = absl::Milliseconds(200);
  absl::Duration call_timeout = absl::Seconds(5);
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(60);
  // Rows of one pass for the same DeliverEvent go as one DeliverEvents call (EventBatch).
  bool batch_delivery = true;
  // Adds metadata (identity, signature) to each delivery; may be empty.
  std::function<void(grpc::ClientContext&, const std::string& method, const std::string& payload)>
      decorate_call;
};

struct OutboxBacklog {
  int64_t pending = 0;
  double oldest_pending_seconds = 0;
};

/// Delivers outbox rows over gRPC (raw bytes through a generic stub), in order per
/// (target service, aggregate), marking a row delivered only after the receiver acknowledged.
/// Rows stay locked (FOR UPDATE SKIP LOCKED) while their delivery is in flight, and only the
/// oldest undelivered row of an aggregate is eligible, so several relay replicas never deliver
/// the same row concurrently nor reorder an aggregate. A relay that dies mid-batch leaves its
/// rows undelivered; they are sent again and the receiver's inbox makes that a no-op.
/// Rows of one pass for the same `…/DeliverEvent` go as one `…/DeliverEvents` call (an
/// EventBatch of at most 1 MiB, each row taking its own result from the EventBatchAck); a
/// receiver that answers UNIMPLEMENTED gets single calls from then on.
class OutboxRelay {
 public:
  OutboxRelay(PgPool& pool, std::shared_ptr<grpc::Channel> channel, OutboxRelayOptions options);
  ~OutboxRelay();

  /// Delivers one batch; returns how many rows were acknowledged.
  absl::StatusOr<int> RunOnce();

  /// Runs RunOnce in a background thread until Stop().
  void Start();
  void Stop();

  absl::StatusOr<OutboxBacklog> Backlog();
  int64_t delivered_total() const { return delivered_total_.load(); }
  int64_t failed_total() const { return failed_total_.load(); }
  // DeliverEvents calls answered (each carrying several rows).
  int64_t batch_calls_total() const { return batch_calls_total_.load(); }

 private:
  void Loop();
  // Whether rows for `method` go in batches: a DeliverEvent whose service has not answered
  // DeliverEvents with UNIMPLEMENTED.
  bool Batches(const std::string& method);

  PgPool& pool_;
  std::shared_ptr<grpc::Channel> channel_;
  const OutboxRelayOptions options_;
  std::atomic<int64_t> delivered_total_{0};
  std::atomic<int64_t> failed_total_{0};
  std::atomic<int64_t> batch_calls_total_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  absl::flat_hash_set<std::string> unbatched_;  // guarded by mu_
  std::thread thread_;
};

}  // namespace regsuite::common
