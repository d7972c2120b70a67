#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "regsuite/common/calendar.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"

namespace regsuite::disclosure {

/// The overdue list: records still pending publication (due 7 WD after a licensing/penalty
/// decision, 20 WD otherwise) and requests still unanswered (20 WD + extension, consultation
/// not counted), each with the working days past (or, negative, left until) its due date on
/// `as_of`; most overdue first.
absl::StatusOr<std::vector<v1::OverdueItem>> BuildOverdueList(
    const std::vector<v1::PublishedRecord>& pending_records,
    const std::vector<v1::InfoRequest>& open_requests, absl::CivilDay as_of,
    const common::WorkingDayCalendar& calendar);

}  // namespace regsuite::disclosure
