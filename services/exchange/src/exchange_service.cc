#include "exchange_service.h"

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
  v1::EntityType appended = v1::ENTITY_TYPE_UNSPECIFIED;
  auto ack = common::ApplyDeliveredEvent(
      pg, event, [&](pqxx::work& txn, const events::v1::EventEnvelope& envelope) -> absl::Status {
        appended = v1::ENTITY_TYPE_UNSPECIFIED;
        auto entry = FeedEntryFromEvent(envelope);
        if (!entry.ok()) return entry.status();
        if (!entry->has_value()) return absl::OkStatus();
        auto cursor = ChangeFeed::Append(txn, **entry);
        if (!cursor.ok()) return cursor.status();
        appended = (*entry)->entity_type;
        return absl::OkStatus();
      });
  if (ack.ok() && !ack->duplicate() && appended != v1::ENTITY_TYPE_UNSPECIFIED)
    metrics.IncCounter(kMetricFeed, {{"entity_type", v1::EntityType_Name(appended)}});
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

}  // namespace regsuite::exchange
