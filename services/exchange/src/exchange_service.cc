#include "exchange_service.h"

#include "absl/container/flat_hash_map.h"
#include "change_feed.h"
#include "regsuite/common/events.h"

namespace regsuite::exchange {
namespace {

using common::RunBlocking;

constexpr char kMetricFeed[] = "regsuite_exchange_feed_changes_total";

// The call's answer: an OK result is moved into `response`.
template <typename T>
absl::Status Answer(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return result.status();
  *response = *std::move(result);
  return absl::OkStatus();
}

// Entity type of the feed entry each applied event appended, by event id (an effect may run
// twice for one event: a rolled-back batch is applied again event by event).
using AppendedTypes = absl::flat_hash_map<std::string, v1::EntityType>;

// DeliverEvent(s)' effect: the event's feed entry appended in the inbox transaction.
common::EventEffect FeedEffect(AppendedTypes& appended) {
  return [&appended](pqxx::work& txn, const events::v1::EventEnvelope& envelope) -> absl::Status {
    appended.erase(envelope.event_id());
    auto entry = FeedEntryFromEvent(envelope);
    if (!entry.ok()) return entry.status();
    if (!entry->has_value()) return absl::OkStatus();
    auto cursor = ChangeFeed::Append(txn, **entry);
    if (!cursor.ok()) return cursor.status();
    appended[envelope.event_id()] = (*entry)->entity_type;
    return absl::OkStatus();
  };
}

// After the commit: counts the entry `event_id` appended, if it appended one.
void CountAppended(common::MetricsRegistry& metrics, const AppendedTypes& appended,
                   const std::string& event_id) {
  auto it = appended.find(event_id);
  if (it == appended.end()) return;
  metrics.IncCounter(kMetricFeed, {{"entity_type", v1::EntityType_Name(it->second)}});
}

}  // namespace

ExchangeService::ExchangeService(common::ServiceContext& ctx, ExchangeSettings settings)
    : ctx_(ctx),
      settings_(std::move(settings)),
      importer_(ctx.pg, ctx.gateway, settings_.import),
      // The platform checks each push's signature timestamp against its own clock: the pusher
      // signs and schedules in real time, never on a test offset of the service clock.
      pusher_(ctx.pg, settings_.push, ctx.metrics, common::SystemClock::Get()) {
  ctx_.metrics.Describe(kMetricFeed, "counter", "change-feed entries appended, by entity type");
}

ExchangeService::~ExchangeService() { pusher_.Stop(); }

void ExchangeService::StartBackgroundJobs() { pusher_.Start(); }

absl::StatusOr<events::v1::EventAck> ExchangeService::ApplyEvent(
    common::PgPool& pg, common::MetricsRegistry& metrics, const events::v1::EventEnvelope& event) {
  AppendedTypes appended;
  auto ack = common::ApplyDeliveredEvent(pg, event, FeedEffect(appended));
  if (ack.ok() && !ack->duplicate()) CountAppended(metrics, appended, event.event_id());
  return ack;
}

events::v1::EventBatchAck ExchangeService::ApplyEvents(common::PgPool& pg,
                                                       common::MetricsRegistry& metrics,
                                                       const events::v1::EventBatch& batch) {
  AppendedTypes appended;
  auto ack = common::ApplyDeliveredEvents(pg, batch, FeedEffect(appended));
  for (const auto& result : ack.results()) {
    if (result.code() == 0 && !result.duplicate()) {
      CountAppended(metrics, appended, result.event_id());
    }
  }
  return ack;
}

grpc::ServerUnaryReactor* ExchangeService::ListChanges(grpc::CallbackServerContext* ctx,
                                                       const v1::ListChangesRequest* request,
                                                       v1::ListChangesResponse* response) {
  return RunBlocking(ctx, ctx_.workers, [this, request, response] {
    return Answer(ChangeFeed::List(ctx_.pg, *request), response);
  });
}

grpc::ServerUnaryReactor* ExchangeService::GetPushStatus(grpc::CallbackServerContext* ctx,
                                                         const v1::GetPushStatusRequest*,
                                                         v1::PushStatus* response) {
  return RunBlocking(ctx, ctx_.workers, [this, response] {
    return Answer(ReadPushStatus(ctx_.pg, settings_.push), response);
  });
}

grpc::ServerUnaryReactor* ExchangeService::ImportEnterpriseBatch(
    grpc::CallbackServerContext* ctx, const v1::ImportEnterpriseBatchRequest* request,
    v1::ImportEnterpriseBatchResponse* response) {
  return RunBlocking(ctx, ctx_.workers, [this, request, response] {
    return Answer(importer_.Import(*request), response);
  });
}

grpc::ServerUnaryReactor* ExchangeService::PullEnterprises(
    grpc::CallbackServerContext* ctx, const v1::PullEnterprisesRequest* request,
    v1::ImportEnterpriseBatchResponse* response) {
  return RunBlocking(ctx, ctx_.workers, [this, request, response] {
    return Answer(importer_.Pull(request->batch_id(), settings_.push.credentials), response);
  });
}

grpc::ServerUnaryReactor* ExchangeService::DeliverEvent(grpc::CallbackServerContext* ctx,
                                                        const events::v1::EventEnvelope* request,
                                                        events::v1::EventAck* response) {
  return RunBlocking(ctx, ctx_.workers, [this, request, response] {
    return Answer(ApplyEvent(ctx_.pg, ctx_.metrics, *request), response);
  });
}

grpc::ServerUnaryReactor* ExchangeService::DeliverEvents(grpc::CallbackServerContext* ctx,
                                                         const events::v1::EventBatch* request,
                                                         events::v1::EventBatchAck* response) {
  return RunBlocking(ctx, ctx_.workers, [this, request, response] {
    *response = ApplyEvents(ctx_.pg, ctx_.metrics, *request);
    return absl::OkStatus();
  });
}

}  // namespace regsuite::exchange
