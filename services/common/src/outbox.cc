#include "regsuite/common/outbox.h"

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/support/byte_buffer.h>

#include <algorithm>
#include <cmath>
#include <latch>

#include "absl/container/btree_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/log.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/status.h"
#include "regsuite/events/v1/events.pb.h"

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

// One outbox row of a pass and what became of it.
struct Delivery {
  int64_t id = 0;
  std::string event_id;
  std::string method;
  std::string payload;
  std::string trace_parent;
  int attempts = 0;
  absl::Status outcome = absl::UnknownError("not delivered");
};

// One gRPC call of a pass: a single row to its method, or several rows of one target as an
// EventBatch to the DeliverEvents beside the rows' DeliverEvent.
struct Call {
  std::string method;
  std::vector<Delivery*> rows;
  bool batch = false;
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
  grpc::Status status;
};

constexpr absl::string_view kDeliverEvent = "/DeliverEvent";
// Largest EventBatch body the relay builds (payload bytes; framing adds a few per row).
constexpr size_t kMaxBatchBytes = 1 << 20;

void AppendVarint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7F) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

// EventBatch.events is field 1 (wire type 2): the stored envelopes, framed, without parsing.
std::string BatchBody(const std::vector<Delivery*>& rows) {
  std::string body;
  for (const Delivery* d : rows) {
    body += '\x0a';
    AppendVarint(body, d->payload.size());
    body += d->payload;
  }
  return body;
}

// Spreads a call's answer over its rows: a batch's per-event results, or the call's status.
void Settle(Call& call) {
  if (!call.batch || !call.status.ok()) {
    for (Delivery* d : call.rows) d->outcome = FromGrpcStatus(call.status);
    return;
  }
  events::v1::EventBatchAck ack;
  const bool parsed =
      grpc::SerializationTraits<events::v1::EventBatchAck>::Deserialize(&call.response, &ack).ok();
  for (size_t i = 0; i < call.rows.size(); ++i) {
    Delivery* d = call.rows[i];
    if (!parsed || static_cast<int>(i) >= ack.results_size() ||
        !absl::EqualsIgnoreCase(ack.results(i).event_id(), d->event_id)) {
      d->outcome = absl::InternalError("DeliverEvents answered without this event's result");
      continue;
    }
    const auto& r = ack.results(i);
    d->outcome = absl::Status(static_cast<absl::StatusCode>(r.code()), r.message());
  }
}

std::unique_ptr<Call> SingleCall(Delivery& d) {
  auto call = std::make_unique<Call>();
  call->method = d.method;
  call->rows.push_back(&d);
  return call;
}

// The calls of a pass: rows for a method that `batches` go as DeliverEvents calls of at most
// kMaxBatchBytes (well under gRPC's 4 MiB message limit; a row bigger than that goes alone,
// as it always did); the others one call per row. The pass holds at most one row per
// aggregate, so its calls (and the events of one batch) may run in any order and concurrently.
std::vector<std::unique_ptr<Call>> PlanCalls(std::vector<Delivery>& rows,
                                             const std::function<bool(const std::string&)>& batches) {
  std::vector<std::unique_ptr<Call>> calls;
  absl::btree_map<std::string, std::vector<Delivery*>> by_method;
  for (Delivery& d : rows) by_method[d.method].push_back(&d);
  for (auto& [method, group] : by_method) {
    if (group.size() < 2 || !batches(method)) {
      for (Delivery* d : group) calls.push_back(SingleCall(*d));
      continue;
    }
    std::vector<Delivery*> chunk;
    size_t bytes = 0;
    auto flush = [&] {
      if (chunk.size() == 1) {
        calls.push_back(SingleCall(*chunk.front()));
      } else if (!chunk.empty()) {
        auto call = std::make_unique<Call>();
        call->method = method + "s";  // DeliverEvent → DeliverEvents
        call->rows = std::move(chunk);
        call->batch = true;
        calls.push_back(std::move(call));
      }
      chunk.clear();
      bytes = 0;
    };
    for (Delivery* d : group) {
      if (!chunk.empty() && bytes + d->payload.size() > kMaxBatchBytes) flush();
      chunk.push_back(d);
      bytes += d->payload.size();
    }
    flush();
  }
  return calls;
}

// Starts every call at once and waits for all their answers.
void SendAll(grpc::GenericStub& stub, const OutboxRelayOptions& options,
             std::vector<std::unique_ptr<Call>>& calls) {
  std::latch done(static_cast<std::ptrdiff_t>(calls.size()));
  for (auto& call : calls) {
    const std::string body = call->batch ? BatchBody(call->rows) : call->rows.front()->payload;
    grpc::Slice slice(body);
    call->request = grpc::ByteBuffer(&slice, 1);
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + options.call_timeout));
    if (!call->batch) {
      const Delivery& d = *call->rows.front();
      call->context.AddMetadata("x-event-id", d.event_id);
      if (!d.trace_parent.empty()) call->context.AddMetadata("traceparent", d.trace_parent);
    }
    if (options.decorate_call) options.decorate_call(call->context, call->method, body);
    Call* raw = call.get();
    stub.UnaryCall(&raw->context, raw->method, grpc::StubOptions(), &raw->request, &raw->response,
                   [raw, &done](grpc::Status s) {
                     raw->status = std::move(s);
                     done.count_down();
                   });
  }
  done.wait();
}

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

bool OutboxRelay::Batches(const std::string& method) {
  if (!options_.batch_delivery || !absl::EndsWith(method, kDeliverEvent)) return false;
  std::lock_guard lock(mu_);
  return !unbatched_.contains(method);
}

absl::StatusOr<int> OutboxRelay::RunOnce() {
  grpc::GenericStub stub(channel_);
  return pool_.Transact([&](pqxx::work& txn) -> absl::StatusOr<int> {
    std::vector<Delivery> rows;
    for (const auto& row : ExecPrepared(txn, kLockBatch, options_.batch_size)) {
      Delivery& d = rows.emplace_back();
      d.id = row[0].as<int64_t>();
      d.event_id = row[1].as<std::string>();
      d.method = row[2].as<std::string>();
      d.payload = pqxx::binarystring(row[3]).str();
      d.trace_parent = row[4].as<std::string>();
      d.attempts = row[5].as<int>();
    }
    if (rows.empty()) return 0;

    auto calls = PlanCalls(rows, [this](const std::string& method) { return Batches(method); });
    SendAll(stub, options_, calls);

    // A receiver without DeliverEvents (an older version) gets this pass's rows one by one,
    // and single calls from now on.
    std::vector<std::unique_ptr<Call>> retry;
    for (auto& call : calls) {
      if (call->batch && call->status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        const std::string method = call->rows.front()->method;
        {
          std::lock_guard lock(mu_);
          unbatched_.insert(method);
        }
        LogInfo("receiver has no DeliverEvents; delivering one event per call",
                {{"method", method}});
        for (Delivery* d : call->rows) retry.push_back(SingleCall(*d));
        continue;
      }
      Settle(*call);
    }
    if (!retry.empty()) {
      SendAll(stub, options_, retry);
      for (auto& call : retry) Settle(*call);
    }
    for (const auto& call : calls) {
      if (call->batch && call->status.ok()) ++batch_calls_total_;
    }

    std::vector<int64_t> delivered_ids;
    for (const Delivery& d : rows) {
      if (d.outcome.ok()) {
        delivered_ids.push_back(d.id);
        continue;
      }
      const double backoff = std::min(absl::ToDoubleSeconds(options_.max_backoff),
                                      absl::ToDoubleSeconds(options_.initial_backoff) *
                                          std::pow(2.0, std::min(d.attempts, 20)));
      std::string error = absl::StrCat(static_cast<int>(d.outcome.code()), ": ",
                                       d.outcome.message());
      ExecPrepared(txn, kMarkFailed, d.id, error, backoff);
      LogWarn("outbox delivery failed; will retry",
              {{"event_id", d.event_id}, {"method", d.method}, {"error", error}});
    }
    if (!delivered_ids.empty()) {
      ExecPrepared(txn, kMarkDelivered, absl::StrCat("{", absl::StrJoin(delivered_ids, ","), "}"));
    }
    const int delivered = static_cast<int>(delivered_ids.size());
    delivered_total_ += delivered;
    failed_total_ += static_cast<int64_t>(rows.size()) - delivered;
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
