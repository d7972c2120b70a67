#pragma once

#include "absl/status/statusor.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/pg.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"
#include "settings.h"

namespace regsuite::disclosure {

/// The statutory annual report (条例 Art 49-50, 国办公开办函〔2021〕30号): every figure is
/// computed from this service's tables when asked for; only the narrative sections are stored.
class AnnualReports {
 public:
  AnnualReports(common::PgPool& pg, const DisclosureSettings& settings, const common::Clock& clock)
      : pg_(pg), settings_(settings), clock_(clock) {}

  absl::StatusOr<v1::AnnualReport> Get(int year);
  absl::StatusOr<v1::AnnualReport> UpdateNotes(const v1::UpdateAnnualReportNotesRequest& request);

 private:
  common::PgPool& pg_;
  const DisclosureSettings& settings_;
  const common::Clock& clock_;
};

}  // namespace regsuite::disclosure
