#pragma once

#include <pqxx/pqxx>

#include "absl/status/status.h"
#include "publications.h"
#include "regsuite/events/v1/events.pb.h"

namespace regsuite::disclosure {

/// Turns delivered events (licensing, inspection, credit) into publications, licence status
/// updates and withdrawals, inside the inbox transaction of ApplyDeliveredEvent. Content that
/// may never be published (warning alone, simple procedure, minor party, a denial, invalid
/// content) is recorded in `publication_refusals` and acknowledged, so it is not redelivered.
class EventIntake {
 public:
  explicit EventIntake(Publications& publications) : publications_(publications) {}

  absl::Status Apply(pqxx::work& txn, const events::v1::EventEnvelope& envelope);

 private:
  // Publishes; a rule that forbids publication becomes a recorded refusal.
  absl::Status PublishOrRefuse(pqxx::work& txn, const events::v1::EventEnvelope& envelope,
                               const v1::PublishRecordRequest& request);
  absl::Status WithdrawSource(pqxx::work& txn, const std::string& service,
                              const std::string& source_id, v1::RecordCategory category,
                              const std::string& reason, const std::string& changed_date,
                              events::v1::RecordRemoval removal);

  absl::Status OnLicensingDecision(pqxx::work& txn, const events::v1::EventEnvelope& envelope);
  absl::Status OnCertificateStatus(pqxx::work& txn, const events::v1::EventEnvelope& envelope);
  absl::Status OnPenaltyDecided(pqxx::work& txn, const events::v1::EventEnvelope& envelope);
  absl::Status OnPenaltyAnnulled(pqxx::work& txn, const events::v1::EventEnvelope& envelope);
  absl::Status OnListingChanged(pqxx::work& txn, const events::v1::EventEnvelope& envelope);
  absl::Status OnDraw(pqxx::work& txn, const events::v1::EventEnvelope& envelope);
  absl::Status OnMonthlyPlan(pqxx::work& txn, const events::v1::EventEnvelope& envelope);
  absl::Status OnInspectionResult(pqxx::work& txn, const events::v1::EventEnvelope& envelope);

  Publications& publications_;
};

/// Published wording of a certificate status (当前状态): 有效, 暂扣, 吊销, 过期, 注销.
std::string CertificateStatusText(events::v1::CertificateStatus status);

}  // namespace regsuite::disclosure
