#include "pusher.h"

#include "absl/strings/str_cat.h"
#include "change_feed.h"
#include "http_client.h"
#include "push_protocol.h"
#include "regsuite/common/log.h"
#include "regsuite/common/signing.h"

namespace regsuite::exchange {
namespace {

constexpr char kLockState[] =
    "SELECT acknowledged_cursor, inflight_first, inflight_last FROM push_state FOR UPDATE";
constexpr char kNextRequeued[] =
    "SELECT batch_id, first_cursor, last_cursor FROM parked_batches WHERE state = 'REQUEUED' "
    "ORDER BY first_cursor LIMIT 1";
constexpr char kSetInflight[] =
    "UPDATE push_state SET inflight_first = $1, inflight_last = $2, last_attempt_at = now()";
constexpr char kTouchAttempt[] = "UPDATE push_state SET last_attempt_at = now()";
// Moves past a batch (acknowledged, or parked for an operator) and forgets it as in flight.
constexpr char kAdvance[] =
    "UPDATE push_state SET acknowledged_cursor = GREATEST(acknowledged_cursor, $1), "
    "inflight_first = CASE WHEN inflight_first = $2 THEN NULL ELSE inflight_first END, "
    "inflight_last = CASE WHEN inflight_first = $2 THEN NULL ELSE inflight_last END";
// The platform answered for good (2xx or a permanent 4xx): the failure streak ends.
constexpr char kSettle[] =
    "UPDATE push_state SET consecutive_failures = 0, last_error = $1, "
    "last_success_at = CASE WHEN $2 THEN now() ELSE last_success_at END";
constexpr char kMarkDelivered[] =
    "UPDATE parked_batches SET state = 'DELIVERED', updated_at = now() WHERE batch_id = $1";
constexpr char kRecordFailure[] =
    "UPDATE push_state SET consecutive_failures = consecutive_failures + 1, last_error = $1";
constexpr char kPark[] =
    "INSERT INTO parked_batches (batch_id, first_cursor, last_cursor, http_status, error) "
    "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (batch_id) DO UPDATE SET state = 'PARKED', "
    "http_status = EXCLUDED.http_status, error = EXCLUDED.error, updated_at = now()";
constexpr char kSelectState[] =
    "SELECT acknowledged_cursor, (extract(epoch from last_success_at) * 1000000)::bigint, "
    "(extract(epoch from last_attempt_at) * 1000000)::bigint, consecutive_failures, last_error, "
    "inflight_first, inflight_last FROM push_state";
constexpr char kSelectOpenParked[] =
    "SELECT batch_id, first_cursor, last_cursor, http_status, error, "
    "(extract(epoch from parked_at) * 1000000)::bigint, state FROM parked_batches "
    "WHERE state <> 'DELIVERED' ORDER BY first_cursor";
constexpr char kCountParked[] = "SELECT count(*) FROM parked_batches WHERE state = 'PARKED'";
constexpr char kRequeueAll[] =
    "UPDATE parked_batches SET state = 'REQUEUED', updated_at = now() WHERE state = 'PARKED'";
constexpr char kRequeueOne[] =
    "UPDATE parked_batches SET state = 'REQUEUED', updated_at = now() "
    "WHERE state = 'PARKED' AND batch_id = $1";

constexpr char kMetricBatches[] = "regsuite_exchange_push_batches_total";
constexpr char kMetricChanges[] = "regsuite_exchange_push_changes_total";
constexpr char kMetricLag[] = "regsuite_exchange_push_lag_changes";
constexpr char kMetricParked[] = "regsuite_exchange_push_parked_batches";

void SetMicros(google::protobuf::Timestamp* ts, const pqxx::field& micros) {
  if (micros.is_null()) return;
  const int64_t us = micros.as<int64_t>();
  ts->set_seconds(us / 1000000);
  ts->set_nanos(static_cast<int32_t>((us % 1000000) * 1000));
}

}  // namespace

Pusher::Pusher(common::PgPool& pg, PushSettings settings, common::MetricsRegistry& metrics,
               const common::Clock& clock)
    : pg_(pg), settings_(std::move(settings)), metrics_(metrics), clock_(clock) {
  metrics_.Describe(kMetricBatches, "counter",
                    "pushed batches by outcome (acknowledged, retry, parked)");
  metrics_.Describe(kMetricChanges, "counter", "changes acknowledged by the platform");
  metrics_.Describe(kMetricLag, "gauge", "changes not yet acknowledged by the platform");
  metrics_.Describe(kMetricParked, "gauge", "batches parked for an operator");
}

Pusher::~Pusher() { Stop(); }

absl::StatusOr<std::optional<Pusher::Batch>> Pusher::ChooseBatch() {
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::optional<Batch>> {
    pqxx::row state = txn.exec1(kLockState);
    Batch batch;
    pqxx::result requeued = txn.exec(kNextRequeued);
    if (!requeued.empty()) {
      batch.batch_id = requeued[0][0].c_str();
      batch.first = requeued[0][1].as<int64_t>();
      batch.last = requeued[0][2].as<int64_t>();
      batch.requeued = true;
      txn.exec(kTouchAttempt);
    } else if (!state[1].is_null()) {
      batch.first = state[1].as<int64_t>();
      batch.last = state[2].as<int64_t>();
      txn.exec(kTouchAttempt);
    } else {
      std::vector<v1::Change> next =
          ChangeFeed::After(txn, state[0].as<int64_t>(), settings_.batch_size);
      if (next.empty()) return std::optional<Batch>();
      batch.first = CursorOf(next.front());
      batch.last = CursorOf(next.back());
      txn.exec_params(kSetInflight, batch.first, batch.last);
    }
    if (batch.batch_id.empty()) batch.batch_id = BatchIdFor(batch.first, batch.last);
    batch.changes = ChangeFeed::Range(txn, batch.first, batch.last);
    return std::optional<Batch>(std::move(batch));
  });
}

absl::Status Pusher::Record(const Batch& batch, int http_status, const std::string& error) {
  const PushOutcome outcome = ClassifyHttpStatus(http_status);
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    if (outcome == PushOutcome::kRetry) {
      txn.exec_params(kRecordFailure, error);
      return absl::OkStatus();
    }
    const bool acknowledged = outcome == PushOutcome::kAcknowledged;
    if (acknowledged && batch.requeued) txn.exec_params(kMarkDelivered, batch.batch_id);
    if (!acknowledged)
      txn.exec_params(kPark, batch.batch_id, batch.first, batch.last, http_status, error);
    // A re-queued batch lies behind the progress cursor and any batch in flight: leave both.
    if (!batch.requeued) txn.exec_params(kAdvance, batch.last, batch.first);
    txn.exec_params(kSettle,
                    acknowledged ? "" : absl::StrCat("batch ", batch.batch_id, " parked: ", error),
                    acknowledged);
    return absl::OkStatus();
  });
}

absl::StatusOr<PushCycle> Pusher::RunOnce() {
  auto chosen = ChooseBatch();
  if (!chosen.ok()) return chosen.status();
  if (!chosen->has_value()) {
    UpdateGauges();
    return PushCycle::kIdle;
  }
  const Batch& batch = **chosen;
  const std::string body = BatchJson(batch.batch_id, batch.changes);
  auto headers = SignedHeaders(settings_.credentials, "POST", settings_.url, body, clock_.Now(),
                               common::NewNonce());
  headers.emplace_back("Content-Type", "application/json");
  headers.emplace_back("Idempotency-Key", batch.batch_id);
  HttpResponse response = SendHttpRequest("POST", settings_.url, headers, body, settings_.timeout);
  std::string error = response.status == 0 ? response.error
                                           : absl::StrCat("HTTP ", response.status, ": ",
                                                          response.body.substr(0, 300));
  if (absl::Status s = Record(batch, response.status, error); !s.ok()) return s;
  const std::string count = absl::StrCat(batch.changes.size());
  PushCycle cycle = PushCycle::kAcknowledged;
  switch (ClassifyHttpStatus(response.status)) {
    case PushOutcome::kAcknowledged:
      consecutive_failures_ = 0;
      metrics_.IncCounter(kMetricBatches, {{"outcome", "acknowledged"}});
      metrics_.IncCounter(kMetricChanges, {}, static_cast<double>(batch.changes.size()));
      common::LogInfo("batch pushed", {{"batch_id", batch.batch_id}, {"changes", count}});
      break;
    case PushOutcome::kRetry:
      ++consecutive_failures_;
      metrics_.IncCounter(kMetricBatches, {{"outcome", "retry"}});
      common::LogWarn("push failed; will retry", {{"batch_id", batch.batch_id}, {"error", error}});
      cycle = PushCycle::kRetryLater;
      break;
    case PushOutcome::kPark:
      consecutive_failures_ = 0;
      metrics_.IncCounter(kMetricBatches, {{"outcome", "parked"}});
      common::LogError("platform rejected the batch; parked for an operator",
                       {{"batch_id", batch.batch_id}, {"error", error}});
      cycle = PushCycle::kParked;
      break;
  }
  UpdateGauges();
  return cycle;
}

void Pusher::UpdateGauges() {
  auto counts = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::pair<int64_t, int64_t>> {
    const int64_t acknowledged = txn.exec1(kSelectState)[0].as<int64_t>();
    return std::make_pair(ChangeFeed::CountAfter(txn, acknowledged),
                          txn.exec1(kCountParked)[0].as<int64_t>());
  });
  if (!counts.ok()) return;
  metrics_.SetGauge(kMetricLag, {}, static_cast<double>(counts->first));
  metrics_.SetGauge(kMetricParked, {}, static_cast<double>(counts->second));
}

void Pusher::Start() {
  if (!settings_.enabled() || thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void Pusher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Pusher::Loop() {
  for (;;) {
    absl::Duration wait = absl::ZeroDuration();
    auto cycle = RunOnce();
    if (!cycle.ok()) {
      ++consecutive_failures_;
      common::LogWarn("push cycle failed", {{"error", cycle.status().ToString()}});
    }
    if (!cycle.ok() || *cycle == PushCycle::kRetryLater) {
      wait = BackoffDelay(consecutive_failures_, settings_.initial_backoff, settings_.max_backoff);
    } else if (*cycle == PushCycle::kIdle) {
      wait = settings_.interval;
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (cv_.wait_for(lock, absl::ToChronoMilliseconds(wait), [this] { return stopping_; })) return;
  }
}

absl::StatusOr<v1::PushStatus> ReadPushStatus(common::PgPool& pg, const PushSettings& settings) {
  return pg.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::PushStatus> {
    v1::PushStatus status;
    status.set_enabled(settings.enabled());
    status.set_endpoint(settings.url);
    pqxx::row row = txn.exec1(kSelectState);
    const int64_t acknowledged = row[0].as<int64_t>();
    status.set_last_acknowledged_cursor(FormatCursor(acknowledged));
    SetMicros(status.mutable_last_success_at(), row[1]);
    SetMicros(status.mutable_last_attempt_at(), row[2]);
    if (row[1].is_null()) status.clear_last_success_at();
    if (row[2].is_null()) status.clear_last_attempt_at();
    status.set_consecutive_failures(row[3].as<int>());
    status.set_last_error(row[4].c_str());
    if (!row[5].is_null())
      status.set_inflight_batch_id(BatchIdFor(row[5].as<int64_t>(), row[6].as<int64_t>()));
    status.set_pending_changes(ChangeFeed::CountAfter(txn, acknowledged));
    for (const auto& p : txn.exec(kSelectOpenParked)) {
      v1::ParkedBatch* parked = status.add_parked_batches();
      parked->set_batch_id(p[0].c_str());
      parked->set_first_cursor(FormatCursor(p[1].as<int64_t>()));
      parked->set_last_cursor(FormatCursor(p[2].as<int64_t>()));
      parked->set_http_status(p[3].as<int>());
      parked->set_error(p[4].c_str());
      SetMicros(parked->mutable_parked_at(), p[5]);
      parked->set_state(p[6].c_str());
    }
    return status;
  });
}

absl::StatusOr<int> RequeueParkedBatches(common::PgPool& pg, const std::string& batch_id) {
  return pg.Transact([&](pqxx::work& txn) -> absl::StatusOr<int> {
    pqxx::result r =
        batch_id.empty() ? txn.exec(kRequeueAll) : txn.exec_params(kRequeueOne, batch_id);
    return static_cast<int>(r.affected_rows());
  });
}

}  // namespace regsuite::exchange
