#pragma once

#include "enterprise_import.h"
#include "pusher.h"
#include "regsuite/common/server.h"
#include "regsuite/exchange/v1/exchange.grpc.pb.h"
#include "settings.h"

namespace regsuite::exchange {

/// gRPC handlers of ExchangeService: each runs its logic class on the worker pool
/// (RunBlocking); no business rule lives here. Owns the background pusher.
class ExchangeService final : public v1::ExchangeService::CallbackService {
 public:
  ExchangeService(common::ServiceContext& ctx, ExchangeSettings settings);
  ~ExchangeService() override;

  /// Starts the pusher when push.url is set.
  void StartBackgroundJobs();

  grpc::ServerUnaryReactor* ListChanges(grpc::CallbackServerContext* ctx,
                                        const v1::ListChangesRequest* request,
                                        v1::ListChangesResponse* response) override;
  grpc::ServerUnaryReactor* GetPushStatus(grpc::CallbackServerContext* ctx,
                                          const v1::GetPushStatusRequest* request,
                                          v1::PushStatus* response) override;
  grpc::ServerUnaryReactor* ImportEnterpriseBatch(
      grpc::CallbackServerContext* ctx, const v1::ImportEnterpriseBatchRequest* request,
      v1::ImportEnterpriseBatchResponse* response) override;
  grpc::ServerUnaryReactor* PullEnterprises(grpc::CallbackServerContext* ctx,
                                            const v1::PullEnterprisesRequest* request,
                                            v1::ImportEnterpriseBatchResponse* response) override;
  grpc::ServerUnaryReactor* DeliverEvent(grpc::CallbackServerContext* ctx,
                                         const events::v1::EventEnvelope* request,
                                         events::v1::EventAck* response) override;

  grpc::ServerUnaryReactor* DeliverEvents(grpc::CallbackServerContext* ctx,
                                          const events::v1::EventBatch* request,
                                          events::v1::EventBatchAck* response) override;

  /// DeliverEvent's effect: the event's feed entry appended in the inbox transaction.
  static absl::StatusOr<events::v1::EventAck> ApplyEvent(common::PgPool& pg,
                                                         common::MetricsRegistry& metrics,
                                                         const events::v1::EventEnvelope& event);
  /// DeliverEvents': the batch's entries appended in one transaction (ApplyDeliveredEvents).
  static events::v1::EventBatchAck ApplyEvents(common::PgPool& pg,
                                               common::MetricsRegistry& metrics,
                                               const events::v1::EventBatch& batch);

 private:
  common::ServiceContext& ctx_;
  const ExchangeSettings settings_;
  EnterpriseImporter importer_;
  Pusher pusher_;
};

}  // namespace regsuite::exchange
