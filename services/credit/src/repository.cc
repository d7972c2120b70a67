#include "repository.h"

#include <google/protobuf/timestamp.pb.h>

#include "absl/strings/str_cat.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/status.h"

namespace regsuite::credit {
namespace {

#define RS_DATE(col) "coalesce(to_char(" col ", 'YYYY-MM-DD'), '')"
#define RS_MICROS(col) "coalesce((extract(epoch from " col ") * 1000000)::bigint, 0)"

std::vector<std::string> ReadArray(const pqxx::field& field) {
  std::vector<std::string> out;
  if (field.is_null()) return out;
  pqxx::array_parser parser = field.as_array();
  for (auto item = parser.get_next(); item.first != pqxx::array_parser::done;
       item = parser.get_next()) {
    if (item.first == pqxx::array_parser::string_value) out.push_back(item.second);
  }
  return out;
}

void SetMicros(google::protobuf::Timestamp* ts, int64_t micros) {
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

int64_t Micros(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

constexpr char kUpsertSubject[] =
    "INSERT INTO subjects (uscc, name) VALUES ($1, $2) "
    "ON CONFLICT (uscc) DO UPDATE SET name = CASE WHEN excluded.name <> '' THEN excluded.name "
    "ELSE subjects.name END, updated_at = now()";

constexpr char kBumpSubjectVersion[] =
    "UPDATE subjects SET version = version + 1, updated_at = now() WHERE uscc = $1 "
    "RETURNING version";

#define RS_RECORD_COLUMNS \
  "record_id::text, event_id, uscc, subject_name, kind, severity, accident_level, "            \
  "source_service, decision_ref, summary, basis, " RS_DATE("occurred_date") ", " RS_DATE(      \
      "decided_date") ", fine_fen, fine_multiple, standardisation_grade, " RS_DATE(            \
      "publication_end_date") ", evidence_refs, " RS_MICROS("create_time")

constexpr char kInsertRecord[] =
    "INSERT INTO credit_records (record_id, event_id, uscc, subject_name, kind, severity, "
    "accident_level, source_service, decision_ref, summary, basis, occurred_date, decided_date, "
    "fine_fen, fine_multiple, standardisation_grade, publication_end_date, evidence_refs) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULLIF($12, '')::date, "
    "NULLIF($13, '')::date, $14, $15, $16, NULLIF($17, '')::date, $18::text[]) "
    "ON CONFLICT (event_id) DO NOTHING";

constexpr char kFindRecordByEventId[] =
    "SELECT " RS_RECORD_COLUMNS " FROM credit_records WHERE event_id = $1";

constexpr char kAnnulRecords[] =
    "UPDATE credit_records SET annulled = true, published = false "
    "WHERE uscc = $1 AND decision_ref = $2 AND NOT annulled";

constexpr char kListRecords[] =
    "SELECT " RS_RECORD_COLUMNS
    " FROM credit_records WHERE uscc = $1 AND NOT annulled "
    "AND ($2::boolean OR published) ORDER BY coalesce(decided_date, occurred_date), create_time";

v1::CreditRecord RecordFromRow(const pqxx::row& row) {
  v1::CreditRecord r;
  r.set_record_id(row[0].as<std::string>());
  r.set_event_id(row[1].as<std::string>());
  r.set_uscc(row[2].as<std::string>());
  r.set_subject_name(row[3].as<std::string>());
  r.set_kind(static_cast<v1::CreditRecordKind>(row[4].as<int>()));
  r.set_severity(static_cast<v1::Severity>(row[5].as<int>()));
  r.set_accident_level(static_cast<v1::AccidentLevel>(row[6].as<int>()));
  r.set_source_service(row[7].as<std::string>());
  r.set_decision_ref(row[8].as<std::string>());
  r.set_summary(row[9].as<std::string>());
  r.set_basis(row[10].as<std::string>());
  r.set_occurred_date(row[11].as<std::string>());
  r.set_decided_date(row[12].as<std::string>());
  r.set_fine_fen(row[13].as<int64_t>());
  r.set_fine_multiple(row[14].as<double>());
  r.set_standardisation_grade(row[15].as<int>());
  r.set_publication_end_date(row[16].as<std::string>());
  for (auto& e : ReadArray(row[17])) r.add_evidence_refs(std::move(e));
  SetMicros(r.mutable_create_time(), row[18].as<int64_t>());
  return r;
}

#define RS_LISTING_COLUMNS \
  "listing_id::text, uscc, subject_name, list_type, status, reason_code, basis, "              \
  "evidence_refs, record_ids, authority, proposed_by, " RS_DATE("proposed_date") ", " RS_DATE( \
      "notified_date") ", notice_ref, " RS_DATE("objection_deadline") ", objection_waived, "   \
  "coalesce(decision_approve, false), decision_reason, decided_by, " RS_MICROS(                \
      "decided_at") ", decision_no, " RS_DATE("effective_from") ", " RS_DATE(                  \
      "effective_until") ", " RS_DATE("repair_eligible_from") ", " RS_DATE(                    \
      "removed_date") ", removal_reason, repair_id, disclosure_index_no, version, " RS_MICROS( \
      "create_time") ", " RS_MICROS("update_time") ", (decided_at IS NOT NULL)"

constexpr char kInsertListing[] =
    "INSERT INTO listings (listing_id, uscc, subject_name, list_type, status, reason_code, "
    "basis, evidence_refs, record_ids, authority, proposed_by, proposed_date, idempotency_key) "
    "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8::text[], $9::text[], $10, $11, $12::date, "
    "NULLIF($13, '')) ON CONFLICT (idempotency_key) DO NOTHING";

constexpr char kFindListingByKey[] =
    "SELECT listing_id::text FROM listings WHERE idempotency_key = $1";

constexpr char kLoadListing[] =
    "SELECT " RS_LISTING_COLUMNS " FROM listings WHERE listing_id = $1::uuid";
constexpr char kLoadListingForUpdate[] =
    "SELECT " RS_LISTING_COLUMNS " FROM listings WHERE listing_id = $1::uuid FOR UPDATE";

constexpr char kLoadObjections[] =
    "SELECT objection_id::text, statement, evidence_refs, " RS_MICROS("received_at")
    ", received_by, response FROM listing_objections WHERE listing_id = $1::uuid "
    "ORDER BY received_at, objection_id";

constexpr char kLoadHistory[] =
    "SELECT sequence, action, from_status, to_status, actor, " RS_MICROS(
        "at") ", note FROM listing_events WHERE listing_id = $1::uuid ORDER BY sequence";

constexpr char kUpdateListing[] =
    "UPDATE listings SET status = $2, notified_date = NULLIF($3, '')::date, notice_ref = $4, "
    "objection_deadline = NULLIF($5, '')::date, objection_waived = $6::boolean, "
    "decision_approve = CASE WHEN $7::boolean THEN $8::boolean ELSE NULL END, decision_reason = "
    "$9, "
    "decided_by = $10, decided_at = CASE WHEN $7::boolean THEN to_timestamp($11::float8 / 1000000) "
    "ELSE NULL END, decision_no = $12, effective_from = NULLIF($13, '')::date, "
    "effective_until = NULLIF($14, '')::date, repair_eligible_from = NULLIF($15, '')::date, "
    "removed_date = NULLIF($16, '')::date, removal_reason = $17, repair_id = $18, "
    "subject_name = $19, version = version + 1, update_time = now() "
    "WHERE listing_id = $1::uuid";

constexpr char kAppendListingEvent[] =
    "INSERT INTO listing_events (listing_id, sequence, action, from_status, to_status, actor, "
    "note) SELECT $1::uuid, coalesce(max(sequence), 0) + 1, $2, $3, $4, $5, $6 "
    "FROM listing_events WHERE listing_id = $1::uuid";

constexpr char kInsertObjection[] =
    "INSERT INTO listing_objections (objection_id, listing_id, statement, evidence_refs, "
    "received_at, received_by) VALUES ($1::uuid, $2::uuid, $3, $4::text[], "
    "to_timestamp($5::float8 / 1000000), $6)";

constexpr char kSetObjectionResponse[] =
    "UPDATE listing_objections SET response = $2 WHERE objection_id = $1::uuid";

constexpr char kHasOpenListing[] =
    "SELECT 1 FROM listings WHERE uscc = $1 AND reason_code = $2 AND status IN (1, 2, 3) LIMIT 1";

constexpr char kListListings[] =
    "SELECT " RS_LISTING_COLUMNS
    ", count(*) OVER () FROM listings "
    "WHERE ($1::text = '' OR uscc = $1) AND ($2::int = 0 OR list_type = $2) "
    "AND ($3::int = 0 OR status = $3) "
    "ORDER BY create_time, listing_id LIMIT $4 OFFSET $5";

constexpr char kExpireDue[] =
    "UPDATE listings SET status = 5, removed_date = effective_until + 1, "
    "removal_reason = 'management period ended', version = version + 1, update_time = now() "
    "WHERE status = 3 AND effective_until < $1::date RETURNING listing_id::text, uscc";

constexpr char kUnpublishDue[] =
    "UPDATE credit_records SET published = false WHERE published "
    "AND publication_end_date < $1::date RETURNING record_id::text, uscc";

#define RS_REPAIR_COLUMNS \
  "repair_id::text, listing_id::text, uscc, commitment, evidence_refs, penalty_fulfilled, "  \
  "harm_removed, status, " RS_MICROS("applied_at") ", " RS_DATE("due_date")                  \
  ", (decided_at IS NOT NULL), coalesce(decision_approve, false), decision_reason, "        \
  "decided_by, " RS_MICROS("decided_at") ", (revoked_at IS NOT NULL), revocation_reason, "   \
  "revoked_by, " RS_MICROS("revoked_at") ", applicant_contact, version, " RS_MICROS("update_time")

constexpr char kInsertRepair[] =
    "INSERT INTO repairs (repair_id, listing_id, uscc, commitment, evidence_refs, "
    "penalty_fulfilled, harm_removed, status, applied_at, due_date, applicant_contact, "
    "idempotency_key) VALUES ($1::uuid, $2::uuid, $3, $4, $5::text[], $6, $7, $8, "
    "to_timestamp($9::float8 / 1000000), $10::date, $11, NULLIF($12, '')) "
    "ON CONFLICT (idempotency_key) DO NOTHING";

constexpr char kFindRepairByKey[] =
    "SELECT repair_id::text FROM repairs WHERE idempotency_key = $1";
constexpr char kLoadRepair[] =
    "SELECT " RS_REPAIR_COLUMNS " FROM repairs WHERE repair_id = $1::uuid";
constexpr char kLoadRepairForUpdate[] =
    "SELECT " RS_REPAIR_COLUMNS " FROM repairs WHERE repair_id = $1::uuid FOR UPDATE";

constexpr char kUpdateRepair[] =
    "UPDATE repairs SET status = $2, decision_approve = CASE WHEN $3::boolean THEN $4::boolean "
    "ELSE NULL END, "
    "decision_reason = $5, decided_by = $6, decided_at = CASE WHEN $3::boolean THEN "
    "to_timestamp($7::float8 / 1000000) ELSE NULL END, revocation_reason = $8, revoked_by = $9, "
    "revoked_at = CASE WHEN $10::boolean THEN to_timestamp($11::float8 / 1000000) ELSE NULL END, "
    "version = version + 1, update_time = now() WHERE repair_id = $1::uuid";

constexpr char kListOverdueRepairs[] = "SELECT " RS_REPAIR_COLUMNS
                                       " FROM repairs WHERE status = 1 AND due_date < $1::date "
                                       "ORDER BY due_date, repair_id LIMIT $2 OFFSET $3";

// One statement, so subjects.version and the rows it guards come from one snapshot.
constexpr char kLoadSnapshots[] =
    "SELECT 'S', s.uscc, s.name, s.version, '', 0, 0, '', '', '', '', 0, 0::float8, '' "
    "FROM subjects s WHERE s.uscc = ANY($1::text[]) "
    "UNION ALL "
    "SELECT 'L', l.uscc, '', 0, l.listing_id::text, l.list_type, l.status, l.reason_code, "
    "l.decision_no, " RS_DATE("l.effective_from") ", " RS_DATE("l.effective_until")
    ", 0, 0::float8, '' FROM listings l WHERE l.uscc = ANY($1::text[]) AND l.status IN (1, 2, 3) "
    "UNION ALL "
    "SELECT 'R', r.uscc, '', 0, r.record_id::text, r.kind, r.severity, '', '', "
    RS_DATE("r.occurred_date") ", " RS_DATE("r.publication_end_date") ", r.accident_level, "
    "r.fine_multiple, " RS_DATE("r.decided_date") " FROM credit_records r "
    "WHERE r.uscc = ANY($1::text[]) AND NOT r.annulled";

constexpr char kLoadMeasures[] =
    "SELECT code, name, enforcing_service, basis, list_type FROM measures ORDER BY sort_order, "
    "code";

constexpr char kLoadPublicationRules[] =
    "SELECT to_char(effective_from, 'YYYY-MM-DD'), rule_name, severity, min_months, max_months, "
    "default_months FROM publication_rules ORDER BY effective_from, severity";

v1::Listing ListingFromRow(const pqxx::row& row) {
  v1::Listing l;
  l.set_listing_id(row[0].as<std::string>());
  l.set_uscc(row[1].as<std::string>());
  l.set_subject_name(row[2].as<std::string>());
  l.set_list_type(static_cast<v1::ListType>(row[3].as<int>()));
  l.set_status(static_cast<v1::ListingStatus>(row[4].as<int>()));
  l.set_reason_code(row[5].as<std::string>());
  l.set_basis(row[6].as<std::string>());
  for (auto& e : ReadArray(row[7])) l.add_evidence_refs(std::move(e));
  for (auto& e : ReadArray(row[8])) l.add_record_ids(std::move(e));
  l.set_authority(row[9].as<std::string>());
  l.set_proposed_by(row[10].as<std::string>());
  l.set_proposed_date(row[11].as<std::string>());
  l.set_notified_date(row[12].as<std::string>());
  l.set_notice_ref(row[13].as<std::string>());
  l.set_objection_deadline(row[14].as<std::string>());
  l.set_objection_waived(row[15].as<bool>());
  if (row[31].as<bool>()) {
    v1::Decision* d = l.mutable_decision();
    d->set_approve(row[16].as<bool>());
    d->set_reason(row[17].as<std::string>());
    d->set_decided_by(row[18].as<std::string>());
    SetMicros(d->mutable_decided_at(), row[19].as<int64_t>());
    d->set_decision_no(row[20].as<std::string>());
  }
  l.set_effective_from(row[21].as<std::string>());
  l.set_effective_until(row[22].as<std::string>());
  l.set_repair_eligible_from(row[23].as<std::string>());
  l.set_removed_date(row[24].as<std::string>());
  l.set_removal_reason(row[25].as<std::string>());
  l.set_repair_id(row[26].as<std::string>());
  l.set_disclosure_index_no(row[27].as<std::string>());
  l.set_etag(absl::StrCat(row[28].as<int64_t>()));
  SetMicros(l.mutable_create_time(), row[29].as<int64_t>());
  SetMicros(l.mutable_update_time(), row[30].as<int64_t>());
  return l;
}

void LoadListingChildren(pqxx::transaction_base& txn, v1::Listing* l) {
  for (const auto& row : txn.exec_params(kLoadObjections, l->listing_id())) {
    v1::Objection* o = l->add_objections();
    o->set_objection_id(row[0].as<std::string>());
    o->set_statement(row[1].as<std::string>());
    for (auto& e : ReadArray(row[2])) o->add_evidence_refs(std::move(e));
    SetMicros(o->mutable_received_at(), row[3].as<int64_t>());
    o->set_received_by(row[4].as<std::string>());
    o->set_response(row[5].as<std::string>());
  }
  for (const auto& row : txn.exec_params(kLoadHistory, l->listing_id())) {
    v1::ListingEvent* e = l->add_history();
    e->set_sequence(row[0].as<int>());
    e->set_action(static_cast<v1::ListingAction>(row[1].as<int>()));
    e->set_from_status(static_cast<v1::ListingStatus>(row[2].as<int>()));
    e->set_to_status(static_cast<v1::ListingStatus>(row[3].as<int>()));
    e->set_actor(row[4].as<std::string>());
    SetMicros(e->mutable_at(), row[5].as<int64_t>());
    e->set_note(row[6].as<std::string>());
  }
}

v1::Repair RepairFromRow(const pqxx::row& row) {
  v1::Repair r;
  r.set_repair_id(row[0].as<std::string>());
  r.set_listing_id(row[1].as<std::string>());
  r.set_uscc(row[2].as<std::string>());
  r.set_commitment(row[3].as<std::string>());
  for (auto& e : ReadArray(row[4])) r.add_evidence_refs(std::move(e));
  r.set_penalty_fulfilled(row[5].as<bool>());
  r.set_harm_removed(row[6].as<bool>());
  r.set_status(static_cast<v1::RepairStatus>(row[7].as<int>()));
  SetMicros(r.mutable_applied_at(), row[8].as<int64_t>());
  r.set_due_date(row[9].as<std::string>());
  if (row[10].as<bool>()) {
    v1::Decision* d = r.mutable_decision();
    d->set_approve(row[11].as<bool>());
    d->set_reason(row[12].as<std::string>());
    d->set_decided_by(row[13].as<std::string>());
    SetMicros(d->mutable_decided_at(), row[14].as<int64_t>());
  }
  if (row[15].as<bool>()) {
    v1::RepairRevocation* rv = r.mutable_revocation();
    rv->set_reason(row[16].as<std::string>());
    rv->set_revoked_by(row[17].as<std::string>());
    SetMicros(rv->mutable_revoked_at(), row[18].as<int64_t>());
  }
  r.set_applicant_contact(row[19].as<std::string>());
  r.set_etag(absl::StrCat(row[20].as<int64_t>()));
  SetMicros(r.mutable_update_time(), row[21].as<int64_t>());
  return r;
}

}  // namespace

using common::PgTextArray;

void CreditRepository::UpsertSubject(pqxx::transaction_base& txn, const std::string& uscc,
                                     const std::string& name) {
  txn.exec_params(kUpsertSubject, uscc, name);
}

int64_t CreditRepository::BumpSubjectVersion(pqxx::transaction_base& txn, const std::string& uscc) {
  auto result = txn.exec_params(kBumpSubjectVersion, uscc);
  return result.empty() ? 0 : result[0][0].as<int64_t>();
}

bool CreditRepository::InsertRecord(pqxx::transaction_base& txn, const v1::CreditRecord& r) {
  auto result = txn.exec_params(
      kInsertRecord, r.record_id(), r.event_id(), r.uscc(), r.subject_name(),
      static_cast<int>(r.kind()), static_cast<int>(r.severity()),
      static_cast<int>(r.accident_level()), r.source_service(), r.decision_ref(), r.summary(),
      r.basis(), r.occurred_date(), r.decided_date(), r.fine_fen(), r.fine_multiple(),
      r.standardisation_grade(), r.publication_end_date(), PgTextArray(r.evidence_refs()));
  return result.affected_rows() == 1;
}

std::optional<v1::CreditRecord> CreditRepository::FindRecordByEventId(pqxx::transaction_base& txn,
                                                                      const std::string& event_id) {
  auto result = txn.exec_params(kFindRecordByEventId, event_id);
  if (result.empty()) return std::nullopt;
  return RecordFromRow(result[0]);
}

int CreditRepository::AnnulRecords(pqxx::transaction_base& txn, const std::string& uscc,
                                   const std::string& decision_ref) {
  if (decision_ref.empty()) return 0;
  return static_cast<int>(txn.exec_params(kAnnulRecords, uscc, decision_ref).affected_rows());
}

std::vector<v1::CreditRecord> CreditRepository::ListRecords(pqxx::transaction_base& txn,
                                                            const std::string& uscc,
                                                            bool include_unpublished) {
  std::vector<v1::CreditRecord> out;
  for (const auto& row : txn.exec_params(kListRecords, uscc, include_unpublished)) {
    out.push_back(RecordFromRow(row));
  }
  return out;
}

bool CreditRepository::InsertListing(pqxx::transaction_base& txn, const v1::Listing& l,
                                     const std::string& idempotency_key) {
  auto result = txn.exec_params(kInsertListing, l.listing_id(), l.uscc(), l.subject_name(),
                                static_cast<int>(l.list_type()), static_cast<int>(l.status()),
                                l.reason_code(), l.basis(), PgTextArray(l.evidence_refs()),
                                PgTextArray(l.record_ids()), l.authority(), l.proposed_by(),
                                l.proposed_date(), idempotency_key);
  return result.affected_rows() == 1;
}

std::optional<std::string> CreditRepository::FindListingByIdempotencyKey(
    pqxx::transaction_base& txn, const std::string& key) {
  auto result = txn.exec_params(kFindListingByKey, key);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::string>();
}

absl::StatusOr<v1::Listing> CreditRepository::LoadListing(pqxx::transaction_base& txn,
                                                          const std::string& listing_id,
                                                          bool for_update) {
  auto result = txn.exec_params(for_update ? kLoadListingForUpdate : kLoadListing, listing_id);
  if (result.empty())
    return absl::NotFoundError(absl::StrCat("listing_id: no listing ", listing_id));
  v1::Listing listing = ListingFromRow(result[0]);
  LoadListingChildren(txn, &listing);
  return listing;
}

void CreditRepository::UpdateListing(pqxx::transaction_base& txn, const v1::Listing& l) {
  const bool decided = l.has_decision();
  txn.exec_params(kUpdateListing, l.listing_id(), static_cast<int>(l.status()), l.notified_date(),
                  l.notice_ref(), l.objection_deadline(), l.objection_waived(), decided,
                  l.decision().approve(), l.decision().reason(), l.decision().decided_by(),
                  Micros(l.decision().decided_at()), l.decision().decision_no(), l.effective_from(),
                  l.effective_until(), l.repair_eligible_from(), l.removed_date(),
                  l.removal_reason(), l.repair_id(), l.subject_name());
}

void CreditRepository::AppendListingEvent(pqxx::transaction_base& txn,
                                          const std::string& listing_id, v1::ListingAction action,
                                          v1::ListingStatus from, v1::ListingStatus to,
                                          const std::string& actor, const std::string& note) {
  txn.exec_params(kAppendListingEvent, listing_id, static_cast<int>(action), static_cast<int>(from),
                  static_cast<int>(to), actor, note);
}

void CreditRepository::InsertObjection(pqxx::transaction_base& txn, const std::string& listing_id,
                                       const v1::Objection& o) {
  txn.exec_params(kInsertObjection, o.objection_id(), listing_id, o.statement(),
                  PgTextArray(o.evidence_refs()), Micros(o.received_at()), o.received_by());
}

void CreditRepository::SetObjectionResponse(pqxx::transaction_base& txn,
                                            const std::string& objection_id,
                                            const std::string& response) {
  txn.exec_params(kSetObjectionResponse, objection_id, response);
}

bool CreditRepository::HasOpenListing(pqxx::transaction_base& txn, const std::string& uscc,
                                      const std::string& reason_code) {
  return !txn.exec_params(kHasOpenListing, uscc, reason_code).empty();
}

std::vector<v1::Listing> CreditRepository::ListListings(pqxx::transaction_base& txn,
                                                        const ListingFilter& filter, int* total) {
  std::vector<v1::Listing> out;
  *total = 0;
  for (const auto& row :
       txn.exec_params(kListListings, filter.uscc, static_cast<int>(filter.list_type),
                       static_cast<int>(filter.status), filter.limit, filter.offset)) {
    out.push_back(ListingFromRow(row));
    *total = row[32].as<int>();
  }
  for (auto& l : out) LoadListingChildren(txn, &l);
  return out;
}

std::vector<ExpiredListing> CreditRepository::ExpireDue(pqxx::transaction_base& txn,
                                                        absl::CivilDay as_of) {
  std::vector<ExpiredListing> out;
  for (const auto& row : txn.exec_params(kExpireDue, common::FormatDate(as_of))) {
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>()});
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> CreditRepository::UnpublishDue(
    pqxx::transaction_base& txn, absl::CivilDay as_of) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& row : txn.exec_params(kUnpublishDue, common::FormatDate(as_of))) {
    out.emplace_back(row[0].as<std::string>(), row[1].as<std::string>());
  }
  return out;
}

bool CreditRepository::InsertRepair(pqxx::transaction_base& txn, const v1::Repair& r,
                                    const std::string& idempotency_key) {
  auto result =
      txn.exec_params(kInsertRepair, r.repair_id(), r.listing_id(), r.uscc(), r.commitment(),
                      PgTextArray(r.evidence_refs()), r.penalty_fulfilled(), r.harm_removed(),
                      static_cast<int>(r.status()), Micros(r.applied_at()), r.due_date(),
                      r.applicant_contact(), idempotency_key);
  return result.affected_rows() == 1;
}

std::optional<std::string> CreditRepository::FindRepairByIdempotencyKey(pqxx::transaction_base& txn,
                                                                        const std::string& key) {
  auto result = txn.exec_params(kFindRepairByKey, key);
  if (result.empty()) return std::nullopt;
  return result[0][0].as<std::string>();
}

absl::StatusOr<v1::Repair> CreditRepository::LoadRepair(pqxx::transaction_base& txn,
                                                        const std::string& repair_id,
                                                        bool for_update) {
  auto result = txn.exec_params(for_update ? kLoadRepairForUpdate : kLoadRepair, repair_id);
  if (result.empty()) return absl::NotFoundError(absl::StrCat("repair_id: no repair ", repair_id));
  return RepairFromRow(result[0]);
}

void CreditRepository::UpdateRepair(pqxx::transaction_base& txn, const v1::Repair& r) {
  txn.exec_params(kUpdateRepair, r.repair_id(), static_cast<int>(r.status()), r.has_decision(),
                  r.decision().approve(), r.decision().reason(), r.decision().decided_by(),
                  Micros(r.decision().decided_at()), r.revocation().reason(),
                  r.revocation().revoked_by(), r.has_revocation(),
                  Micros(r.revocation().revoked_at()));
}

std::vector<v1::Repair> CreditRepository::ListOverdueRepairs(pqxx::transaction_base& txn,
                                                             absl::CivilDay as_of, int limit,
                                                             int offset) {
  std::vector<v1::Repair> out;
  for (const auto& row :
       txn.exec_params(kListOverdueRepairs, common::FormatDate(as_of), limit, offset)) {
    out.push_back(RepairFromRow(row));
  }
  return out;
}

absl::flat_hash_map<std::string, SubjectSnapshot> CreditRepository::LoadSnapshots(
    pqxx::transaction_base& txn, const std::vector<std::string>& usccs) {
  absl::flat_hash_map<std::string, SubjectSnapshot> out;
  for (const auto& u : usccs) out[u];
  for (const auto& row : common::ExecPrepared(txn, kLoadSnapshots, PgTextArray(usccs))) {
    const std::string tag = row[0].as<std::string>();
    SubjectSnapshot& s = out[row[1].as<std::string>()];
    if (tag == "S") {
      s.name = row[2].as<std::string>();
      s.version = row[3].as<int64_t>();
    } else if (tag == "L") {
      v1::ListingSummary l;
      l.set_listing_id(row[4].as<std::string>());
      l.set_list_type(static_cast<v1::ListType>(row[5].as<int>()));
      l.set_status(static_cast<v1::ListingStatus>(row[6].as<int>()));
      l.set_reason_code(row[7].as<std::string>());
      l.set_decision_no(row[8].as<std::string>());
      l.set_effective_from(row[9].as<std::string>());
      l.set_effective_until(row[10].as<std::string>());
      s.listings.push_back(std::move(l));
    } else {
      v1::CreditRecord r;
      r.set_record_id(row[4].as<std::string>());
      r.set_kind(static_cast<v1::CreditRecordKind>(row[5].as<int>()));
      r.set_severity(static_cast<v1::Severity>(row[6].as<int>()));
      r.set_occurred_date(row[9].as<std::string>());
      r.set_publication_end_date(row[10].as<std::string>());
      r.set_accident_level(static_cast<v1::AccidentLevel>(row[11].as<int>()));
      r.set_fine_multiple(row[12].as<double>());
      r.set_decided_date(row[13].as<std::string>());
      s.records.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<v1::Measure> CreditRepository::LoadMeasures(pqxx::transaction_base& txn) {
  std::vector<v1::Measure> out;
  for (const auto& row : txn.exec(kLoadMeasures)) {
    v1::Measure m;
    m.set_code(row[0].as<std::string>());
    m.set_name(row[1].as<std::string>());
    m.set_enforcing_service(row[2].as<std::string>());
    m.set_basis(row[3].as<std::string>());
    m.set_list_type(static_cast<v1::ListType>(row[4].as<int>()));
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<PublicationRule> CreditRepository::LoadPublicationRules(pqxx::transaction_base& txn) {
  std::vector<PublicationRule> out;
  for (const auto& row : txn.exec(kLoadPublicationRules)) {
    PublicationRule rule;
    auto day = common::ParseDate(row[0].as<std::string>());
    if (!day.ok()) continue;
    rule.effective_from = *day;
    rule.rule_name = row[1].as<std::string>();
    rule.severity = static_cast<v1::Severity>(row[2].as<int>());
    rule.min_months = row[3].as<int>();
    rule.max_months = row[4].as<int>();
    rule.default_months = row[5].as<int>();
    out.push_back(rule);
  }
  return out;
}

}  // namespace regsuite::credit
