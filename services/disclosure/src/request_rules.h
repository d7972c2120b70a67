#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "regsuite/common/calendar.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"
#include "settings.h"

namespace regsuite::disclosure {

/// The statutory clocks and state changes of an information request (依申请公开, 条例
/// Art 30-34, 36, 42), as pure functions over the InfoRequest message so that every clock
/// can be tested without a database. Each Apply* checks the current state (FAILED_PRECONDITION
/// naming it) and the input (INVALID_ARGUMENT naming the field), then updates the request and
/// recomputes its due dates.
class RequestRules {
 public:
  RequestRules(const DisclosureSettings& settings, const common::WorkingDayCalendar& calendar)
      : settings_(settings), calendar_(calendar) {}

  /// The day a request counts as received: the day it arrived if a working day, else the
  /// next working day.
  absl::StatusOr<absl::CivilDay> ReceivedDate(absl::CivilDay arrival) const;

  /// Fee for the `nth` request of an applicant in a calendar month (国办函〔2020〕109号 in
  /// force on `day`): 0 up to 10; 100 yuan each for 11-30; +100 yuan for each further 10.
  int64_t FeeFen(absl::CivilDay day, int nth) const;

  /// Validates a new request and fills status, received_date, correction_due_date, due_date.
  absl::Status Initialize(v1::InfoRequest& request, absl::CivilDay arrival) const;

  /// Reply due date: 20 WD (+ extension) after receipt or after the corrected request, days
  /// of third-party consultation not counted; empty while waiting for a correction.
  absl::Status RecomputeDueDate(v1::InfoRequest& request) const;

  absl::Status RequestCorrection(v1::InfoRequest& request, const std::vector<std::string>& items,
                                 const std::string& note, const std::string& requested_by,
                                 absl::CivilDay today) const;
  absl::Status SubmitCorrection(v1::InfoRequest& request, const std::string& corrected_description,
                                absl::CivilDay today) const;
  absl::Status Extend(v1::InfoRequest& request, int working_days, const std::string& reason,
                      const std::string& approved_by, absl::CivilDay today) const;
  absl::Status StartConsultation(v1::InfoRequest& request, const std::string& consultation_id,
                                 const std::string& third_party, absl::CivilDay started) const;
  absl::Status FinishConsultation(v1::InfoRequest& request, const std::string& consultation_id,
                                  v1::ConsultationOpinion opinion, const std::string& note,
                                  absl::CivilDay finished) const;
  absl::Status Reply(v1::InfoRequest& request, const v1::Reply& reply, absl::CivilDay today) const;
  /// Closes a request whose applicant let the correction period pass (逾期不补正): replied as
  /// 其他处理 / CORRECTION_NOT_SUPPLIED. Returns false when the request is not lapsed on `today`.
  absl::StatusOr<bool> CloseIfCorrectionLapsed(v1::InfoRequest& request,
                                               absl::CivilDay today) const;

  /// Reply checks: exactly the reason field of the reply type (template taxonomy).
  static absl::Status ValidateReply(const v1::Reply& reply);

 private:
  const DisclosureSettings& settings_;
  const common::WorkingDayCalendar& calendar_;
};

/// Stable key of an applicant for counting requests per month (fees): type + ID number,
/// organisation code or name.
std::string ApplicantKey(const v1::Applicant& applicant);

/// The applicant and contact as served: ID number and phone masked.
v1::InfoRequest MaskInfoRequest(const v1::InfoRequest& request);

}  // namespace regsuite::disclosure
