#pragma once

// PostgreSQL access of the credit schema. Every function runs inside the caller's
// transaction; each query is a named constant beside the function in repository.cc.

#include <cstdint>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "regsuite/credit/v1/credit.pb.h"
#include "rules.h"

namespace regsuite::credit {

/// What the hot path needs about one subject, read in one statement (one snapshot).
struct SubjectSnapshot {
  std::string name;
  int64_t version = 0;                       // 0: credit holds nothing on the subject
  std::vector<v1::ListingSummary> listings;  // PROPOSED, NOTIFIED and ACTIVE
  std::vector<v1::CreditRecord> records;     // kind, severity, dates only
};

struct ListingFilter {
  std::string uscc;
  v1::ListType list_type = v1::LIST_TYPE_UNSPECIFIED;
  v1::ListingStatus status = v1::LISTING_STATUS_UNSPECIFIED;
  int limit = 50;
  int offset = 0;
};

/// A listing that the expiry job ended.
struct ExpiredListing {
  std::string listing_id;
  std::string uscc;
};

/// Table access for subjects, records, listings (with objections and history) and repairs.
class CreditRepository {
 public:
  /// Creates the subject row or refreshes its name (a non-empty name wins).
  static void UpsertSubject(pqxx::transaction_base& txn, const std::string& uscc,
                            const std::string& name);
  /// Increments and returns the subject's version (the cache's guard against stale fills).
  static int64_t BumpSubjectVersion(pqxx::transaction_base& txn, const std::string& uscc);

  /// Inserts the record unless its event_id exists; returns whether it was inserted.
  static bool InsertRecord(pqxx::transaction_base& txn, const v1::CreditRecord& record);
  static std::optional<v1::CreditRecord> FindRecordByEventId(pqxx::transaction_base& txn,
                                                             const std::string& event_id);
  /// Withdraws (annuls) the records resting on a decision; returns how many changed.
  static int AnnulRecords(pqxx::transaction_base& txn, const std::string& uscc,
                          const std::string& decision_ref);
  static std::vector<v1::CreditRecord> ListRecords(pqxx::transaction_base& txn,
                                                   const std::string& uscc,
                                                   bool include_unpublished);

  /// Inserts a new listing; false when its idempotency key is taken.
  static bool InsertListing(pqxx::transaction_base& txn, const v1::Listing& listing,
                            const std::string& idempotency_key);
  static std::optional<std::string> FindListingByIdempotencyKey(pqxx::transaction_base& txn,
                                                                const std::string& key);
  /// Loads a listing with objections and history; NOT_FOUND naming listing_id.
  static absl::StatusOr<v1::Listing> LoadListing(pqxx::transaction_base& txn,
                                                 const std::string& listing_id, bool for_update);
  /// Writes every mutable column and increments the etag version.
  static void UpdateListing(pqxx::transaction_base& txn, const v1::Listing& listing);
  static void AppendListingEvent(pqxx::transaction_base& txn, const std::string& listing_id,
                                 v1::ListingAction action, v1::ListingStatus from,
                                 v1::ListingStatus to, const std::string& actor,
                                 const std::string& note);
  static void InsertObjection(pqxx::transaction_base& txn, const std::string& listing_id,
                              const v1::Objection& objection);
  static void SetObjectionResponse(pqxx::transaction_base& txn, const std::string& objection_id,
                                   const std::string& response);
  /// Open (PROPOSED/NOTIFIED/ACTIVE) listings of a subject with this reason code.
  static bool HasOpenListing(pqxx::transaction_base& txn, const std::string& uscc,
                             const std::string& reason_code);
  static std::vector<v1::Listing> ListListings(pqxx::transaction_base& txn,
                                               const ListingFilter& filter, int* total);

  /// Moves every ACTIVE listing whose effective_until is before `as_of` to EXPIRED in one
  /// UPDATE ... RETURNING; concurrent callers each get disjoint rows.
  static std::vector<ExpiredListing> ExpireDue(pqxx::transaction_base& txn, absl::CivilDay as_of);
  /// Ends publication of records whose publication_end_date is before `as_of`.
  static std::vector<std::pair<std::string, std::string>> UnpublishDue(pqxx::transaction_base& txn,
                                                                       absl::CivilDay as_of);

  static bool InsertRepair(pqxx::transaction_base& txn, const v1::Repair& repair,
                           const std::string& idempotency_key);
  static std::optional<std::string> FindRepairByIdempotencyKey(pqxx::transaction_base& txn,
                                                               const std::string& key);
  static absl::StatusOr<v1::Repair> LoadRepair(pqxx::transaction_base& txn,
                                               const std::string& repair_id, bool for_update);
  static void UpdateRepair(pqxx::transaction_base& txn, const v1::Repair& repair);
  static std::vector<v1::Repair> ListOverdueRepairs(pqxx::transaction_base& txn,
                                                    absl::CivilDay as_of, int limit, int offset);

  /// Snapshots of the subjects (absent ones have version 0), in one statement.
  static absl::flat_hash_map<std::string, SubjectSnapshot> LoadSnapshots(
      pqxx::transaction_base& txn, const std::vector<std::string>& usccs);

  static std::vector<v1::Measure> LoadMeasures(pqxx::transaction_base& txn);
  static std::vector<PublicationRule> LoadPublicationRules(pqxx::transaction_base& txn);
};

}  // namespace regsuite::credit
