#pragma once

#include <functional>
#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/pg.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"
#include "request_rules.h"
#include "settings.h"

namespace regsuite::disclosure {

/// Requests for government information (`info_requests` table) on their statutory clocks
/// (RequestRules), the fee for excessive requests, appeals and the lapsed-correction sweep.
/// Each change is one transaction with the row locked; only masked requests are returned.
class InfoRequests {
 public:
  InfoRequests(common::PgPool& pg, const DisclosureSettings& settings,
               std::shared_ptr<const common::WorkingDayCalendar> calendar,
               const common::Clock& clock)
      : pg_(pg), settings_(settings), calendar_(std::move(calendar)), clock_(clock) {}

  absl::StatusOr<v1::InfoRequest> Submit(const v1::SubmitInfoRequestRequest& request);
  absl::StatusOr<v1::InfoRequest> Get(const std::string& request_id);
  absl::StatusOr<v1::ListInfoRequestsResponse> List(const v1::ListInfoRequestsRequest& request);
  absl::StatusOr<v1::InfoRequest> RequestCorrection(const v1::RequestCorrectionRequest& request);
  absl::StatusOr<v1::InfoRequest> SubmitCorrection(const v1::SubmitCorrectionRequest& request);
  absl::StatusOr<v1::InfoRequest> Extend(const v1::ExtendInfoRequestRequest& request);
  absl::StatusOr<v1::InfoRequest> StartConsultation(const v1::StartConsultationRequest& request);
  absl::StatusOr<v1::InfoRequest> FinishConsultation(const v1::FinishConsultationRequest& request);
  absl::StatusOr<v1::InfoRequest> Reply(const v1::ReplyInfoRequestRequest& request);

  /// Closes every request whose correction period lapsed before `today` (逾期不补正).
  absl::StatusOr<std::vector<std::string>> CloseLapsedCorrections(absl::CivilDay today);

  /// Open requests (not replied, not waiting for a correction) due on or before `cutoff`.
  absl::StatusOr<std::vector<v1::InfoRequest>> OpenDueBy(absl::CivilDay cutoff);

  absl::StatusOr<v1::Appeal> RecordAppeal(const v1::RecordAppealRequest& request);

 private:
  using Change = std::function<absl::Status(v1::InfoRequest&, const RequestRules&, absl::CivilDay)>;
  absl::StatusOr<v1::InfoRequest> Mutate(const std::string& request_id, const std::string& etag,
                                         const Change& change);
  absl::StatusOr<v1::InfoRequest> MutateInTxn(pqxx::work& txn, const std::string& request_id,
                                              const std::string& etag, const Change& change);

  common::PgPool& pg_;
  const DisclosureSettings& settings_;
  std::shared_ptr<const common::WorkingDayCalendar> calendar_;
  const common::Clock& clock_;
};

}  // namespace regsuite::disclosure
