#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/metrics.h"
#include "regsuite/common/pg.h"
#include "regsuite/exchange/v1/exchange.pb.h"
#include "settings.h"

namespace regsuite::exchange {

/// What one push cycle did.
enum class PushCycle { kIdle, kAcknowledged, kRetryLater, kParked };

/// Pushes the change feed to the platform in signed batches (DESIGN.md "Data-sharing
/// platform"), from its own thread. Progress lives in `push_state`: the acknowledged cursor and
/// the batch in flight, recorded before it is sent, so after a restart exactly that batch goes
/// again with the same Idempotency-Key. Timeouts, 5xx, 401, 403, 408, 425 and 429 are retried
/// with exponential backoff; any other 4xx parks the batch (parked_batches) and the push moves
/// on. Re-queued parked batches are sent before new changes. Every batch sent is the recorded
/// in-flight range or a parked one, so replicas pushing at once only resend a batch under the
/// same key (the platform keeps it once); one pushing replica is enough.
class Pusher {
 public:
  Pusher(common::PgPool& pg, PushSettings settings, common::MetricsRegistry& metrics,
         const common::Clock& clock);
  ~Pusher();

  /// One cycle: choose the batch, send it, record the answer.
  absl::StatusOr<PushCycle> RunOnce();

  void Start();
  void Stop();

 private:
  struct Batch {
    std::string batch_id;
    int64_t first = 0;
    int64_t last = 0;
    bool requeued = false;  // a parked batch an operator re-queued
    std::vector<v1::Change> changes;
  };
  absl::StatusOr<std::optional<Batch>> ChooseBatch();
  absl::Status Record(const Batch& batch, int http_status, const std::string& error);
  void UpdateGauges();
  void Loop();

  common::PgPool& pg_;
  const PushSettings settings_;
  common::MetricsRegistry& metrics_;
  const common::Clock& clock_;
  int consecutive_failures_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

/// GetPushStatus / `regctl exchange status`: progress, backlog, parked batches.
absl::StatusOr<v1::PushStatus> ReadPushStatus(common::PgPool& pg, const PushSettings& settings);

/// `regctl exchange retry`: re-queues parked batches (all, or the one named); returns how many.
absl::StatusOr<int> RequeueParkedBatches(common::PgPool& pg, const std::string& batch_id = "");

}  // namespace regsuite::exchange
