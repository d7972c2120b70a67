#pragma once

#include <memory>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/pg.h"
#include "regsuite/disclosure/v1/disclosure.pb.h"
#include "regsuite/events/v1/events.pb.h"
#include "settings.h"

namespace regsuite::disclosure {

/// Published records (`records` table): publication after the confidentiality review and
/// desensitisation, the 索引号 sequence, search, review queue, withdrawal, expiry and the
/// overdue list. Every state change is one transaction that also writes the RecordPublished /
/// RecordWithdrawn event for the exchange service into the outbox. The original record is kept
/// in `original`; only `masked` (derived from it on every write) is ever returned.
class Publications {
 public:
  Publications(common::PgPool& pg, const DisclosureSettings& settings,
               std::shared_ptr<const common::WorkingDayCalendar> calendar,
               const common::Clock& clock)
      : pg_(pg), settings_(settings), calendar_(std::move(calendar)), clock_(clock) {}

  /// Publishes (or queues for review) a record; the same source (service, source_id,
  /// category) published again returns the existing record.
  absl::StatusOr<v1::PublishedRecord> Publish(const v1::PublishRecordRequest& request);
  absl::StatusOr<v1::PublishedRecord> PublishInTxn(pqxx::work& txn,
                                                   const v1::PublishRecordRequest& request);

  absl::StatusOr<v1::PublishedRecord> Get(const std::string& index_no);
  absl::StatusOr<v1::SearchRecordsResponse> Search(const v1::SearchRecordsRequest& request);
  absl::StatusOr<v1::PublishedRecord> Review(const v1::ReviewRecordRequest& request);

  absl::StatusOr<v1::PublishedRecord> Withdraw(const v1::WithdrawRecordRequest& request);
  /// Withdraws inside `txn`; `removal` says why the exchange feed drops it.
  absl::StatusOr<v1::PublishedRecord> WithdrawInTxn(pqxx::work& txn,
                                                    const v1::WithdrawRecordRequest& request,
                                                    events::v1::RecordRemoval removal);

  /// Ends publication of every PUBLISHED record whose publication_end_date is before `as_of`.
  /// Batches lock rows with SKIP LOCKED, so several replicas running it share the work and
  /// none expires a record twice.
  absl::StatusOr<std::vector<std::string>> Expire(absl::CivilDay as_of);
  /// Expires one record now (e.g. the credit listing's management period ended).
  absl::Status ExpireInTxn(pqxx::work& txn, const std::string& index_no, absl::CivilDay as_of);

  /// Records pending publication whose due date is on or before `cutoff`.
  absl::StatusOr<std::vector<v1::PublishedRecord>> PendingDueBy(absl::CivilDay cutoff);

  /// The index number of the record of a source, if any.
  absl::StatusOr<std::optional<std::string>> FindBySource(pqxx::work& txn,
                                                          const std::string& service,
                                                          const std::string& source_id,
                                                          v1::RecordCategory category);
  /// The newest licensing record of a certificate number, if any.
  absl::StatusOr<std::optional<std::string>> FindByCertificate(pqxx::work& txn,
                                                               const std::string& certificate_no);
  /// Loads the ORIGINAL record for update (row locked).
  absl::StatusOr<v1::PublishedRecord> LoadOriginalForUpdate(pqxx::work& txn,
                                                            const std::string& index_no);
  /// Writes a changed original (masked version and columns derived again); announces it to
  /// the exchange when it is PUBLISHED.
  absl::StatusOr<v1::PublishedRecord> Save(pqxx::work& txn, v1::PublishedRecord original,
                                           bool announce);
  /// Records that an event's content is never published, and why.
  absl::Status RecordRefusal(pqxx::work& txn, const std::string& event_id,
                             const std::string& service, const std::string& source_id,
                             v1::RecordCategory category, const std::string& decision_date,
                             absl::string_view rule);

  const common::WorkingDayCalendar& calendar() const { return *calendar_; }
  const common::Clock& clock() const { return clock_; }

 private:
  absl::StatusOr<v1::PublishedRecord> ReadMasked(const pqxx::row& row);
  absl::Status Announce(pqxx::work& txn, const v1::PublishedRecord& masked);
  absl::Status AnnounceRemoval(pqxx::work& txn, const v1::PublishedRecord& masked,
                               events::v1::RecordRemoval removal);

  common::PgPool& pg_;
  const DisclosureSettings& settings_;
  std::shared_ptr<const common::WorkingDayCalendar> calendar_;
  const common::Clock& clock_;
};

}  // namespace regsuite::disclosure
