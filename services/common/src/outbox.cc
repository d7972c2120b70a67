#include "regsuite/common/outbox.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <cmath>
#include <latch>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/log.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/status.h"

namespace regsuite::common {
namespace {

constexpr char kInsertOutbox[] =
    "INSERT INTO outbox (event_id, aggregate_type, aggregate_id, event_type, target_method,"
    " target_service, payload, trace_parent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
constexpr char kClaimInbox[] =
    "INSERT INTO inbox (event_id, source_service, event_type) VALUES ($1, $2, $3)"
    " ON CONFLICT (event_id) DO NOTHING";
// Only the head (oldest undelivered row) of each (target service, aggregate) is eligible.
constexpr char kLockBatch[] =
    "SELECT o.id, o.event_id, o.target_method, o.payload, coalesce(o.trace_parent, ''),"
    " o.attempts FROM outbox o"
    " WHERE o.delivered_at IS NULL AND o.next_attempt_at <= now()"
    "   AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.delivered_at IS NULL"
    "     AND p.target_service = o.target_service AND p.aggregate_type = o.aggregate_type"
    "     AND p.aggregate_id = o.aggregate_id AND p.id < o.id)"
    " ORDER BY o.id LIMIT $1 FOR UPDATE SKIP LOCKED";
// The delivered rows of a batch in one statement ($1: a bigint[] literal).
constexpr char kMarkDelivered[] =
    "UPDATE outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL"
    " WHERE id = ANY($1::bigint[])";
constexpr char kMarkFailed[] =
    "UPDATE outbox SET attempts = attempts + 1, last_error = $2,"
    " next_attempt_at = now() + make_interval(secs => $3) WHERE id = $1";
constexpr char kBacklog[] =
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
    " FROM outbox WHERE delivered_at IS NULL";

std::string TargetService(absl::string_view method) {
  // "/pkg.Service/Method" → "pkg.Service"
  absl::string_view m = method;
  if (!m.empty() && m.front() == '/') m.remove_prefix(1);
  return std::string(m.substr(0, m.find('/')));
}

struct Delivery {
  int64_t id = 0;
  std::string event_id;
  std::string method;
  std::string payload;
  std::string trace_parent;
  int attempts = 0;
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  grpc::Status status;
};

}  // namespace

absl::StatusOr<std::string> EnqueueOutbox(pqxx::work& txn, const OutboxEvent& event) {
  if (event.target_method.empty() || event.target_method.front() != '/' ||
      event.target_method.find('/', 1) == std::string::npos) {
    return FieldError("target_method", "must be a full gRPC method path /package.Service/Method");
  }
  if (event.aggregate_type.empty()) return FieldError("aggregate_type", "required");
  if (event.aggregate_id.empty()) return FieldError("aggregate_id", "required");
  if (!event.event_id.empty() && !IsUuid(event.event_id)) {
    return FieldError("event_id", "must be a UUID");
  }
  std::string event_id = event.event_id.empty() ? NewUuid() : event.event_id;
  ExecPrepared(txn, kInsertOutbox, event_id, event.aggregate_type, event.aggregate_id,
               event.event_type, event.target_method, TargetService(event.target_method),
               pqxx::binarystring(event.payload),
               event.trace_parent.empty() ? nullptr : event.trace_parent.c_str());
  return event_id;
}

absl::StatusOr<bool> ClaimInbox(pqxx::work& txn, absl::string_view event_id,
                                absl::string_view source_service, absl::string_view event_type) {
  if (!IsUuid(event_id)) return FieldError("event_id", "must be a UUID");
  auto result = ExecPrepared(txn, kClaimInbox, std::string(event_id), std::string(source_service),
                             std::string(event_type));
  return result.affected_rows() == 1;
}

OutboxRelay::OutboxRelay(PgPool& pool, std::shared_ptr<grpc::Channel> channel,
                         OutboxRelayOptions options)
    : pool_(pool), channel_(std::move(channel)), options_(std::move(options)) {}

OutboxRelay::~OutboxRelay() { Stop(); }

absl::StatusOr<int> OutboxRelay::RunOnce() {
  grpc::GenericStub stub(channel_);
  return pool_.Transact([&](pqxx::work& txn) -> absl::StatusOr<int> {
    std::vector<std::unique_ptr<Delivery>> batch;
    for (const auto& row : ExecPrepared(txn, kLockBatch, options_.batch_size)) {
      auto d = std::make_unique<Delivery>();
      d->id = row[0].as<int64_t>();
      d->event_id = row[1].as<std::string>();
      d->method = row[2].as<std::string>();
      d->payload = pqxx::binarystring(row[3]).str();
      d->trace_parent = row[4].as<std::string>();
      d->attempts = row[5].as<int>();
      batch.push_back(std::move(d));
    }
    if (batch.empty()) return 0;

    // The batch holds at most one row per aggregate, so its calls may run concurrently.
    std::latch done(static_cast<std::ptrdiff_t>(batch.size()));
    for (auto& d : batch) {
      grpc::Slice slice(d->payload);
      d->request = grpc::ByteBuffer(&slice, 1);
      d->context.set_deadline(absl::ToChronoTime(absl::Now() + options_.call_timeout));
      d->context.AddMetadata("x-event-id", d->event_id);
      if (!d->trace_parent.empty()) d->context.AddMetadata("traceparent", d->trace_parent);
      if (options_.decorate_call) options_.decorate_call(d->context, d->method, d->payload);
      Delivery* raw = d.get();
      stub.UnaryCall(&raw->context, raw->method, grpc::StubOptions(), &raw->request, &raw->response,
                     [raw, &done](grpc::Status s) {
                       raw->status = std::move(s);
                       done.count_down();
                     });
    }
    done.wait();

    std::vector<int64_t> delivered_ids;
    for (const auto& d : batch) {
      if (d->status.ok()) {
        delivered_ids.push_back(d->id);
        continue;
      }
      const double backoff = std::min(absl::ToDoubleSeconds(options_.max_backoff),
                                      absl::ToDoubleSeconds(options_.initial_backoff) *
                                          std::pow(2.0, std::min(d->attempts, 20)));
      std::string error = absl::StrCat(d->status.error_code(), ": ", d->status.error_message());
      ExecPrepared(txn, kMarkFailed, d->id, error, backoff);
      LogWarn("outbox delivery failed; will retry",
              {{"event_id", d->event_id}, {"method", d->method}, {"error", error}});
    }
    if (!delivered_ids.empty()) {
      ExecPrepared(txn, kMarkDelivered, absl::StrCat("{", absl::StrJoin(delivered_ids, ","), "}"));
    }
    const int delivered = static_cast<int>(delivered_ids.size());
    delivered_total_ += delivered;
    failed_total_ += static_cast<int64_t>(batch.size()) - delivered;
    return delivered;
  });
}

void OutboxRelay::Start() {
  std::lock_guard lock(mu_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void OutboxRelay::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void OutboxRelay::Loop() {
  while (true) {
    auto delivered = RunOnce();
    if (!delivered.ok()) {
      LogWarn("outbox relay pass failed", {{"error", delivered.status().ToString()}});
    }
    std::unique_lock lock(mu_);
    if (stopping_) return;
    // A full batch means more may be waiting: go again at once.
    if (delivered.ok() && *delivered == options_.batch_size) continue;
    cv_.wait_for(lock, absl::ToChronoMilliseconds(options_.poll_interval),
                 [this] { return stopping_; });
    if (stopping_) return;
  }
}

absl::StatusOr<OutboxBacklog> OutboxRelay::Backlog() {
  return pool_.Transact([](pqxx::work& txn) -> absl::StatusOr<OutboxBacklog> {
    auto row = txn.exec1(kBacklog);
    return OutboxBacklog{row[0].as<int64_t>(), row[1].as<double>()};
  });
}

}  // namespace regsuite::common
