#include "publications.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "proto_json.h"
#include "publication_rules.h"
#include "regsuite/common/crypto.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/events.h"
#include "regsuite/common/identifiers.h"
#include "regsuite/common/pg.h"
#include "regsuite/common/status.h"

namespace regsuite::disclosure {
namespace {

using common::FieldError;
using common::FormatDate;
using common::ParseDate;
using v1::PublishedRecord;

constexpr char kSelectBySource[] =
    "SELECT index_no FROM records WHERE source_service = $1 AND source_id = $2 AND category = $3";
constexpr char kSelectByCertificate[] =
    "SELECT index_no FROM records WHERE certificate_no = $1 AND category = 1 "
    "ORDER BY year DESC, seq DESC LIMIT 1";
constexpr char kNextSeq[] =
    "INSERT INTO index_sequences (year, last_seq) VALUES ($1, 1) "
    "ON CONFLICT (year) DO UPDATE SET last_seq = index_sequences.last_seq + 1 RETURNING last_seq";
constexpr char kInsertRecord[] =
    "INSERT INTO records (index_no, year, seq, category, status, source_service, source_id, uscc, "
    "certificate_no, decision_date, publication_due_date, publish_date, publication_end_date, "
    "withdrawal_due_date, removed_date, search_text, masked, original) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULLIF($10,'')::date, NULLIF($11,'')::date, "
    "NULLIF($12,'')::date, NULLIF($13,'')::date, NULLIF($14,'')::date, NULLIF($15,'')::date, $16, "
    "$17::jsonb, $18::jsonb) "
    "ON CONFLICT (source_service, source_id, category) DO NOTHING RETURNING version";
constexpr char kUpdateRecord[] =
    "UPDATE records SET status = $2, uscc = $3, certificate_no = $4, "
    "decision_date = NULLIF($5,'')::date, publication_due_date = NULLIF($6,'')::date, "
    "publish_date = NULLIF($7,'')::date, publication_end_date = NULLIF($8,'')::date, "
    "withdrawal_due_date = NULLIF($9,'')::date, removed_date = NULLIF($10,'')::date, "
    "search_text = $11, masked = $12::jsonb, original = $13::jsonb, version = version + 1, "
    "updated_at = now() WHERE index_no = $1 RETURNING version";
constexpr char kSelectMasked[] = "SELECT masked::text, version FROM records WHERE index_no = $1";
constexpr char kSelectOriginalForUpdate[] =
    "SELECT original::text, version FROM records WHERE index_no = $1 FOR UPDATE";
// Search. Every query applies the same filters: $1 status, $2 category (0 = any), $3 uscc
// ('' = any), $4/$5 publish-date range ('' = open), $6/$7 the page cursor (year, seq; 0 =
// first page). Results come newest first: (year DESC, seq DESC), the order of
// records_by_status_order.
#define RS_SEARCH_FILTERS                                                              \
  "status = $1 AND ($2 = 0 OR category = $2) AND ($3 = '' OR uscc = $3) "              \
  "AND (NULLIF($4,'')::date IS NULL OR publish_date >= NULLIF($4,'')::date) "          \
  "AND (NULLIF($5,'')::date IS NULL OR publish_date <= NULLIF($5,'')::date) "          \
  "AND ($6 = 0 OR (year, seq) < ($6, $7)) "
#define RS_SEARCH_ORDER "ORDER BY year DESC, seq DESC "
#define RS_SEARCH_COLUMNS "SELECT masked::text, version, year, seq FROM "
// Counting stops here; above it total_size is a lower bound (total_size_capped).
constexpr int kSearchCountCap = 10000;
// No text: $8 page size + 1; $8 the count cap + 1.
constexpr char kSearchAll[] =
    RS_SEARCH_COLUMNS "records WHERE " RS_SEARCH_FILTERS RS_SEARCH_ORDER "LIMIT $8";
constexpr char kCountAll[] =
    "SELECT count(*) FROM (SELECT 1 FROM records WHERE " RS_SEARCH_FILTERS "LIMIT $8) AS c";
// The window: the newest $9 filtered records, of which those matching $8 (an ILIKE pattern).
constexpr char kWindowCounts[] =
    "SELECT count(*), count(*) FILTER (WHERE search_text ILIKE $8) FROM (SELECT search_text "
    "FROM records WHERE " RS_SEARCH_FILTERS RS_SEARCH_ORDER "LIMIT $9) AS w";
constexpr char kWindowPage[] =
    RS_SEARCH_COLUMNS "(SELECT masked, version, year, seq, search_text FROM records WHERE "
    RS_SEARCH_FILTERS RS_SEARCH_ORDER "LIMIT $9) AS w WHERE search_text ILIKE $8 "
    RS_SEARCH_ORDER "LIMIT $10";
// The bigram index: the records holding every bigram of $9 (the query text) in the asked
// category, confirmed with the ILIKE pattern $8. MATERIALIZED keeps the planner on the index:
// it is only used when the window showed the text to be rare, where a scan in publication
// order is slowest. Without a category, one index condition per category, OR-ed.
std::string IndexedSearch(bool count) {
  std::string match = "search_bigrams @> search_bigrams($2, $9::text)";
  // $2 is 0 here: every category's bigrams.
  std::vector<std::string> any;
  for (int c = v1::RecordCategory_MIN + 1; c <= v1::RecordCategory_MAX; ++c) {
    any.push_back(absl::StrCat("search_bigrams @> search_bigrams(", c, ", $9::text)"));
  }
  return absl::StrCat(
      "WITH candidates AS MATERIALIZED (SELECT index_no FROM records WHERE CASE WHEN $2 = 0 "
      "THEN (", absl::StrJoin(any, " OR "), ") ELSE ", match, " END) ",
      count ? "SELECT count(*) FROM (SELECT 1 FROM " : RS_SEARCH_COLUMNS,
      "records JOIN candidates USING (index_no) WHERE " RS_SEARCH_FILTERS
      "AND search_text ILIKE $8 ",
      count ? "LIMIT $10) AS c" : RS_SEARCH_ORDER "LIMIT $10");
}
// A one-character query has no bigram: a scan in publication order.
constexpr char kScanPage[] = RS_SEARCH_COLUMNS "records WHERE " RS_SEARCH_FILTERS
    "AND search_text ILIKE $8 " RS_SEARCH_ORDER "LIMIT $9";
constexpr char kScanCount[] = "SELECT count(*) FROM (SELECT 1 FROM records WHERE "
    RS_SEARCH_FILTERS "AND search_text ILIKE $8 LIMIT $9) AS c";
#undef RS_SEARCH_FILTERS
#undef RS_SEARCH_ORDER
#undef RS_SEARCH_COLUMNS
constexpr char kSelectExpiring[] =
    "SELECT index_no FROM records WHERE status = 2 AND publication_end_date < $1::date "
    "ORDER BY publication_end_date, index_no LIMIT 200 FOR UPDATE SKIP LOCKED";
constexpr char kSelectPendingDue[] =
    "SELECT masked::text, version FROM records WHERE status = 1 "
    "AND publication_due_date <= $1::date ORDER BY publication_due_date, index_no LIMIT 1000";
constexpr char kInsertRefusal[] =
    "INSERT INTO publication_refusals (event_id, source_service, source_id, category, "
    "decision_date, rule) VALUES ($1, $2, $3, $4, NULLIF($5,'')::date, $6) "
    "ON CONFLICT (event_id) DO NOTHING";

std::string StatusName(v1::RecordStatus status) {
  std::string name = v1::RecordStatus_Name(status);
  constexpr absl::string_view kPrefix = "RECORD_STATUS_";
  return name.rfind(kPrefix.data(), 0) == 0 ? name.substr(kPrefix.size()) : name;
}

// UTF-8 characters in `text` (bytes that do not continue a multi-byte sequence).
size_t CodePointCount(absl::string_view text) {
  size_t count = 0;
  for (unsigned char c : text) count += (c & 0xC0) != 0x80;
  return count;
}

std::string EscapeLike(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

// Copies the category's structured fields to the common ones where those are empty.
void FillCommonFields(PublishedRecord& r) {
  auto fill = [](std::string* field, const std::string& value) {
    if (field->empty()) *field = value;
  };
  if (r.has_penalty()) {
    const auto& p = r.penalty();
    fill(r.mutable_decision_date(), p.decision_date());
    fill(r.mutable_uscc(), p.uscc());
    fill(r.mutable_subject_name(), p.party_name());
    fill(r.mutable_authority(), p.authority());
  } else if (r.has_licence()) {
    const auto& l = r.licence();
    fill(r.mutable_decision_date(), l.decision_date());
    fill(r.mutable_uscc(), l.uscc());
    fill(r.mutable_subject_name(), l.party_name());
    fill(r.mutable_authority(), l.authority());
  } else if (r.has_credit_listing()) {
    const auto& c = r.credit_listing();
    fill(r.mutable_decision_date(), c.effective_from());
    fill(r.mutable_uscc(), c.uscc());
    fill(r.mutable_subject_name(), c.subject_name());
    fill(r.mutable_authority(), c.authority());
  } else if (r.has_policy_document()) {
    fill(r.mutable_decision_date(), r.policy_document().issued_date());
  }
  if (!r.uscc().empty()) {
    auto uscc = common::Uscc::Parse(r.uscc());
    if (uscc.ok()) r.set_uscc(uscc->str());
  }
}

}  // namespace

absl::StatusOr<PublishedRecord> Publications::ReadMasked(const pqxx::row& row) {
  PublishedRecord record;
  if (absl::Status s = FromJson(row[0].c_str(), &record); !s.ok()) return s;
  record.set_etag(row[1].c_str());
  return record;
}

absl::StatusOr<std::optional<std::string>> Publications::FindBySource(pqxx::work& txn,
                                                                      const std::string& service,
                                                                      const std::string& source_id,
                                                                      v1::RecordCategory category) {
  pqxx::result r =
      common::ExecPrepared(txn, kSelectBySource, service, source_id, static_cast<int>(category));
  if (r.empty()) return std::optional<std::string>();
  return std::optional<std::string>(r[0][0].c_str());
}

absl::StatusOr<std::optional<std::string>> Publications::FindByCertificate(
    pqxx::work& txn, const std::string& certificate_no) {
  pqxx::result r = txn.exec_params(kSelectByCertificate, certificate_no);
  if (r.empty()) return std::optional<std::string>();
  return std::optional<std::string>(r[0][0].c_str());
}

absl::StatusOr<PublishedRecord> Publications::LoadOriginalForUpdate(pqxx::work& txn,
                                                                    const std::string& index_no) {
  pqxx::result r = txn.exec_params(kSelectOriginalForUpdate, index_no);
  if (r.empty()) return absl::NotFoundError(absl::StrCat("record '", index_no, "' not found"));
  PublishedRecord record;
  if (absl::Status s = FromJson(r[0][0].c_str(), &record); !s.ok()) return s;
  record.set_etag(r[0][1].c_str());
  return record;
}

absl::Status Publications::Announce(pqxx::work& txn, const PublishedRecord& masked) {
  events::v1::RecordPublished event;
  event.set_index_no(masked.index_no());
  event.set_category(static_cast<events::v1::RecordCategory>(masked.category()));
  event.set_title(masked.title());
  event.set_uscc(masked.uscc());
  event.set_subject_name(masked.subject_name());
  event.set_publish_date(masked.publish_date());
  event.set_publication_end_date(masked.publication_end_date());
  event.set_source_service(masked.source().service());
  event.set_source_id(masked.source().source_id());
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(masked, &json);
  (void)google::protobuf::util::JsonStringToMessage(json, event.mutable_record());
  auto id = common::EnqueueOutbox(
      txn, common::MakeEnvelopeEvent("disclosure", common::DeliverEventMethod("exchange"),
                                     "published_record", masked.index_no(),
                                     "disclosure.record_published", event, clock_.Now()));
  return id.status();
}

absl::Status Publications::AnnounceRemoval(pqxx::work& txn, const PublishedRecord& masked,
                                           events::v1::RecordRemoval removal) {
  events::v1::RecordWithdrawn event;
  event.set_index_no(masked.index_no());
  event.set_category(static_cast<events::v1::RecordCategory>(masked.category()));
  event.set_uscc(masked.uscc());
  event.set_source_service(masked.source().service());
  event.set_source_id(masked.source().source_id());
  event.set_removal(removal);
  event.set_reason(masked.withdrawal_reason());
  event.set_removed_date(masked.removed_date());
  auto id = common::EnqueueOutbox(
      txn, common::MakeEnvelopeEvent("disclosure", common::DeliverEventMethod("exchange"),
                                     "published_record", masked.index_no(),
                                     "disclosure.record_withdrawn", event, clock_.Now()));
  return id.status();
}

absl::StatusOr<PublishedRecord> Publications::Save(pqxx::work& txn, PublishedRecord original,
                                                   bool announce) {
  original.clear_etag();
  *original.mutable_update_time() = ToTimestamp(clock_.Now());
  PublishedRecord masked = MaskRecord(original);
  std::string certificate = original.has_licence() ? original.licence().certificate_no() : "";
  pqxx::result r = common::ExecPrepared(
      txn, kUpdateRecord, original.index_no(), static_cast<int>(original.status()), original.uscc(),
      certificate, original.decision_date(), original.publication_due_date(),
      original.publish_date(), original.publication_end_date(), original.withdrawal_due_date(),
      original.removed_date(), SearchableText(masked), ToJson(masked), ToJson(original));
  if (r.empty())
    return absl::NotFoundError(absl::StrCat("record '", original.index_no(), "' not found"));
  masked.set_etag(r[0][0].c_str());
  if (announce && masked.status() == v1::RECORD_STATUS_PUBLISHED) {
    if (absl::Status s = Announce(txn, masked); !s.ok()) return s;
  }
  return masked;
}

absl::StatusOr<PublishedRecord> Publications::Publish(const v1::PublishRecordRequest& request) {
  return pg_.Transact([&](pqxx::work& txn) { return PublishInTxn(txn, request); });
}

absl::StatusOr<PublishedRecord> Publications::PublishInTxn(
    pqxx::work& txn, const v1::PublishRecordRequest& request) {
  PublishedRecord record = request.record();
  if (absl::Status s = ValidateRecordInput(record); !s.ok()) return s;
  if (record.has_penalty()) {
    if (absl::Status s = CheckPenaltyPublishable(record.penalty()); !s.ok()) return s;
  }
  // Fields the service sets.
  record.clear_index_no();
  record.clear_status();
  record.clear_review();
  record.clear_publication_due_date();
  record.clear_publish_date();
  record.clear_withdrawal_reason();
  record.clear_withdrawn_at();
  record.clear_withdrawal_due_date();
  record.clear_withdrawn_late();
  record.clear_removed_date();
  record.clear_etag();
  FillCommonFields(record);
  auto* source = record.mutable_source();
  if (source->service().empty()) source->set_service("manual");
  if (source->source_id().empty()) {
    if (source->service() != "manual") {
      return FieldError("record.source.source_id", "is required for a record from a service");
    }
    source->set_source_id(common::NewUuid());
  }
  // Idempotent by source: the same source is one record.
  auto existing = FindBySource(txn, source->service(), source->source_id(), record.category());
  if (!existing.ok()) return existing.status();
  if (existing->has_value()) {
    pqxx::result r = txn.exec_params(kSelectMasked, **existing);
    return ReadMasked(r[0]);
  }

  const absl::CivilDay today = clock_.Today();
  absl::CivilDay decision_date = today;
  if (!record.decision_date().empty()) decision_date = *ParseDate(record.decision_date());
  if (decision_date > today) {
    return FieldError("record.decision_date", "must not be in the future");
  }
  record.set_decision_date(FormatDate(decision_date));
  auto due = PublicationDueDate(settings_, *calendar_, record.category(), decision_date);
  if (!due.ok()) return due.status();
  record.set_publication_due_date(FormatDate(*due));

  if (record.category() == v1::RECORD_CATEGORY_PENALTY_DECISION) {
    auto end = PenaltyPublicationEndDate(settings_, decision_date, record.penalty().severity());
    if (!end.ok()) return end.status();
    record.set_publication_end_date(FormatDate(*end));
    record.mutable_penalty()->set_publication_end_date(FormatDate(*end));
  } else if (record.category() == v1::RECORD_CATEGORY_CREDIT_LISTING &&
             !record.credit_listing().effective_until().empty()) {
    record.set_publication_end_date(record.credit_listing().effective_until());
  } else if (!record.publication_end_date().empty()) {
    if (!ParseDate(record.publication_end_date()).ok()) {
      return FieldError("record.publication_end_date", "is not a YYYY-MM-DD date");
    }
  }
  if (!record.publication_end_date().empty() && *ParseDate(record.publication_end_date()) < today) {
    return absl::FailedPreconditionError(
        absl::StrCat("record.publication_end_date: the publication period ended on ",
                     record.publication_end_date(), "; nothing to publish"));
  }

  // Confidentiality review (保密审查): automatic for categories not configured for manual review.
  const absl::Time now = clock_.Now();
  auto* review = record.mutable_review();
  if (request.has_review() && !request.review().reviewer().empty()) {
    *review = request.review();
    *review->mutable_reviewed_at() = ToTimestamp(now);
    record.set_status(review->passed() ? v1::RECORD_STATUS_PUBLISHED : v1::RECORD_STATUS_REJECTED);
  } else if (settings_.review_categories.contains(record.category())) {
    record.clear_review();
    record.set_status(v1::RECORD_STATUS_PENDING_REVIEW);
  } else {
    review->set_passed(true);
    review->set_reviewer("automatic");
    review->set_note("desensitised automatically (ID, phone, bank card, e-mail, natural persons)");
    *review->mutable_reviewed_at() = ToTimestamp(now);
    record.set_status(v1::RECORD_STATUS_PUBLISHED);
  }
  if (record.status() == v1::RECORD_STATUS_PUBLISHED) record.set_publish_date(FormatDate(today));

  const int year = static_cast<int>(today.year());
  pqxx::result seq_row = common::ExecPrepared(txn, kNextSeq, year);
  const int64_t seq = seq_row[0][0].as<int64_t>();
  record.set_index_no(FormatIndexNo(settings_.agency_code, year, seq));
  *record.mutable_create_time() = ToTimestamp(now);
  *record.mutable_update_time() = ToTimestamp(now);

  PublishedRecord masked = MaskRecord(record);
  std::string certificate = record.has_licence() ? record.licence().certificate_no() : "";
  pqxx::result inserted = common::ExecPrepared(
      txn, kInsertRecord, record.index_no(), year, seq, static_cast<int>(record.category()),
      static_cast<int>(record.status()), source->service(), source->source_id(), record.uscc(),
      certificate, record.decision_date(), record.publication_due_date(), record.publish_date(),
      record.publication_end_date(), std::string(), std::string(), SearchableText(masked),
      ToJson(masked), ToJson(record));
  if (inserted.empty()) {
    return absl::AbortedError("record: the same source is being published concurrently; retry");
  }
  masked.set_etag(inserted[0][0].c_str());
  if (masked.status() == v1::RECORD_STATUS_PUBLISHED) {
    if (absl::Status s = Announce(txn, masked); !s.ok()) return s;
  }
  return masked;
}

absl::StatusOr<PublishedRecord> Publications::Get(const std::string& index_no) {
  if (index_no.empty()) return FieldError("index_no", "is required");
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<PublishedRecord> {
    pqxx::result r = txn.exec_params(kSelectMasked, index_no);
    if (r.empty()) return absl::NotFoundError(absl::StrCat("record '", index_no, "' not found"));
    return ReadMasked(r[0]);
  });
}

absl::StatusOr<v1::SearchRecordsResponse> Publications::Search(
    const v1::SearchRecordsRequest& request) {
  if (!v1::RecordCategory_IsValid(request.category())) {
    return FieldError("category", "must be a RECORD_CATEGORY_ value");
  }
  v1::RecordStatus status = request.status() == v1::RECORD_STATUS_UNSPECIFIED
                                ? v1::RECORD_STATUS_PUBLISHED
                                : request.status();
  if (!v1::RecordStatus_IsValid(status))
    return FieldError("status", "must be a RECORD_STATUS_ value");
  for (auto [field, value] :
       {std::pair{"from_date", &request.from_date()}, std::pair{"to_date", &request.to_date()}}) {
    if (!value->empty() && !ParseDate(*value).ok()) {
      return FieldError(field, "is not a YYYY-MM-DD date");
    }
  }
  std::string uscc = request.uscc();
  if (!uscc.empty()) {
    auto parsed = common::Uscc::Parse(uscc);
    if (!parsed.ok()) return FieldError("uscc", "is not a valid unified social credit code");
    uscc = parsed->str();
  }
  if (request.page_size() < 0) return FieldError("page_size", "must not be negative");
  int page_size = request.page_size() == 0 ? 20 : std::min(request.page_size(), 100);
  int after_year = 0;
  int after_seq = 0;
  if (!request.page_token().empty()) {
    std::pair<std::string, std::string> parts = absl::StrSplit(request.page_token(), '.');
    if (!absl::SimpleAtoi(parts.first, &after_year) ||
        !absl::SimpleAtoi(parts.second, &after_seq) || after_year <= 0) {
      return FieldError("page_token", "is not a token this service issued");
    }
  }
  std::string query(absl::StripAsciiWhitespace(request.query()));
  const std::string pattern = query.empty() ? "" : absl::StrCat("%", EscapeLike(query), "%");
  const int category = static_cast<int>(request.category());
  const bool one_character = CodePointCount(query) == 1;
  const int window = settings_.search_window;
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::SearchRecordsResponse> {
    // Runs a search statement: the filters, from the page cursor (`paged`) or from the start
    // (the total counts every match, whichever page is asked), then `more` parameters.
    auto run = [&](bool paged, const std::string& sql, const auto&... more) {
      return txn.exec_params(sql, static_cast<int>(status), category, uscc, request.from_date(),
                             request.to_date(), paged ? after_year : 0, paged ? after_seq : 0,
                             more...);
    };
    static const std::string kIndexedPage = IndexedSearch(/*count=*/false);
    static const std::string kIndexedCount = IndexedSearch(/*count=*/true);
    // The records holding the text, found through the bigram index (a scan in publication
    // order for one character, which has no bigram).
    auto rare_page = [&] {
      return one_character ? run(true, kScanPage, pattern, page_size + 1)
                           : run(true, kIndexedPage, pattern, query, page_size + 1);
    };
    auto rare_count = [&] {
      return one_character ? run(false, kScanCount, pattern, kSearchCountCap + 1)
                           : run(false, kIndexedCount, pattern, query, kSearchCountCap + 1);
    };
    pqxx::result page;
    int64_t total = 0;
    bool capped = false;
    auto count_capped = [&](const pqxx::result& count) {
      total = count[0][0].as<int64_t>();
      capped = total > kSearchCountCap;
      total = std::min<int64_t>(total, kSearchCountCap);
    };
    if (query.empty()) {
      page = run(true, kSearchAll, page_size + 1);
      count_capped(run(false, kCountAll, kSearchCountCap + 1));
    } else {
      // Text search picks its path by how common the text is among the newest `window`
      // filtered records. Common (more than a page there) or all records fit the window: the
      // page is read from the window in publication order, and the total is the window's
      // count (a lower bound when the window was full). Rare: the bigram index finds the few
      // records holding it, where a scan in publication order would read the whole table.
      pqxx::result stats = run(false, kWindowCounts, pattern, window);
      const int64_t scanned = stats[0][0].as<int64_t>();
      const int64_t hits = stats[0][1].as<int64_t>();
      if (scanned < window || hits > page_size) {
        total = hits;
        capped = scanned == window;
        page = run(true, kWindowPage, pattern, window, page_size + 1);
        // A later page whose window, counted from the cursor, is full but short of a page:
        // the text thins out further back; the index serves the rest.
        if (after_year != 0 && static_cast<int>(page.size()) <= page_size &&
            run(true, kCountAll, window)[0][0].as<int64_t>() == window) {
          page = rare_page();
        }
      } else {
        page = rare_page();
        count_capped(rare_count());
      }
    }
    v1::SearchRecordsResponse response;
    for (size_t i = 0; i < page.size() && static_cast<int>(i) < page_size; ++i) {
      auto record = ReadMasked(page[i]);
      if (!record.ok()) return record.status();
      *response.add_records() = *std::move(record);
    }
    if (static_cast<int>(page.size()) > page_size) {
      const auto& last = page[page_size - 1];
      response.set_next_page_token(absl::StrCat(last[2].c_str(), ".", last[3].c_str()));
    }
    response.set_total_size(static_cast<int32_t>(total));
    response.set_total_size_capped(capped);
    return response;
  });
}

absl::StatusOr<PublishedRecord> Publications::Review(const v1::ReviewRecordRequest& request) {
  if (request.index_no().empty()) return FieldError("index_no", "is required");
  if (request.reviewer().empty()) return FieldError("reviewer", "is required");
  if (!request.passed() && request.note().empty()) {
    return FieldError("note", "a rejection needs its reason");
  }
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<PublishedRecord> {
    auto record = LoadOriginalForUpdate(txn, request.index_no());
    if (!record.ok()) return record.status();
    if (!request.etag().empty() && request.etag() != record->etag()) {
      return absl::AbortedError("etag: the record changed since it was read");
    }
    if (record->status() != v1::RECORD_STATUS_PENDING_REVIEW) {
      return common::StateError("record", StatusName(record->status()), "review");
    }
    auto* review = record->mutable_review();
    review->set_passed(request.passed());
    review->set_reviewer(request.reviewer());
    review->set_note(request.note());
    *review->mutable_reviewed_at() = ToTimestamp(clock_.Now());
    if (request.passed()) {
      if (!record->publication_end_date().empty() &&
          *ParseDate(record->publication_end_date()) < clock_.Today()) {
        return absl::FailedPreconditionError(
            "record.publication_end_date: the publication period is already over");
      }
      record->set_status(v1::RECORD_STATUS_PUBLISHED);
      record->set_publish_date(FormatDate(clock_.Today()));
    } else {
      record->set_status(v1::RECORD_STATUS_REJECTED);
    }
    return Save(txn, *std::move(record), /*announce=*/true);
  });
}

absl::StatusOr<PublishedRecord> Publications::Withdraw(const v1::WithdrawRecordRequest& request) {
  return pg_.Transact([&](pqxx::work& txn) {
    return WithdrawInTxn(txn, request, events::v1::RECORD_REMOVAL_WITHDRAWN);
  });
}

absl::StatusOr<PublishedRecord> Publications::WithdrawInTxn(
    pqxx::work& txn, const v1::WithdrawRecordRequest& request, events::v1::RecordRemoval removal) {
  if (request.index_no().empty()) return FieldError("index_no", "is required");
  if (absl::StripAsciiWhitespace(request.reason()).empty()) {
    return FieldError("reason", "is required: it is shown with the withdrawn record");
  }
  const absl::CivilDay today = clock_.Today();
  absl::CivilDay changed = today;
  if (!request.decision_changed_date().empty()) {
    auto parsed = ParseDate(request.decision_changed_date());
    if (!parsed.ok()) return FieldError("decision_changed_date", "is not a YYYY-MM-DD date");
    if (*parsed > today) return FieldError("decision_changed_date", "must not be in the future");
    changed = *parsed;
  }
  auto record = LoadOriginalForUpdate(txn, request.index_no());
  if (!record.ok()) return record.status();
  if (!request.etag().empty() && request.etag() != record->etag()) {
    return absl::AbortedError("etag: the record changed since it was read");
  }
  if (record->status() != v1::RECORD_STATUS_PUBLISHED &&
      record->status() != v1::RECORD_STATUS_PENDING_REVIEW) {
    return common::StateError("record", StatusName(record->status()), "withdraw");
  }
  auto due = calendar_->AddWorkingDays(changed, settings_.withdrawal_wd);
  if (!due.ok()) return due.status();
  const bool was_published = record->status() == v1::RECORD_STATUS_PUBLISHED;
  record->set_status(v1::RECORD_STATUS_WITHDRAWN);
  record->set_withdrawal_reason(
      request.withdrawn_by().empty()
          ? request.reason()
          : absl::StrCat(request.reason(), "（", request.withdrawn_by(), "）"));
  *record->mutable_withdrawn_at() = ToTimestamp(clock_.Now());
  record->set_withdrawal_due_date(FormatDate(*due));
  record->set_withdrawn_late(today > *due);
  record->set_removed_date(FormatDate(today));
  auto masked = Save(txn, *std::move(record), /*announce=*/false);
  if (!masked.ok()) return masked.status();
  if (was_published) {
    if (absl::Status s = AnnounceRemoval(txn, *masked, removal); !s.ok()) return s;
  }
  return masked;
}

absl::Status Publications::ExpireInTxn(pqxx::work& txn, const std::string& index_no,
                                       absl::CivilDay as_of) {
  auto record = LoadOriginalForUpdate(txn, index_no);
  if (!record.ok()) return record.status();
  if (record->status() != v1::RECORD_STATUS_PUBLISHED) return absl::OkStatus();
  record->set_status(v1::RECORD_STATUS_EXPIRED);
  record->set_removed_date(FormatDate(as_of));
  auto masked = Save(txn, *std::move(record), /*announce=*/false);
  if (!masked.ok()) return masked.status();
  return AnnounceRemoval(txn, *masked, events::v1::RECORD_REMOVAL_EXPIRED);
}

absl::StatusOr<std::vector<std::string>> Publications::Expire(absl::CivilDay as_of) {
  std::vector<std::string> expired;
  while (true) {
    auto batch = pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<std::string>> {
      std::vector<std::string> ids;
      pqxx::result rows = txn.exec_params(kSelectExpiring, FormatDate(as_of));
      for (const auto& row : rows) {
        std::string index_no = row[0].c_str();
        if (absl::Status s = ExpireInTxn(txn, index_no, as_of); !s.ok()) return s;
        ids.push_back(std::move(index_no));
      }
      return ids;
    });
    if (!batch.ok()) return batch.status();
    if (batch->empty()) break;
    expired.insert(expired.end(), batch->begin(), batch->end());
  }
  return expired;
}

absl::StatusOr<std::vector<PublishedRecord>> Publications::PendingDueBy(absl::CivilDay cutoff) {
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<std::vector<PublishedRecord>> {
    std::vector<PublishedRecord> out;
    for (const auto& row : txn.exec_params(kSelectPendingDue, FormatDate(cutoff))) {
      auto record = ReadMasked(row);
      if (!record.ok()) return record.status();
      out.push_back(*std::move(record));
    }
    return out;
  });
}

absl::Status Publications::RecordRefusal(pqxx::work& txn, const std::string& event_id,
                                         const std::string& service, const std::string& source_id,
                                         v1::RecordCategory category,
                                         const std::string& decision_date, absl::string_view rule) {
  std::string date = ParseDate(decision_date).ok() ? decision_date : "";
  txn.exec_params(kInsertRefusal, event_id, service, source_id, static_cast<int>(category), date,
                  std::string(rule));
  return absl::OkStatus();
}

}  // namespace regsuite::disclosure
