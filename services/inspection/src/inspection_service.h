#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/gateway_client.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/server.h"
#include "regsuite/common/worker_pool.h"
#include "regsuite/inspection/v1/inspection.grpc.pb.h"
#include "draw_algorithm.h"
#include "inspection_rules.h"
#include "options.h"
#include "penalty_rules.h"

namespace regsuite::inspection {

/// What the service needs; the binary fills it from ServiceContext, tests build it directly.
struct InspectionDeps {
  common::PgPool& pg;
  common::WorkerPool& workers;
  const common::Clock& clock;
  std::shared_ptr<const common::WorkingDayCalendar> calendar;
  // nullptr: other services unreachable (credit tiers fall back to the listing cache).
  common::GatewayClient* gateway = nullptr;
  InspectionOptions options;
};

/// How credit tiers were obtained for a set of USCCs.
struct CreditTierLookup {
  absl::flat_hash_map<std::string, int> tiers;  // regsuite.credit.v1.CreditTier values
  std::string source;                           // recorded in Draw.credit_check
};

// Declares the gRPC handler (run on the worker pool) and its blocking body Do<Method>.
#define REGSUITE_INSPECTION_METHOD(Method, Request, Response)                              \
  grpc::ServerUnaryReactor* Method(grpc::CallbackServerContext* ctx, const Request* request, \
                                   Response* response) override {                           \
    return common::RunBlocking(ctx, deps_.workers, [this, request, response] {             \
      return Do##Method(*request, response);                                                \
    });                                                                                     \
  }                                                                                         \
  absl::Status Do##Method(const Request& request, Response* response)

/// InspectionService: handlers translate proto ↔ domain; rules live in draw_algorithm,
/// penalty_rules, inspection_rules and directory_validation. Each state change is one
/// transaction, with its outbox events.
class InspectionServiceImpl final : public v1::InspectionService::CallbackService {
 public:
  explicit InspectionServiceImpl(InspectionDeps deps);
  ~InspectionServiceImpl() override;

  REGSUITE_INSPECTION_METHOD(UpsertEnterprise, v1::UpsertEnterpriseRequest, v1::Enterprise);
  REGSUITE_INSPECTION_METHOD(GetEnterprise, v1::GetEnterpriseRequest, v1::Enterprise);
  REGSUITE_INSPECTION_METHOD(ImportEnterprises, v1::ImportEnterprisesRequest,
                             v1::ImportEnterprisesResponse);
  REGSUITE_INSPECTION_METHOD(UpsertInspector, v1::UpsertInspectorRequest, v1::Inspector);
  REGSUITE_INSPECTION_METHOD(UpsertCheckItem, v1::UpsertCheckItemRequest, v1::CheckItem);
  REGSUITE_INSPECTION_METHOD(DrawInspections, v1::DrawInspectionsRequest, v1::Draw);
  REGSUITE_INSPECTION_METHOD(GetDraw, v1::GetDrawRequest, v1::Draw);
  REGSUITE_INSPECTION_METHOD(VerifyDraw, v1::VerifyDrawRequest, v1::VerifyDrawResponse);
  REGSUITE_INSPECTION_METHOD(PublishMonthlyPlan, v1::PublishMonthlyPlanRequest,
                             v1::MonthlyPlan);
  REGSUITE_INSPECTION_METHOD(BuildAnnualPlan, v1::BuildAnnualPlanRequest, v1::AnnualPlan);
  REGSUITE_INSPECTION_METHOD(GetAnnualPlan, v1::GetAnnualPlanRequest, v1::AnnualPlan);
  REGSUITE_INSPECTION_METHOD(ListAnnualPlanEntries, v1::ListAnnualPlanEntriesRequest,
                             v1::ListAnnualPlanEntriesResponse);
  REGSUITE_INSPECTION_METHOD(PublishAnnualPlan, v1::PublishAnnualPlanRequest, v1::AnnualPlan);
  REGSUITE_INSPECTION_METHOD(StartInspection, v1::StartInspectionRequest, v1::Inspection);
  REGSUITE_INSPECTION_METHOD(GetInspection, v1::GetInspectionRequest, v1::Inspection);
  REGSUITE_INSPECTION_METHOD(ListInspections, v1::ListInspectionsRequest,
                             v1::ListInspectionsResponse);
  REGSUITE_INSPECTION_METHOD(RecordFindings, v1::RecordFindingsRequest, v1::Inspection);
  REGSUITE_INSPECTION_METHOD(CloseInspection, v1::CloseInspectionRequest, v1::Inspection);
  REGSUITE_INSPECTION_METHOD(ListHazards, v1::ListHazardsRequest, v1::ListHazardsResponse);
  REGSUITE_INSPECTION_METHOD(RectifyHazard, v1::RectifyHazardRequest, v1::Hazard);
  REGSUITE_INSPECTION_METHOD(VerifyHazard, v1::VerifyHazardRequest, v1::Hazard);
  REGSUITE_INSPECTION_METHOD(AssessPenalty, v1::AssessPenaltyRequest, v1::PenaltyAssessment);
  REGSUITE_INSPECTION_METHOD(ProposePenalty, v1::ProposePenaltyRequest, v1::PenaltyCase);
  REGSUITE_INSPECTION_METHOD(GetPenalty, v1::GetPenaltyRequest, v1::PenaltyCase);
  REGSUITE_INSPECTION_METHOD(RecordHearing, v1::RecordHearingRequest, v1::PenaltyCase);
  REGSUITE_INSPECTION_METHOD(RecordLegalReview, v1::RecordLegalReviewRequest, v1::PenaltyCase);
  REGSUITE_INSPECTION_METHOD(DecidePenalty, v1::DecidePenaltyRequest, v1::PenaltyCase);
  REGSUITE_INSPECTION_METHOD(RecordPayment, v1::RecordPaymentRequest, v1::PenaltyCase);
  REGSUITE_INSPECTION_METHOD(AnnulPenalty, v1::AnnulPenaltyRequest, v1::PenaltyCase);
  REGSUITE_INSPECTION_METHOD(FileComplaint, v1::FileComplaintRequest, v1::Complaint);
  REGSUITE_INSPECTION_METHOD(GetStats, v1::GetStatsRequest, v1::InspectionStats);
  REGSUITE_INSPECTION_METHOD(DeliverEvent, events::v1::EventEnvelope, events::v1::EventAck);
  REGSUITE_INSPECTION_METHOD(DeliverEvents, events::v1::EventBatch, events::v1::EventBatchAck);

  /// Sends a credit event (REFUSAL_TO_RECTIFY) for every major hazard still open after its
  /// deadline, once per hazard. Returns how many were reported. Also run by a background
  /// thread every minute.
  absl::StatusOr<int> SweepOverdueMajorHazards();

 private:
  absl::StatusOr<CreditTierLookup> LookUpCreditTiers(pqxx::work& txn,
                                                     const std::vector<std::string>& usccs);
  absl::StatusOr<DiscretionBenchmark> LoadBenchmark(pqxx::work& txn, const std::string& code,
                                                    const std::string& as_of);
  absl::Status LoadInspection(pqxx::work& txn, const std::string& id, bool for_update,
                              v1::Inspection* out, int64_t* version);
  absl::Status LoadPenalty(pqxx::work& txn, const std::string& id, bool for_update,
                           v1::PenaltyCase* out, int64_t* version);
  absl::Status SavePenalty(pqxx::work& txn, v1::PenaltyCase& pc, int64_t version);
  absl::StatusOr<v1::Hazard> MutateHazard(
      const std::string& hazard_id, const std::string& etag,
      const std::function<absl::Status(v1::Hazard&)>& change);
  void SweepLoop();

  InspectionDeps deps_;
  std::mutex sweep_mu_;
  std::condition_variable sweep_cv_;
  bool stopping_ = false;
  std::thread sweeper_;
};

#undef REGSUITE_INSPECTION_METHOD

}  // namespace regsuite::inspection
