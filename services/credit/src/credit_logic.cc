#include "credit_logic.h"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/log.h"
#include "regsuite/common/outbox.h"
#include "regsuite/common/proto_time.h"
#include "regsuite/common/status.h"

namespace regsuite::credit {
namespace {

using common::FieldError;
using common::FormatDate;
using common::ParseDate;
using common::StateError;

constexpr int kMaxBatch = 1000;
constexpr int kMaxPageSize = 1000;
constexpr int kDefaultPageSize = 50;
constexpr char kAutoActor[] = "credit-auto";
constexpr char kExpiryActor[] = "expiry-job";

// Services told about every listing change (DESIGN.md "Cross-service flows").
constexpr const char* kListingSubscribers[] = {"disclosure", "licensing", "inspection", "exchange"};

void SetNow(google::protobuf::Timestamp* ts, absl::Time now) {
  const int64_t micros = absl::ToUnixMicros(now);
  ts->set_seconds(micros / 1000000);
  ts->set_nanos(static_cast<int32_t>((micros % 1000000) * 1000));
}

// Rewrites "uscc: rule" into "<field>: rule".
absl::Status RenameField(const absl::Status& status, absl::string_view field) {
  std::string message(status.message());
  const std::string prefix = "uscc:";
  if (message.rfind(prefix, 0) == 0)
    message = absl::StrCat(field, ":", message.substr(prefix.size()));
  return absl::Status(status.code(), message);
}

absl::StatusOr<std::string> ParseUscc(absl::string_view text, absl::string_view field = "uscc") {
  auto uscc = common::Uscc::Parse(text);
  if (!uscc.ok()) return field == "uscc" ? uscc.status() : RenameField(uscc.status(), field);
  return uscc->str();
}

absl::StatusOr<absl::CivilDay> OptionalDate(const std::string& text, absl::string_view field,
                                            absl::CivilDay fallback) {
  if (text.empty()) return fallback;
  auto day = ParseDate(text);
  if (!day.ok()) return FieldError(field, "must be a YYYY-MM-DD calendar date");
  return *day;
}

absl::Status CheckEtag(const std::string& requested, const std::string& current,
                       absl::string_view entity) {
  if (!requested.empty() && requested != current) {
    return absl::AbortedError(absl::StrCat(
        "etag: the ", entity, " was changed meanwhile; reload it (current etag ", current, ")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> PageOffset(const std::string& token) {
  if (token.empty()) return 0;
  int offset = 0;
  if (!absl::SimpleAtoi(token, &offset) || offset < 0) {
    return FieldError("page_token", "not a token returned by this method");
  }
  return offset;
}

absl::StatusOr<int> PageSize(int requested) {
  if (requested < 0 || requested > kMaxPageSize) {
    return FieldError("page_size", absl::StrCat("must be between 0 and ", kMaxPageSize));
  }
  return requested == 0 ? kDefaultPageSize : requested;
}

v1::Severity ImpliedSeverity(v1::CreditRecordKind kind, v1::AccidentLevel level) {
  switch (kind) {
    case v1::CREDIT_RECORD_KIND_ACCIDENT:
      return level >= v1::ACCIDENT_LEVEL_LARGER ? v1::SEVERITY_SERIOUS : v1::SEVERITY_GENERAL;
    case v1::CREDIT_RECORD_KIND_ACCIDENT_CONCEALMENT:
    case v1::CREDIT_RECORD_KIND_HEAD_FLED_OR_NO_RESCUE:
    case v1::CREDIT_RECORD_KIND_UNLICENSED_OPERATION:
    case v1::CREDIT_RECORD_KIND_REFUSAL_TO_EXECUTE_PENALTY:
    case v1::CREDIT_RECORD_KIND_FALSE_EVALUATION_REPORT:
    case v1::CREDIT_RECORD_KIND_OTHER_SEVERE_VIOLATION:
      return v1::SEVERITY_SERIOUS;
    case v1::CREDIT_RECORD_KIND_FALSE_COMMITMENT:
    case v1::CREDIT_RECORD_KIND_REFUSAL_TO_RECTIFY:
      return v1::SEVERITY_GENERAL;
    default:
      return v1::SEVERITY_UNSPECIFIED;
  }
}

// Kinds that are dishonesty information and therefore published for a period.
bool IsPublishedDishonesty(v1::CreditRecordKind kind) {
  return kind != v1::CREDIT_RECORD_KIND_AWARD &&
         kind != v1::CREDIT_RECORD_KIND_STANDARDISATION_GRADE &&
         kind != v1::CREDIT_RECORD_KIND_CREDIT_COMMITMENT;
}

}  // namespace

absl::Status ValidateRecordRequest(v1::RecordCreditEventRequest* r) {
  if (r->event_id().empty() || r->event_id().size() > 200) {
    return FieldError("event_id", "required, at most 200 characters");
  }
  auto uscc = ParseUscc(r->uscc());
  if (!uscc.ok()) return uscc.status();
  r->set_uscc(*uscc);
  if (r->kind() == v1::CREDIT_RECORD_KIND_UNSPECIFIED || !v1::CreditRecordKind_IsValid(r->kind())) {
    return FieldError("kind", "must be a CREDIT_RECORD_KIND_* value");
  }
  if (r->kind() == v1::CREDIT_RECORD_KIND_ACCIDENT &&
      r->accident_level() == v1::ACCIDENT_LEVEL_UNSPECIFIED) {
    return FieldError("accident_level", "required for an accident");
  }
  if (r->kind() == v1::CREDIT_RECORD_KIND_STANDARDISATION_GRADE &&
      (r->standardisation_grade() < 1 || r->standardisation_grade() > 3)) {
    return FieldError("standardisation_grade", "must be 1, 2 or 3");
  }
  if (r->fine_fen() < 0) return FieldError("fine_fen", "must not be negative");
  if (r->fine_multiple() < 0) return FieldError("fine_multiple", "must not be negative");
  if (r->occurred_date().empty() && r->decided_date().empty()) {
    return FieldError("decided_date", "decided_date or occurred_date is required");
  }
  for (auto [field, value] :
       {std::pair<absl::string_view, const std::string*>{"occurred_date", &r->occurred_date()},
        {"decided_date", &r->decided_date()},
        {"publication_end_date", &r->publication_end_date()}}) {
    if (!value->empty() && !ParseDate(*value).ok()) {
      return FieldError(field, "must be a YYYY-MM-DD calendar date");
    }
  }
  if (r->severity() == v1::SEVERITY_UNSPECIFIED) {
    r->set_severity(ImpliedSeverity(r->kind(), r->accident_level()));
  }
  if (IsPublishedDishonesty(r->kind()) && r->severity() == v1::SEVERITY_UNSPECIFIED) {
    return FieldError("severity", "required for this kind (minor, general or serious)");
  }
  return absl::OkStatus();
}

CreditLogic::CreditLogic(common::PgPool& pg, SubjectCache* cache, const common::Clock& clock,
                         std::shared_ptr<const common::WorkingDayCalendar> calendar,
                         CreditSettings settings, LocalCacheSync* local)
    : pg_(pg),
      cache_(cache),
      local_(cache != nullptr ? local : nullptr),
      clock_(clock),
      calendar_(std::move(calendar)),
      settings_(std::move(settings)),
      publication_rules_(PublicationRules::Seed()) {}

absl::Status CreditLogic::Init() {
  return pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    catalogue_ = CreditRepository::LoadMeasures(txn);
    auto rules = CreditRepository::LoadPublicationRules(txn);
    if (!rules.empty()) publication_rules_ = PublicationRules(std::move(rules));
    return absl::OkStatus();
  });
}

void CreditLogic::Invalidate(const ChangedSubjects& changed) {
  if (cache_ == nullptr || changed.empty()) return;
  cache_->Invalidate(changed);
  // After Redis: a local fill that reads Redis after this erase reads the tombstone.
  if (local_ != nullptr) {
    std::vector<std::string> usccs;
    usccs.reserve(changed.size());
    for (const auto& subject : changed) usccs.push_back(subject.first);
    local_->Invalidate(usccs);
  }
}

std::vector<std::string> CreditLogic::MeasureCodes(v1::ListType type) const {
  std::vector<std::string> out;
  for (const auto& m : catalogue_) {
    if (m.list_type() == type) out.push_back(m.code());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hot path
// ---------------------------------------------------------------------------------------------

v1::SubjectStatus CreditLogic::BuildStatus(const std::string& uscc, const SubjectSnapshot& snapshot,
                                           absl::CivilDay today) const {
  v1::SubjectStatus status;
  status.set_uscc(uscc);
  status.set_name(snapshot.name);
  bool active_black = false;
  for (const auto& l : snapshot.listings) {
    if (InForce(l, today)) {
      *status.add_active_listings() = l;
      if (l.list_type() == v1::LIST_TYPE_BLACK) active_black = true;
    }
  }
  const GradeResult grade = ComputeGrade(snapshot.records, active_black, today, settings_.grade);
  status.set_grade(grade.grade);
  status.set_tier(ComputeTier(snapshot.listings, grade.grade, today));
  for (auto& m : MeasuresInForce(catalogue_, snapshot.listings, snapshot.records, today)) {
    *status.add_measures() = std::move(m);
  }
  SetNow(status.mutable_as_of(), clock_.Now());
  return status;
}

absl::StatusOr<v1::SubjectStatus> CreditLogic::CheckSubject(
    const v1::CheckSubjectRequest& request) {
  auto uscc = ParseUscc(request.uscc());
  if (!uscc.ok()) return uscc.status();
  v1::BatchCheckSubjectsRequest batch;
  batch.add_usccs(*uscc);
  auto result = BatchCheckSubjects(batch);
  if (!result.ok()) return result.status();
  return std::move(*result->mutable_statuses(0));
}

absl::StatusOr<v1::BatchCheckSubjectsResponse> CreditLogic::BatchCheckSubjects(
    const v1::BatchCheckSubjectsRequest& request) {
  if (request.usccs_size() > kMaxBatch) {
    return FieldError("usccs", absl::StrCat("at most ", kMaxBatch, " per call"));
  }
  std::vector<std::string> usccs;
  usccs.reserve(request.usccs_size());
  for (int i = 0; i < request.usccs_size(); ++i) {
    auto uscc = ParseUscc(request.usccs(i), absl::StrCat("usccs[", i, "]"));
    if (!uscc.ok()) return uscc.status();
    usccs.push_back(*uscc);
  }
  v1::BatchCheckSubjectsResponse response;
  if (usccs.empty()) return response;
  const absl::CivilDay today = clock_.Today();

  std::vector<std::optional<v1::SubjectStatus>> found(usccs.size());
  // The local cache first. Its tickets are taken before Redis or PostgreSQL is read.
  LocalCache* local = local_ != nullptr && local_->cache().enabled() ? &local_->cache() : nullptr;
  std::vector<uint64_t> tickets;
  std::vector<std::string> remote;  // what the local cache did not answer, and where it goes
  std::vector<size_t> remote_at;
  for (size_t i = 0; i < usccs.size(); ++i) {
    if (local != nullptr) {
      tickets.push_back(local->Ticket(usccs[i]));
      if (auto hit = local->Get(usccs[i], today)) {
        found[i] = *hit;
        continue;
      }
    }
    remote.push_back(usccs[i]);
    remote_at.push_back(i);
  }
  bool cache_up = false;
  if (cache_ != nullptr && !remote.empty()) {
    auto cached = cache_->GetMany(remote, today);
    if (cached.ok()) {
      for (size_t k = 0; k < remote.size(); ++k) {
        if (!(*cached)[k].has_value()) continue;
        if (local != nullptr) local->Put(tickets[remote_at[k]], *(*cached)[k]);
        found[remote_at[k]] = std::move((*cached)[k]);
      }
      cache_up = true;
    }
  }
  std::vector<std::string> misses;
  std::vector<size_t> miss_at;  // first index of each miss in usccs
  absl::flat_hash_set<std::string> seen;
  for (size_t i = 0; i < usccs.size(); ++i) {
    if (!found[i].has_value() && seen.insert(usccs[i]).second) {
      misses.push_back(usccs[i]);
      miss_at.push_back(i);
    }
  }
  if (!misses.empty()) {
    // One statement (its own snapshot): no BEGIN/COMMIT round trips around it.
    auto snapshots = pg_.Autocommit(
        [&](pqxx::nontransaction& txn)
            -> absl::StatusOr<absl::flat_hash_map<std::string, SubjectSnapshot>> {
          return CreditRepository::LoadSnapshots(txn, misses);
        });
    if (!snapshots.ok()) return snapshots.status();
    // Built in a vector of fixed size: FillMany keeps pointers into it.
    std::vector<v1::SubjectStatus> built(misses.size());
    absl::flat_hash_map<std::string, size_t> index;
    std::vector<std::pair<int64_t, const v1::SubjectStatus*>> fills;
    for (size_t i = 0; i < misses.size(); ++i) {
      const SubjectSnapshot& snapshot = (*snapshots)[misses[i]];
      built[i] = BuildStatus(misses[i], snapshot, today);
      index[misses[i]] = i;
      fills.emplace_back(snapshot.version, &built[i]);
    }
    if (cache_up) cache_->FillMany(fills);
    for (size_t i = 0; local != nullptr && i < misses.size(); ++i) {
      local->Put(tickets[miss_at[i]], built[i]);
    }
    for (size_t i = 0; i < usccs.size(); ++i) {
      if (!found[i].has_value()) found[i] = built[index[usccs[i]]];
    }
  }
  for (auto& status : found) *response.add_statuses() = std::move(*status);
  return response;
}

absl::StatusOr<v1::CreditProfile> CreditLogic::GetCreditProfile(
    const v1::GetCreditProfileRequest& request) {
  auto uscc = ParseUscc(request.uscc());
  if (!uscc.ok()) return uscc.status();
  const absl::CivilDay today = clock_.Today();
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::CreditProfile> {
    v1::CreditProfile profile;
    profile.set_uscc(*uscc);
    auto snapshots = CreditRepository::LoadSnapshots(txn, {*uscc});
    const SubjectSnapshot& snapshot = snapshots[*uscc];
    const v1::SubjectStatus status = BuildStatus(*uscc, snapshot, today);
    profile.set_name(status.name());
    profile.set_tier(status.tier());
    *profile.mutable_measures() = status.measures();
    const GradeResult grade = ComputeGrade(
        snapshot.records,
        std::any_of(
            status.active_listings().begin(), status.active_listings().end(),
            [](const v1::ListingSummary& l) { return l.list_type() == v1::LIST_TYPE_BLACK; }),
        today, settings_.grade);
    profile.set_grade(grade.grade);
    profile.set_score(grade.score);
    profile.set_grade_rule_version(settings_.grade.rule_version);
    for (auto& r : CreditRepository::ListRecords(txn, *uscc, request.include_expired())) {
      *profile.add_records() = std::move(r);
    }
    ListingFilter filter;
    filter.uscc = *uscc;
    filter.limit = kMaxPageSize;
    int total = 0;
    for (auto& l : CreditRepository::ListListings(txn, filter, &total)) {
      *profile.add_listings() = std::move(l);
    }
    SetNow(profile.mutable_as_of(), clock_.Now());
    return profile;
  });
}

// ---------------------------------------------------------------------------------------------
// Records and automatic proposals
// ---------------------------------------------------------------------------------------------

absl::StatusOr<v1::RecordCreditEventResponse> CreditLogic::RecordCreditEvent(
    const v1::RecordCreditEventRequest& request) {
  v1::RecordCreditEventRequest r = request;
  if (auto st = ValidateRecordRequest(&r); !st.ok()) return st;
  ChangedSubjects changed;
  auto result = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::RecordCreditEventResponse> {
    changed.clear();
    return RecordInTxn(txn, r, &changed);
  });
  if (result.ok()) Invalidate(changed);
  return result;
}

absl::StatusOr<v1::RecordCreditEventResponse> CreditLogic::RecordInTxn(
    pqxx::work& txn, const v1::RecordCreditEventRequest& r, ChangedSubjects* changed) {
  const absl::CivilDay today = clock_.Today();
  v1::RecordCreditEventResponse response;
  v1::CreditRecord record;
  record.set_record_id(common::NewUuid());
  record.set_event_id(r.event_id());
  record.set_uscc(r.uscc());
  record.set_subject_name(r.subject_name());
  record.set_kind(r.kind());
  record.set_severity(r.severity());
  record.set_accident_level(r.accident_level());
  record.set_source_service(r.source_service().empty() ? "external" : r.source_service());
  record.set_decision_ref(r.decision_ref());
  record.set_summary(r.summary());
  record.set_basis(r.basis());
  record.set_occurred_date(r.occurred_date());
  record.set_decided_date(r.decided_date());
  record.set_fine_fen(r.fine_fen());
  record.set_fine_multiple(r.fine_multiple());
  record.set_standardisation_grade(r.standardisation_grade());
  *record.mutable_evidence_refs() = r.evidence_refs();
  if (IsPublishedDishonesty(r.kind())) {
    const absl::CivilDay decided =
        *ParseDate(r.decided_date().empty() ? r.occurred_date() : r.decided_date());
    absl::CivilDay requested;
    const bool has_requested = !r.publication_end_date().empty();
    if (has_requested) requested = *ParseDate(r.publication_end_date());
    auto end = publication_rules_.PublicationEnd(decided, r.severity(),
                                                 has_requested ? &requested : nullptr);
    if (!end.ok()) return end.status();
    record.set_publication_end_date(FormatDate(*end));
  }

  // The upsert locks the subject row: records of one subject are applied one at a time, so
  // two accidents recorded concurrently still see each other.
  CreditRepository::UpsertSubject(txn, r.uscc(), r.subject_name());
  if (!CreditRepository::InsertRecord(txn, record)) {
    auto existing = CreditRepository::FindRecordByEventId(txn, r.event_id());
    if (!existing) return absl::AbortedError("event_id: concurrent insert; retry");
    *response.mutable_record() = std::move(*existing);
    response.set_duplicate(true);
    return response;
  }
  auto stored = CreditRepository::FindRecordByEventId(txn, r.event_id());
  if (stored) record = *stored;
  std::vector<v1::CreditRecord> history = CreditRepository::ListRecords(txn, r.uscc(), true);

  std::vector<ListingSituation> situations =
      DetectBlackListSituations(record, history, settings_.procedure);
  auto propose = [&](v1::ListType type, const ListingSituation& s) -> absl::Status {
    response.add_listing_reason_codes(s.reason_code);
    if (CreditRepository::HasOpenListing(txn, r.uscc(), s.reason_code)) return absl::OkStatus();
    v1::Listing listing;
    listing.set_uscc(r.uscc());
    listing.set_subject_name(r.subject_name());
    listing.set_list_type(type);
    listing.set_reason_code(s.reason_code);
    listing.set_basis(s.basis);
    for (const auto& e : s.evidence_refs) listing.add_evidence_refs(e);
    for (const auto& id : s.record_ids) listing.add_record_ids(id);
    listing.set_authority(record.source_service());
    listing.set_proposed_by(kAutoActor);
    bool created = false;
    auto made =
        CreateListingInTxn(txn, listing, absl::StrCat("auto:", r.event_id(), ":", s.reason_code),
                           kAutoActor, &created);
    return made.status();
  };
  for (const auto& s : situations) {
    if (auto st = propose(v1::LIST_TYPE_BLACK, s); !st.ok()) return st;
  }
  // Red-list evaluation: a standardisation grade 1-2 with a clean 3 years proposes a red listing.
  if (record.kind() == v1::CREDIT_RECORD_KIND_STANDARDISATION_GRADE &&
      MeetsRedListCriteria(history, today)) {
    ListingSituation red;
    red.reason_code = "RED_STANDARDISATION_CLEAN_3Y";
    red.basis = "安全生产标准化一级/二级, 3年内无行政处罚和生产安全事故";
    red.record_ids = {record.record_id()};
    red.evidence_refs.assign(record.evidence_refs().begin(), record.evidence_refs().end());
    if (auto st = propose(v1::LIST_TYPE_RED, red); !st.ok()) return st;
  }
  changed->emplace_back(r.uscc(), CreditRepository::BumpSubjectVersion(txn, r.uscc()));
  *response.mutable_record() = std::move(record);
  return response;
}

absl::StatusOr<events::v1::EventAck> CreditLogic::DeliverEvent(
    const events::v1::EventEnvelope& envelope) {
  ChangedSubjects changed;
  auto ack = common::ApplyDeliveredEvent(
      pg_, envelope, [&](pqxx::work& txn, const events::v1::EventEnvelope& e) {
        changed.clear();
        return ApplyEvent(txn, e, changed);
      });
  if (ack.ok()) Invalidate(changed);
  return ack;
}

absl::StatusOr<events::v1::EventBatchAck> CreditLogic::DeliverEvents(
    const events::v1::EventBatch& batch) {
  // By event id: an effect may run twice for one event (a rolled-back batch is applied again
  // event by event), and only acknowledged, fresh events invalidate.
  absl::flat_hash_map<std::string, ChangedSubjects> changed;
  auto ack = common::ApplyDeliveredEvents(
      pg_, batch, [&](pqxx::work& txn, const events::v1::EventEnvelope& e) {
        auto& mine = changed[e.event_id()];
        mine.clear();
        return ApplyEvent(txn, e, mine);
      });
  ChangedSubjects all;
  for (const auto& result : ack.results()) {
    if (result.code() != 0 || result.duplicate()) continue;
    auto it = changed.find(result.event_id());
    if (it != changed.end()) all.insert(all.end(), it->second.begin(), it->second.end());
  }
  Invalidate(all);
  return ack;
}

absl::Status CreditLogic::ApplyEvent(pqxx::work& txn, const events::v1::EventEnvelope& e,
                                     ChangedSubjects& changed) {
  v1::RecordCreditEventRequest r;
  r.set_event_id(e.event_id());
  if (e.payload_type() == "regsuite.events.v1.PenaltyDecided") {
    events::v1::PenaltyDecided p;
    if (auto st = common::UnpackPayload(e, &p); !st.ok()) return st;
    if (p.uscc().empty()) return absl::OkStatus();  // natural person: no credit subject
    r.set_uscc(p.uscc());
    r.set_subject_name(p.party_name());
    r.set_kind(v1::CREDIT_RECORD_KIND_PENALTY);
    r.set_severity(p.severity() == events::v1::SEVERITY_UNSPECIFIED
                       ? v1::SEVERITY_GENERAL
                       : static_cast<v1::Severity>(p.severity()));
    r.set_source_service("inspection");
    r.set_decision_ref(p.decision_no());
    r.set_summary(p.violation_type());
    r.set_basis(p.legal_basis());
    r.set_decided_date(p.decision_date());
    r.set_fine_fen(p.fine_fen());
    r.set_fine_multiple(p.fine_multiple());
  } else if (e.payload_type() == "regsuite.events.v1.FalseCommitmentFound") {
    events::v1::FalseCommitmentFound p;
    if (auto st = common::UnpackPayload(e, &p); !st.ok()) return st;
    r.set_uscc(p.uscc());
    r.set_subject_name(p.subject_name());
    r.set_kind(v1::CREDIT_RECORD_KIND_FALSE_COMMITMENT);
    r.set_severity(v1::SEVERITY_GENERAL);
    r.set_source_service("licensing");
    r.set_decision_ref(p.revocation_decision_no());
    r.set_summary(p.finding());
    r.set_basis(p.basis());
    r.set_decided_date(p.found_date());
    *r.mutable_evidence_refs() = p.evidence_refs();
  } else if (e.payload_type() == "regsuite.events.v1.PenaltyDecisionAnnulled") {
    events::v1::PenaltyDecisionAnnulled p;
    if (auto st = common::UnpackPayload(e, &p); !st.ok()) return st;
    auto uscc = ParseUscc(p.uscc());
    if (!uscc.ok()) return absl::OkStatus();
    if (CreditRepository::AnnulRecords(txn, *uscc, p.decision_no()) > 0) {
      changed.emplace_back(*uscc, CreditRepository::BumpSubjectVersion(txn, *uscc));
    }
    return absl::OkStatus();
  } else {
    return FieldError("payload_type",
                      absl::StrCat("credit does not handle ", e.payload_type()));
  }
  if (auto st = ValidateRecordRequest(&r); !st.ok()) return st;
  return RecordInTxn(txn, r, &changed).status();
}

// ---------------------------------------------------------------------------------------------
// Listing procedure
// ---------------------------------------------------------------------------------------------

absl::StatusOr<v1::Listing> CreditLogic::CreateListingInTxn(pqxx::work& txn, v1::Listing listing,
                                                            const std::string& idempotency_key,
                                                            const std::string& actor,
                                                            bool* created) {
  *created = false;
  if (!idempotency_key.empty()) {
    if (auto id = CreditRepository::FindListingByIdempotencyKey(txn, idempotency_key)) {
      return CreditRepository::LoadListing(txn, *id, false);
    }
  }
  auto next = NextListingStatus(v1::LISTING_STATUS_UNSPECIFIED, v1::LISTING_ACTION_PROPOSED);
  if (!next.ok()) return next.status();
  listing.set_listing_id(common::NewUuid());
  listing.set_status(*next);
  listing.set_proposed_date(FormatDate(clock_.Today()));
  CreditRepository::UpsertSubject(txn, listing.uscc(), listing.subject_name());
  if (!CreditRepository::InsertListing(txn, listing, idempotency_key)) {
    return absl::AbortedError("idempotency_key: a concurrent request used it; retry");
  }
  CreditRepository::AppendListingEvent(txn, listing.listing_id(), v1::LISTING_ACTION_PROPOSED,
                                       v1::LISTING_STATUS_UNSPECIFIED, *next, actor,
                                       listing.reason_code());
  *created = true;
  return CreditRepository::LoadListing(txn, listing.listing_id(), false);
}

absl::StatusOr<v1::Listing> CreditLogic::ProposeListing(const v1::ProposeListingRequest& request) {
  auto uscc = ParseUscc(request.uscc());
  if (!uscc.ok()) return uscc.status();
  if (request.list_type() != v1::LIST_TYPE_RED && request.list_type() != v1::LIST_TYPE_BLACK) {
    return FieldError("list_type", "must be LIST_TYPE_RED or LIST_TYPE_BLACK");
  }
  if (request.reason_code().empty()) return FieldError("reason_code", "required");
  if (request.basis().empty()) return FieldError("basis", "the legal basis is required");
  v1::Listing listing;
  listing.set_uscc(*uscc);
  listing.set_subject_name(request.subject_name());
  listing.set_list_type(request.list_type());
  listing.set_reason_code(request.reason_code());
  listing.set_basis(request.basis());
  *listing.mutable_evidence_refs() = request.evidence_refs();
  *listing.mutable_record_ids() = request.record_ids();
  listing.set_authority(request.authority());
  listing.set_proposed_by(request.proposed_by());
  ChangedSubjects changed;
  auto result = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Listing> {
    changed.clear();
    bool created = false;
    auto made = CreateListingInTxn(txn, listing, request.idempotency_key(), request.proposed_by(),
                                   &created);
    if (made.ok() && created) {
      changed.emplace_back(*uscc, CreditRepository::BumpSubjectVersion(txn, *uscc));
    }
    return made;
  });
  if (result.ok()) Invalidate(changed);
  return result;
}

template <typename Mutate>
absl::StatusOr<v1::Listing> CreditLogic::MutateListing(const std::string& listing_id,
                                                       const std::string& etag, Mutate&& mutate) {
  if (listing_id.empty()) return FieldError("listing_id", "required");
  if (!common::IsUuid(listing_id)) return FieldError("listing_id", "must be a UUID");
  ChangedSubjects changed;
  auto result = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Listing> {
    changed.clear();
    auto listing = CreditRepository::LoadListing(txn, listing_id, true);
    if (!listing.ok()) return listing.status();
    if (auto st = CheckEtag(etag, listing->etag(), "listing"); !st.ok()) return st;
    const v1::ListingStatus from = listing->status();
    std::string actor, note;
    auto action = mutate(txn, *listing, &actor, &note);
    if (!action.ok()) return action.status();
    auto to = NextListingStatus(from, *action);
    if (!to.ok()) return to.status();
    listing->set_status(*to);
    CreditRepository::UpdateListing(txn, *listing);
    CreditRepository::AppendListingEvent(txn, listing_id, *action, from, *to, actor, note);
    if (from != *to) {
      changed.emplace_back(listing->uscc(),
                           CreditRepository::BumpSubjectVersion(txn, listing->uscc()));
    }
    if (*action == v1::LISTING_ACTION_APPROVED) {
      EnqueueListingChanged(txn, *listing, events::v1::LISTING_CHANGE_PUBLISHED, clock_.Today());
    }
    return CreditRepository::LoadListing(txn, listing_id, false);
  });
  if (result.ok()) Invalidate(changed);
  return result;
}

absl::StatusOr<v1::Listing> CreditLogic::NotifyListing(const v1::NotifyListingRequest& request) {
  auto notified = OptionalDate(request.notified_date(), "notified_date", clock_.Today());
  if (!notified.ok()) return notified.status();
  return MutateListing(request.listing_id(), request.etag(),
                       [&](pqxx::work&, v1::Listing& l, std::string* actor,
                           std::string* note) -> absl::StatusOr<v1::ListingAction> {
                         if (l.status() != v1::LISTING_STATUS_PROPOSED) {
                           return StateError("listing", ListingStatusName(l.status()), "notify");
                         }
                         auto deadline =
                             ObjectionDeadline(*calendar_, *notified, settings_.procedure);
                         if (!deadline.ok()) return deadline.status();
                         l.set_notified_date(FormatDate(*notified));
                         l.set_notice_ref(request.notice_ref());
                         l.set_objection_deadline(FormatDate(*deadline));
                         *actor = request.notified_by();
                         *note = absl::StrCat("objection period until ", FormatDate(*deadline));
                         return v1::LISTING_ACTION_NOTIFIED;
                       });
}

absl::StatusOr<v1::Listing> CreditLogic::RecordObjection(
    const v1::RecordObjectionRequest& request) {
  if (!request.waive() && request.statement().empty()) {
    return FieldError("statement", "required unless the party waives (waive=true)");
  }
  const absl::Time received =
      request.has_received_at() ? common::FromTimestamp(request.received_at()) : clock_.Now();
  const absl::CivilDay received_day = absl::ToCivilDay(received, common::BureauTimeZone());
  return MutateListing(
      request.listing_id(), request.etag(),
      [&](pqxx::work& txn, v1::Listing& l, std::string* actor,
          std::string* note) -> absl::StatusOr<v1::ListingAction> {
        if (l.status() != v1::LISTING_STATUS_NOTIFIED) {
          return StateError("listing", ListingStatusName(l.status()),
                            request.waive() ? "record a waiver" : "record an objection");
        }
        auto deadline = ParseDate(l.objection_deadline());
        if (deadline.ok() && received_day > *deadline && !request.waive()) {
          return absl::FailedPreconditionError(
              absl::StrCat("listing is NOTIFIED and the objection period ended on ",
                           l.objection_deadline(), "; a late objection cannot be recorded"));
        }
        *actor = request.received_by();
        if (request.waive()) {
          l.set_objection_waived(true);
          *note = "party waived its right to state or object";
          return v1::LISTING_ACTION_OBJECTION_WAIVED;
        }
        v1::Objection objection;
        objection.set_objection_id(common::NewUuid());
        objection.set_statement(request.statement());
        *objection.mutable_evidence_refs() = request.evidence_refs();
        SetNow(objection.mutable_received_at(), received);
        objection.set_received_by(request.received_by());
        CreditRepository::InsertObjection(txn, l.listing_id(), objection);
        *note = objection.objection_id();
        return v1::LISTING_ACTION_OBJECTION_RECORDED;
      });
}

absl::StatusOr<v1::Listing> CreditLogic::DecideListing(const v1::DecideListingRequest& request) {
  if (request.reason().empty()) return FieldError("reason", "written reasons are required");
  const absl::CivilDay today = clock_.Today();
  return MutateListing(
      request.listing_id(), request.etag(),
      [&](pqxx::work& txn, v1::Listing& l, std::string* actor,
          std::string* note) -> absl::StatusOr<v1::ListingAction> {
        if (auto st = CheckDecidable(l, today); !st.ok()) return st;
        for (const auto& [objection_id, response] : request.objection_responses()) {
          const bool known =
              std::any_of(l.objections().begin(), l.objections().end(),
                          [&](const v1::Objection& o) { return o.objection_id() == objection_id; });
          if (!known) {
            return FieldError("objection_responses",
                              absl::StrCat("no objection ", objection_id, " on this listing"));
          }
          CreditRepository::SetObjectionResponse(txn, objection_id, response);
        }
        v1::Decision* d = l.mutable_decision();
        d->set_approve(request.approve());
        d->set_reason(request.reason());
        d->set_decided_by(request.decided_by());
        d->set_decision_no(request.decision_no());
        SetNow(d->mutable_decided_at(), clock_.Now());
        *actor = request.decided_by();
        *note = request.reason();
        if (!request.approve()) return v1::LISTING_ACTION_REJECTED;
        const Period period = ListingPeriod(l.list_type(), today, settings_.procedure);
        l.set_effective_from(FormatDate(period.from));
        l.set_effective_until(FormatDate(period.until));
        l.set_repair_eligible_from(
            FormatDate(AddMonths(period.from, settings_.procedure.repair_min_listed_months)));
        return v1::LISTING_ACTION_APPROVED;
      });
}

absl::StatusOr<v1::Listing> CreditLogic::GetListing(const v1::GetListingRequest& request) {
  if (!common::IsUuid(request.listing_id())) return FieldError("listing_id", "must be a UUID");
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Listing> {
    return CreditRepository::LoadListing(txn, request.listing_id(), false);
  });
}

absl::StatusOr<v1::ListListingsResponse> CreditLogic::ListListings(
    const v1::ListListingsRequest& request) {
  ListingFilter filter;
  if (!request.uscc().empty()) {
    auto uscc = ParseUscc(request.uscc());
    if (!uscc.ok()) return uscc.status();
    filter.uscc = *uscc;
  }
  filter.list_type = request.list_type();
  filter.status = request.status();
  auto size = PageSize(request.page_size());
  if (!size.ok()) return size.status();
  auto offset = PageOffset(request.page_token());
  if (!offset.ok()) return offset.status();
  filter.limit = *size;
  filter.offset = *offset;
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::ListListingsResponse> {
    v1::ListListingsResponse response;
    int total = 0;
    for (auto& l : CreditRepository::ListListings(txn, filter, &total)) {
      *response.add_listings() = std::move(l);
    }
    response.set_total_size(total);
    if (filter.offset + response.listings_size() < total) {
      response.set_next_page_token(absl::StrCat(filter.offset + response.listings_size()));
    }
    return response;
  });
}

void CreditLogic::EnqueueListingChanged(pqxx::work& txn, const v1::Listing& l,
                                        events::v1::ListingChange change, absl::CivilDay today) {
  events::v1::ListingChanged payload;
  payload.set_listing_id(l.listing_id());
  payload.set_uscc(l.uscc());
  payload.set_subject_name(l.subject_name());
  payload.set_list_type(static_cast<events::v1::ListType>(l.list_type()));
  payload.set_change(change);
  payload.set_change_date(FormatDate(today));
  payload.set_reason_code(l.reason_code());
  payload.set_reason(l.decision().reason());
  payload.set_basis(l.basis());
  payload.set_decision_no(l.decision().decision_no());
  payload.set_effective_from(l.effective_from());
  payload.set_effective_until(l.effective_until());
  if (change == events::v1::LISTING_CHANGE_PUBLISHED ||
      change == events::v1::LISTING_CHANGE_RESTORED) {
    for (auto& code : MeasureCodes(l.list_type())) payload.add_measure_codes(std::move(code));
  }
  payload.set_repair_id(l.repair_id());
  payload.set_authority(l.authority());
  const std::string event_id = common::NewUuid();
  for (const char* service : kListingSubscribers) {
    common::OutboxEvent event = common::MakeEnvelopeEvent(
        "credit", common::DeliverEventMethod(service), "listing", l.listing_id(),
        "credit.listing_changed", payload, clock_.Now(), event_id);
    auto queued = common::EnqueueOutbox(txn, event);
    // A failed insert throws inside libpqxx; a non-OK status here is a programming error.
    if (!queued.ok()) throw std::runtime_error(std::string(queued.status().message()));
  }
}

absl::StatusOr<v1::ExpireListingsResponse> CreditLogic::ExpireListings(
    const v1::ExpireListingsRequest& request) {
  auto as_of = OptionalDate(request.as_of_date(), "as_of_date", clock_.Today());
  if (!as_of.ok()) return as_of.status();
  ChangedSubjects changed;
  auto result = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::ExpireListingsResponse> {
    changed.clear();
    v1::ExpireListingsResponse response;
    absl::flat_hash_set<std::string> subjects;
    for (const auto& expired : CreditRepository::ExpireDue(txn, *as_of)) {
      response.add_expired_listing_ids(expired.listing_id);
      CreditRepository::AppendListingEvent(txn, expired.listing_id, v1::LISTING_ACTION_EXPIRED,
                                           v1::LISTING_STATUS_ACTIVE, v1::LISTING_STATUS_EXPIRED,
                                           kExpiryActor, "management period ended");
      auto listing = CreditRepository::LoadListing(txn, expired.listing_id, false);
      if (!listing.ok()) return listing.status();
      EnqueueListingChanged(txn, *listing, events::v1::LISTING_CHANGE_EXPIRED, *as_of);
      subjects.insert(expired.uscc);
    }
    for (const auto& [record_id, uscc] : CreditRepository::UnpublishDue(txn, *as_of)) {
      response.add_unpublished_record_ids(record_id);
      subjects.insert(uscc);
    }
    for (const auto& uscc : subjects) {
      changed.emplace_back(uscc, CreditRepository::BumpSubjectVersion(txn, uscc));
    }
    return response;
  });
  if (result.ok()) {
    Invalidate(changed);
    if (result->expired_listing_ids_size() > 0) {
      common::LogInfo("credit listings expired",
                      {{"count", absl::StrCat(result->expired_listing_ids_size())}});
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Repairs
// ---------------------------------------------------------------------------------------------

absl::StatusOr<v1::Repair> CreditLogic::ApplyRepair(const v1::ApplyRepairRequest& request) {
  if (!common::IsUuid(request.listing_id())) return FieldError("listing_id", "must be a UUID");
  if (request.commitment().empty()) {
    return FieldError("commitment", "a public credit commitment (信用承诺) is required");
  }
  const absl::CivilDay today = clock_.Today();
  auto due = calendar_->AddWorkingDays(today, settings_.procedure.repair_decision_wd);
  if (!due.ok()) return due.status();
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Repair> {
    if (!request.idempotency_key().empty()) {
      if (auto id = CreditRepository::FindRepairByIdempotencyKey(txn, request.idempotency_key())) {
        return CreditRepository::LoadRepair(txn, *id, false);
      }
    }
    auto listing = CreditRepository::LoadListing(txn, request.listing_id(), true);
    if (!listing.ok()) return listing.status();
    const std::vector<v1::CreditRecord> records =
        CreditRepository::ListRecords(txn, listing->uscc(), true);
    if (auto st = CheckRepairEligible(*listing, request, records, today, settings_.procedure);
        !st.ok()) {
      return st;
    }
    v1::Repair repair;
    repair.set_repair_id(common::NewUuid());
    repair.set_listing_id(listing->listing_id());
    repair.set_uscc(listing->uscc());
    repair.set_commitment(request.commitment());
    *repair.mutable_evidence_refs() = request.evidence_refs();
    repair.set_penalty_fulfilled(request.penalty_fulfilled());
    repair.set_harm_removed(request.harm_removed());
    repair.set_status(v1::REPAIR_STATUS_PENDING);
    SetNow(repair.mutable_applied_at(), clock_.Now());
    repair.set_due_date(FormatDate(*due));
    repair.set_applicant_contact(request.applicant_contact());
    try {
      pqxx::subtransaction sub(txn, "repair_insert");
      if (!CreditRepository::InsertRepair(sub, repair, request.idempotency_key())) {
        return absl::AbortedError("idempotency_key: a concurrent request used it; retry");
      }
      sub.commit();
    } catch (const pqxx::unique_violation&) {
      return absl::FailedPreconditionError(
          "listing already has a PENDING repair application; decide it first");
    }
    auto next = NextListingStatus(listing->status(), v1::LISTING_ACTION_REPAIR_APPLIED);
    if (!next.ok()) return next.status();
    CreditRepository::AppendListingEvent(txn, listing->listing_id(),
                                         v1::LISTING_ACTION_REPAIR_APPLIED, listing->status(),
                                         *next, request.applicant_contact(), repair.repair_id());
    return CreditRepository::LoadRepair(txn, repair.repair_id(), false);
  });
}

absl::StatusOr<v1::Repair> CreditLogic::GetRepair(const v1::GetRepairRequest& request) {
  if (!common::IsUuid(request.repair_id())) return FieldError("repair_id", "must be a UUID");
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Repair> {
    return CreditRepository::LoadRepair(txn, request.repair_id(), false);
  });
}

absl::StatusOr<v1::ListOverdueRepairsResponse> CreditLogic::ListOverdueRepairs(
    const v1::ListOverdueRepairsRequest& request) {
  auto as_of = OptionalDate(request.as_of_date(), "as_of_date", clock_.Today());
  if (!as_of.ok()) return as_of.status();
  auto size = PageSize(request.page_size());
  if (!size.ok()) return size.status();
  auto offset = PageOffset(request.page_token());
  if (!offset.ok()) return offset.status();
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::ListOverdueRepairsResponse> {
    v1::ListOverdueRepairsResponse response;
    auto repairs = CreditRepository::ListOverdueRepairs(txn, *as_of, *size + 1, *offset);
    const bool more = static_cast<int>(repairs.size()) > *size;
    if (more) repairs.pop_back();
    for (auto& r : repairs) *response.add_repairs() = std::move(r);
    if (more) response.set_next_page_token(absl::StrCat(*offset + *size));
    return response;
  });
}

absl::StatusOr<v1::Repair> CreditLogic::DecideRepair(const v1::DecideRepairRequest& request) {
  if (!common::IsUuid(request.repair_id())) return FieldError("repair_id", "must be a UUID");
  if (request.reason().empty()) return FieldError("reason", "written reasons are required");
  const absl::CivilDay today = clock_.Today();
  ChangedSubjects changed;
  auto result = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Repair> {
    changed.clear();
    auto repair = CreditRepository::LoadRepair(txn, request.repair_id(), true);
    if (!repair.ok()) return repair.status();
    if (auto st = CheckEtag(request.etag(), repair->etag(), "repair"); !st.ok()) return st;
    if (repair->status() != v1::REPAIR_STATUS_PENDING) {
      return StateError("repair", RepairStatusName(repair->status()), "decide");
    }
    auto listing = CreditRepository::LoadListing(txn, repair->listing_id(), true);
    if (!listing.ok()) return listing.status();
    const v1::ListingAction action =
        request.approve() ? v1::LISTING_ACTION_REMOVED : v1::LISTING_ACTION_REPAIR_DENIED;
    auto next = NextListingStatus(listing->status(), action);
    if (!next.ok()) return next.status();
    v1::Decision* d = repair->mutable_decision();
    d->set_approve(request.approve());
    d->set_reason(request.reason());
    d->set_decided_by(request.decided_by());
    SetNow(d->mutable_decided_at(), clock_.Now());
    repair->set_status(request.approve() ? v1::REPAIR_STATUS_APPROVED : v1::REPAIR_STATUS_DENIED);
    CreditRepository::UpdateRepair(txn, *repair);
    const v1::ListingStatus from = listing->status();
    if (request.approve()) {
      listing->set_status(*next);
      listing->set_removed_date(FormatDate(today));
      listing->set_removal_reason(absl::StrCat("credit repair approved: ", request.reason()));
      listing->set_repair_id(repair->repair_id());
      CreditRepository::UpdateListing(txn, *listing);
      EnqueueListingChanged(txn, *listing, events::v1::LISTING_CHANGE_REPAIRED, today);
      changed.emplace_back(listing->uscc(),
                           CreditRepository::BumpSubjectVersion(txn, listing->uscc()));
    }
    CreditRepository::AppendListingEvent(txn, listing->listing_id(), action, from, *next,
                                         request.decided_by(), request.reason());
    return CreditRepository::LoadRepair(txn, repair->repair_id(), false);
  });
  if (result.ok()) Invalidate(changed);
  return result;
}

absl::StatusOr<v1::Repair> CreditLogic::RevokeRepair(const v1::RevokeRepairRequest& request) {
  if (!common::IsUuid(request.repair_id())) return FieldError("repair_id", "must be a UUID");
  if (request.reason().empty()) return FieldError("reason", "say what was fraudulent");
  const absl::CivilDay today = clock_.Today();
  ChangedSubjects changed;
  auto result = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::Repair> {
    changed.clear();
    auto repair = CreditRepository::LoadRepair(txn, request.repair_id(), true);
    if (!repair.ok()) return repair.status();
    if (auto st = CheckEtag(request.etag(), repair->etag(), "repair"); !st.ok()) return st;
    if (repair->status() != v1::REPAIR_STATUS_APPROVED) {
      return StateError("repair", RepairStatusName(repair->status()), "revoke");
    }
    auto listing = CreditRepository::LoadListing(txn, repair->listing_id(), true);
    if (!listing.ok()) return listing.status();
    auto next = NextListingStatus(listing->status(), v1::LISTING_ACTION_RESTORED);
    if (!next.ok()) return next.status();
    v1::RepairRevocation* rv = repair->mutable_revocation();
    rv->set_reason(request.reason());
    rv->set_revoked_by(request.revoked_by());
    SetNow(rv->mutable_revoked_at(), clock_.Now());
    repair->set_status(v1::REPAIR_STATUS_REVOKED);
    CreditRepository::UpdateRepair(txn, *repair);
    const v1::ListingStatus from = listing->status();
    // Restored with its original end date (effective_until is untouched).
    listing->set_status(*next);
    listing->set_removed_date("");
    listing->set_removal_reason("");
    CreditRepository::UpdateListing(txn, *listing);
    CreditRepository::AppendListingEvent(txn, listing->listing_id(), v1::LISTING_ACTION_RESTORED,
                                         from, *next, request.revoked_by(), request.reason());
    listing->set_repair_id(repair->repair_id());
    EnqueueListingChanged(txn, *listing, events::v1::LISTING_CHANGE_RESTORED, today);
    changed.emplace_back(listing->uscc(),
                         CreditRepository::BumpSubjectVersion(txn, listing->uscc()));
    return CreditRepository::LoadRepair(txn, repair->repair_id(), false);
  });
  if (result.ok()) Invalidate(changed);
  return result;
}

absl::StatusOr<v1::ListMeasuresResponse> CreditLogic::ListMeasures(
    const v1::ListMeasuresRequest& request) {
  v1::ListMeasuresResponse response;
  for (const auto& m : catalogue_) {
    if (request.list_type() != v1::LIST_TYPE_UNSPECIFIED && m.list_type() != request.list_type()) {
      continue;
    }
    *response.add_measures() = m;
  }
  return response;
}

}  // namespace regsuite::credit
