#pragma once

#include <memory>
#include <pqxx/pqxx>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "local_cache_sync.h"
#include "regsuite/common/calendar.h"
#include "regsuite/common/clock.h"
#include "regsuite/common/pg.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "regsuite/events/v1/events.pb.h"
#include "repository.h"
#include "rules.h"
#include "settings.h"
#include "subject_cache.h"

namespace regsuite::credit {

/// Subjects whose listings or records a transaction changed, with their new versions; their
/// cache entries are invalidated once the transaction has committed.
using ChangedSubjects = std::vector<std::pair<std::string, int64_t>>;

/// The credit service's use cases. Each state change is one PostgreSQL transaction (outbox
/// rows included); the subject cache is invalidated after it commits and before the call
/// returns, so a check made after any change returned sees the change. With a `local` cache
/// (in front of `cache`), the change is also erased from every replica's local cache first.
class CreditLogic {
 public:
  /// `cache` may be nullptr (every check then reads PostgreSQL); `local` needs `cache`.
  CreditLogic(common::PgPool& pg, SubjectCache* cache, const common::Clock& clock,
              std::shared_ptr<const common::WorkingDayCalendar> calendar, CreditSettings settings,
              LocalCacheSync* local = nullptr);

  /// Loads the measures catalogue and the publication rules.
  absl::Status Init();

  absl::StatusOr<v1::SubjectStatus> CheckSubject(const v1::CheckSubjectRequest& request);
  absl::StatusOr<v1::BatchCheckSubjectsResponse> BatchCheckSubjects(
      const v1::BatchCheckSubjectsRequest& request);
  absl::StatusOr<v1::CreditProfile> GetCreditProfile(const v1::GetCreditProfileRequest& request);
  absl::StatusOr<v1::RecordCreditEventResponse> RecordCreditEvent(
      const v1::RecordCreditEventRequest& request);

  absl::StatusOr<v1::Listing> ProposeListing(const v1::ProposeListingRequest& request);
  absl::StatusOr<v1::Listing> NotifyListing(const v1::NotifyListingRequest& request);
  absl::StatusOr<v1::Listing> RecordObjection(const v1::RecordObjectionRequest& request);
  absl::StatusOr<v1::Listing> DecideListing(const v1::DecideListingRequest& request);
  absl::StatusOr<v1::Listing> GetListing(const v1::GetListingRequest& request);
  absl::StatusOr<v1::ListListingsResponse> ListListings(const v1::ListListingsRequest& request);
  absl::StatusOr<v1::ExpireListingsResponse> ExpireListings(
      const v1::ExpireListingsRequest& request);

  absl::StatusOr<v1::Repair> ApplyRepair(const v1::ApplyRepairRequest& request);
  absl::StatusOr<v1::Repair> GetRepair(const v1::GetRepairRequest& request);
  absl::StatusOr<v1::ListOverdueRepairsResponse> ListOverdueRepairs(
      const v1::ListOverdueRepairsRequest& request);
  absl::StatusOr<v1::Repair> DecideRepair(const v1::DecideRepairRequest& request);
  absl::StatusOr<v1::Repair> RevokeRepair(const v1::RevokeRepairRequest& request);

  absl::StatusOr<v1::ListMeasuresResponse> ListMeasures(const v1::ListMeasuresRequest& request);

  /// FalseCommitmentFound / PenaltyDecided become credit records (same logic as
  /// RecordCreditEvent, event id = envelope id); PenaltyDecisionAnnulled withdraws the records
  /// of that decision. Exactly once through the inbox.
  absl::StatusOr<events::v1::EventAck> DeliverEvent(const events::v1::EventEnvelope& envelope);
  absl::StatusOr<events::v1::EventBatchAck> DeliverEvents(const events::v1::EventBatch& batch);

  const CreditSettings& settings() const { return settings_; }
  const common::Clock& clock() const { return clock_; }

 private:
  absl::StatusOr<v1::RecordCreditEventResponse> RecordInTxn(
      pqxx::work& txn, const v1::RecordCreditEventRequest& request, ChangedSubjects* changed);
  absl::StatusOr<v1::Listing> CreateListingInTxn(pqxx::work& txn, v1::Listing listing,
                                                 const std::string& idempotency_key,
                                                 const std::string& actor, bool* created);
  void EnqueueListingChanged(pqxx::work& txn, const v1::Listing& listing,
                             events::v1::ListingChange change, absl::CivilDay today);
  v1::SubjectStatus BuildStatus(const std::string& uscc, const SubjectSnapshot& snapshot,
                                absl::CivilDay today) const;
  std::vector<std::string> MeasureCodes(v1::ListType type) const;
  void Invalidate(const ChangedSubjects& changed);
  // DeliverEvent(s)' effect inside the inbox transaction; subjects whose version it bumped go
  // to `changed`, for invalidation after the commit.
  absl::Status ApplyEvent(pqxx::work& txn, const events::v1::EventEnvelope& e,
                          ChangedSubjects& changed);

  // A listing mutation under FOR UPDATE: load, check etag, apply `mutate`, write, append the
  // history event, bump the subject version.
  template <typename Mutate>
  absl::StatusOr<v1::Listing> MutateListing(const std::string& listing_id, const std::string& etag,
                                            Mutate&& mutate);

  common::PgPool& pg_;
  SubjectCache* cache_;
  LocalCacheSync* local_;
  const common::Clock& clock_;
  std::shared_ptr<const common::WorkingDayCalendar> calendar_;
  const CreditSettings settings_;
  std::vector<v1::Measure> catalogue_;
  PublicationRules publication_rules_;
};

/// Request validation shared by RecordCreditEvent and DeliverEvent: INVALID_ARGUMENT naming the
/// field. Fills the normalised USCC and the severity implied by the kind when none was given.
absl::Status ValidateRecordRequest(v1::RecordCreditEventRequest* request);

}  // namespace regsuite::credit
