#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "annual_reports.h"
#include "event_intake.h"
#include "info_requests.h"
#include "publications.h"
#include "regsuite/common/events.h"
#include "regsuite/common/server.h"
#include "regsuite/disclosure/v1/disclosure.grpc.pb.h"
#include "settings.h"

namespace regsuite::disclosure {

/// The periodic sweep: expires records whose publication period is over and closes requests
/// whose correction period lapsed. Safe with several replicas (rows are claimed with
/// FOR UPDATE SKIP LOCKED and each state change is one transaction).
class ExpirySweep {
 public:
  ExpirySweep(Publications& publications, InfoRequests& requests)
      : publications_(publications), requests_(requests) {}
  ~ExpirySweep() { Stop(); }

  absl::StatusOr<v1::ExpireRecordsResponse> RunOnce(absl::CivilDay as_of);
  void Start(absl::Duration interval, const common::Clock& clock);
  void Stop();

 private:
  Publications& publications_;
  InfoRequests& requests_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

/// gRPC handlers of DisclosureService: each translates the call and runs the logic class on
/// the worker pool (RunBlocking); no business rule lives here.
class DisclosureService final : public v1::DisclosureService::CallbackService {
 public:
  DisclosureService(common::ServiceContext& ctx, DisclosureSettings settings);
  ~DisclosureService() override;

  /// Starts the periodic sweep (when enabled in the settings).
  void StartBackgroundJobs();

  grpc::ServerUnaryReactor* PublishRecord(grpc::CallbackServerContext* ctx,
                                          const v1::PublishRecordRequest* request,
                                          v1::PublishedRecord* response) override;
  grpc::ServerUnaryReactor* GetRecord(grpc::CallbackServerContext* ctx,
                                      const v1::GetRecordRequest* request,
                                      v1::PublishedRecord* response) override;
  grpc::ServerUnaryReactor* SearchRecords(grpc::CallbackServerContext* ctx,
                                          const v1::SearchRecordsRequest* request,
                                          v1::SearchRecordsResponse* response) override;
  grpc::ServerUnaryReactor* ReviewRecord(grpc::CallbackServerContext* ctx,
                                         const v1::ReviewRecordRequest* request,
                                         v1::PublishedRecord* response) override;
  grpc::ServerUnaryReactor* WithdrawRecord(grpc::CallbackServerContext* ctx,
                                           const v1::WithdrawRecordRequest* request,
                                           v1::PublishedRecord* response) override;
  grpc::ServerUnaryReactor* ExpireRecords(grpc::CallbackServerContext* ctx,
                                          const v1::ExpireRecordsRequest* request,
                                          v1::ExpireRecordsResponse* response) override;
  grpc::ServerUnaryReactor* ListOverdue(grpc::CallbackServerContext* ctx,
                                        const v1::ListOverdueRequest* request,
                                        v1::ListOverdueResponse* response) override;
  grpc::ServerUnaryReactor* SubmitInfoRequest(grpc::CallbackServerContext* ctx,
                                              const v1::SubmitInfoRequestRequest* request,
                                              v1::InfoRequest* response) override;
  grpc::ServerUnaryReactor* GetInfoRequest(grpc::CallbackServerContext* ctx,
                                           const v1::GetInfoRequestRequest* request,
                                           v1::InfoRequest* response) override;
  grpc::ServerUnaryReactor* ListInfoRequests(grpc::CallbackServerContext* ctx,
                                             const v1::ListInfoRequestsRequest* request,
                                             v1::ListInfoRequestsResponse* response) override;
  grpc::ServerUnaryReactor* RequestCorrection(grpc::CallbackServerContext* ctx,
                                              const v1::RequestCorrectionRequest* request,
                                              v1::InfoRequest* response) override;
  grpc::ServerUnaryReactor* SubmitCorrection(grpc::CallbackServerContext* ctx,
                                             const v1::SubmitCorrectionRequest* request,
                                             v1::InfoRequest* response) override;
  grpc::ServerUnaryReactor* ExtendInfoRequest(grpc::CallbackServerContext* ctx,
                                              const v1::ExtendInfoRequestRequest* request,
                                              v1::InfoRequest* response) override;
  grpc::ServerUnaryReactor* StartConsultation(grpc::CallbackServerContext* ctx,
                                              const v1::StartConsultationRequest* request,
                                              v1::InfoRequest* response) override;
  grpc::ServerUnaryReactor* FinishConsultation(grpc::CallbackServerContext* ctx,
                                               const v1::FinishConsultationRequest* request,
                                               v1::InfoRequest* response) override;
  grpc::ServerUnaryReactor* ReplyInfoRequest(grpc::CallbackServerContext* ctx,
                                             const v1::ReplyInfoRequestRequest* request,
                                             v1::InfoRequest* response) override;
  grpc::ServerUnaryReactor* RecordAppeal(grpc::CallbackServerContext* ctx,
                                         const v1::RecordAppealRequest* request,
                                         v1::Appeal* response) override;
  grpc::ServerUnaryReactor* GetAnnualReport(grpc::CallbackServerContext* ctx,
                                            const v1::GetAnnualReportRequest* request,
                                            v1::AnnualReport* response) override;
  grpc::ServerUnaryReactor* UpdateAnnualReportNotes(
      grpc::CallbackServerContext* ctx, const v1::UpdateAnnualReportNotesRequest* request,
      v1::AnnualReport* response) override;
  grpc::ServerUnaryReactor* DeliverEvent(grpc::CallbackServerContext* ctx,
                                         const events::v1::EventEnvelope* request,
                                         events::v1::EventAck* response) override;
  grpc::ServerUnaryReactor* DeliverEvents(grpc::CallbackServerContext* ctx,
                                          const events::v1::EventBatch* request,
                                          events::v1::EventBatchAck* response) override;

 private:
  // DeliverEvent(s)' effect: EventIntake in the inbox transaction.
  common::EventEffect IntakeEffect();

  common::ServiceContext& ctx_;
  const DisclosureSettings settings_;
  Publications publications_;
  InfoRequests requests_;
  AnnualReports reports_;
  EventIntake intake_;
  ExpirySweep sweep_;
};

}  // namespace regsuite::disclosure
