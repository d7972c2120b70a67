#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "check_batcher.h"
#include "credit_logic.h"
#include "local_cache.h"
#include "regsuite/common/server.h"
#include "regsuite/credit/v1/credit.grpc.pb.h"

namespace regsuite::credit {

/// gRPC handlers: each translates its request, runs the matching CreditLogic method on the
/// worker pool (RunBlocking) and maps the result. No business rules here.
class CreditServiceImpl : public v1::CreditService::CallbackService {
 public:
  /// `batcher` (may be nullptr) serves single checks from the cache without the worker pool;
  /// `local` (may be nullptr) answers them on the calling thread, before the batcher.
  CreditServiceImpl(CreditLogic& logic, common::WorkerPool& workers,
                    CheckBatcher* batcher = nullptr, LocalCache* local = nullptr);

  grpc::ServerUnaryReactor* CheckSubject(grpc::CallbackServerContext* ctx,
                                         const v1::CheckSubjectRequest* request,
                                         v1::SubjectStatus* response) override;
  grpc::ServerUnaryReactor* BatchCheckSubjects(grpc::CallbackServerContext* ctx,
                                               const v1::BatchCheckSubjectsRequest* request,
                                               v1::BatchCheckSubjectsResponse* response) override;
  grpc::ServerUnaryReactor* GetCreditProfile(grpc::CallbackServerContext* ctx,
                                             const v1::GetCreditProfileRequest* request,
                                             v1::CreditProfile* response) override;
  grpc::ServerUnaryReactor* RecordCreditEvent(grpc::CallbackServerContext* ctx,
                                              const v1::RecordCreditEventRequest* request,
                                              v1::RecordCreditEventResponse* response) override;
  grpc::ServerUnaryReactor* ProposeListing(grpc::CallbackServerContext* ctx,
                                           const v1::ProposeListingRequest* request,
                                           v1::Listing* response) override;
  grpc::ServerUnaryReactor* NotifyListing(grpc::CallbackServerContext* ctx,
                                          const v1::NotifyListingRequest* request,
                                          v1::Listing* response) override;
  grpc::ServerUnaryReactor* RecordObjection(grpc::CallbackServerContext* ctx,
                                            const v1::RecordObjectionRequest* request,
                                            v1::Listing* response) override;
  grpc::ServerUnaryReactor* DecideListing(grpc::CallbackServerContext* ctx,
                                          const v1::DecideListingRequest* request,
                                          v1::Listing* response) override;
  grpc::ServerUnaryReactor* GetListing(grpc::CallbackServerContext* ctx,
                                       const v1::GetListingRequest* request,
                                       v1::Listing* response) override;
  grpc::ServerUnaryReactor* ListListings(grpc::CallbackServerContext* ctx,
                                         const v1::ListListingsRequest* request,
                                         v1::ListListingsResponse* response) override;
  grpc::ServerUnaryReactor* ExpireListings(grpc::CallbackServerContext* ctx,
                                           const v1::ExpireListingsRequest* request,
                                           v1::ExpireListingsResponse* response) override;
  grpc::ServerUnaryReactor* ApplyRepair(grpc::CallbackServerContext* ctx,
                                        const v1::ApplyRepairRequest* request,
                                        v1::Repair* response) override;
  grpc::ServerUnaryReactor* GetRepair(grpc::CallbackServerContext* ctx,
                                      const v1::GetRepairRequest* request,
                                      v1::Repair* response) override;
  grpc::ServerUnaryReactor* ListOverdueRepairs(grpc::CallbackServerContext* ctx,
                                               const v1::ListOverdueRepairsRequest* request,
                                               v1::ListOverdueRepairsResponse* response) override;
  grpc::ServerUnaryReactor* DecideRepair(grpc::CallbackServerContext* ctx,
                                         const v1::DecideRepairRequest* request,
                                         v1::Repair* response) override;
  grpc::ServerUnaryReactor* RevokeRepair(grpc::CallbackServerContext* ctx,
                                         const v1::RevokeRepairRequest* request,
                                         v1::Repair* response) override;
  grpc::ServerUnaryReactor* ListMeasures(grpc::CallbackServerContext* ctx,
                                         const v1::ListMeasuresRequest* request,
                                         v1::ListMeasuresResponse* response) override;
  grpc::ServerUnaryReactor* DeliverEvent(grpc::CallbackServerContext* ctx,
                                         const events::v1::EventEnvelope* request,
                                         events::v1::EventAck* response) override;
  grpc::ServerUnaryReactor* DeliverEvents(grpc::CallbackServerContext* ctx,
                                          const events::v1::EventBatch* request,
                                          events::v1::EventBatchAck* response) override;

 private:
  CreditLogic& logic_;
  common::WorkerPool& workers_;
  CheckBatcher* batcher_;
  LocalCache* local_;
};

/// Runs ExpireListings every `interval` on a background thread (safe on every replica: the
/// UPDATE ... RETURNING gives each expiring listing to exactly one of them).
class ExpiryJob {
 public:
  ExpiryJob(CreditLogic& logic, absl::Duration interval);
  ~ExpiryJob();

 private:
  CreditLogic& logic_;
  const absl::Duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

/// make_services for main.cpp: reads credit.* settings, builds the cache, logic, handlers and
/// the expiry job (kept alive for the process lifetime).
absl::StatusOr<std::vector<std::unique_ptr<grpc::Service>>> MakeCreditServices(
    common::ServiceContext& context);

}  // namespace regsuite::credit
