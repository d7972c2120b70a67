#include "annual_reports.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "annual_report.h"
#include "proto_json.h"
#include "regsuite/common/dates.h"
#include "regsuite/common/status.h"

namespace regsuite::disclosure {
namespace {

using common::FormatDate;
using common::ParseDate;

// Requests that matter for `year`: received by its end and not answered before its start.
constexpr char kRequestFacts[] =
    "SELECT applicant_type, received_date::text, COALESCE(replied_date::text, ''), reply_type, "
    "reply_reason FROM info_requests WHERE received_date <= $2::date "
    "AND (replied_date IS NULL OR replied_date >= $1::date)";
constexpr char kRequestFees[] =
    "SELECT COALESCE(sum(fee_fen), 0) FROM info_requests "
    "WHERE received_date BETWEEN $1::date AND $2::date";
constexpr char kDocumentFacts[] =
    "SELECT original->'policy_document'->>'kind', original->'policy_document'->>'issued_date', "
    "COALESCE(original->'policy_document'->>'repealed_date', '') FROM records "
    "WHERE category = 7 AND status IN (2, 3, 4) AND decision_date <= $1::date";
// Decisions made in the year: published (or withdrawn/expired since) plus refused ones
// (warnings alone, simple procedure, minors are decisions too, just not published).
constexpr char kDecisionCounts[] =
    "SELECT category, count(*) FROM ("
    "  SELECT category FROM records WHERE category IN (1, 2) AND status <> 5 "
    "    AND decision_date BETWEEN $1::date AND $2::date "
    "  UNION ALL SELECT category FROM publication_refusals WHERE category IN (1, 2) "
    "    AND decision_date BETWEEN $1::date AND $2::date) d GROUP BY category";
constexpr char kAppeals[] =
    "SELECT appeal_id, info_request_id, kind, outcome, filed_date::text, "
    "COALESCE(concluded_date::text, ''), note FROM appeals "
    "WHERE filed_date BETWEEN $1::date AND $2::date";
constexpr char kSelectNotes[] =
    "SELECT agency_name, overview, problems_and_improvements, other_matters "
    "FROM annual_report_notes WHERE year = $1";
constexpr char kUpsertNotes[] =
    "INSERT INTO annual_report_notes (year, agency_name, overview, problems_and_improvements, "
    "other_matters) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (year) DO UPDATE SET "
    "agency_name = EXCLUDED.agency_name, overview = EXCLUDED.overview, "
    "problems_and_improvements = EXCLUDED.problems_and_improvements, "
    "other_matters = EXCLUDED.other_matters, updated_at = now()";

}  // namespace

absl::StatusOr<v1::AnnualReport> AnnualReports::Get(int year) {
  if (year < 2008 || year > 9998) return common::FieldError("year", "must be 2008 or later");
  const std::string first = FormatDate(absl::CivilDay(year, 1, 1));
  const std::string last = FormatDate(absl::CivilDay(year, 12, 31));
  return pg_.Transact([&](pqxx::work& txn) -> absl::StatusOr<v1::AnnualReport> {
    v1::AnnualReport report;
    report.set_year(year);
    report.set_agency_name(settings_.agency_name);
    pqxx::result notes = txn.exec_params(kSelectNotes, year);
    if (!notes.empty()) {
      if (!std::string(notes[0][0].c_str()).empty()) report.set_agency_name(notes[0][0].c_str());
      report.set_overview(notes[0][1].c_str());
      report.set_problems_and_improvements(notes[0][2].c_str());
      report.set_other_matters(notes[0][3].c_str());
    }
    // 二
    std::vector<DocumentFact> documents;
    for (const auto& row : txn.exec_params(kDocumentFacts, last)) {
      DocumentFact d;
      v1::DocumentKind kind = v1::DOCUMENT_KIND_OTHER;
      if (!row[0].is_null()) v1::DocumentKind_Parse(row[0].c_str(), &kind);
      d.kind = kind;
      auto issued = ParseDate(row[1].is_null() ? "" : row[1].c_str());
      if (!issued.ok()) continue;
      d.issued = *issued;
      auto repealed = ParseDate(row[2].c_str());
      if (repealed.ok()) d.repealed = *repealed;
      documents.push_back(d);
    }
    auto* proactive = report.mutable_proactive_disclosure();
    *proactive->mutable_rules() = CountDocuments(documents, v1::DOCUMENT_KIND_RULE, year);
    *proactive->mutable_normative_documents() =
        CountDocuments(documents, v1::DOCUMENT_KIND_NORMATIVE_DOCUMENT, year);
    for (const auto& row : txn.exec_params(kDecisionCounts, first, last)) {
      int category = row[0].as<int>();
      int64_t n = row[1].as<int64_t>();
      if (category == v1::RECORD_CATEGORY_LICENSING_DECISION) proactive->set_licensing_decisions(n);
      if (category == v1::RECORD_CATEGORY_PENALTY_DECISION) proactive->set_penalty_decisions(n);
    }
    // 三
    std::vector<RequestFact> facts;
    for (const auto& row : txn.exec_params(kRequestFacts, first, last)) {
      RequestFact f;
      f.applicant_type = static_cast<v1::ApplicantType>(row[0].as<int>());
      f.received = *ParseDate(row[1].c_str());
      auto replied = ParseDate(row[2].c_str());
      if (replied.ok()) f.replied = *replied;
      f.reply_type = static_cast<v1::ReplyType>(row[3].as<int>());
      f.reason = row[4].as<int>();
      facts.push_back(f);
    }
    *report.mutable_requests() = BuildRequestSection(facts, year);
    report.set_request_fees_fen(txn.exec_params(kRequestFees, first, last)[0][0].as<int64_t>());
    // 四
    std::vector<v1::Appeal> appeals;
    for (const auto& row : txn.exec_params(kAppeals, first, last)) {
      v1::Appeal a;
      a.set_appeal_id(row[0].c_str());
      a.set_info_request_id(row[1].c_str());
      a.set_kind(static_cast<v1::AppealKind>(row[2].as<int>()));
      a.set_outcome(static_cast<v1::AppealOutcome>(row[3].as<int>()));
      a.set_filed_date(row[4].c_str());
      a.set_concluded_date(row[5].c_str());
      a.set_note(row[6].c_str());
      appeals.push_back(std::move(a));
    }
    *report.mutable_appeals() = BuildAppealSection(appeals, year);
    report.set_due_date(FormatDate(absl::CivilDay(year + 1, 1, 31)));
    *report.mutable_generated_at() = ToTimestamp(clock_.Now());
    report.set_rendered_markdown(RenderAnnualReportMarkdown(report));
    return report;
  });
}

absl::StatusOr<v1::AnnualReport> AnnualReports::UpdateNotes(
    const v1::UpdateAnnualReportNotesRequest& request) {
  if (request.year() < 2008 || request.year() > 9998) {
    return common::FieldError("year", "must be 2008 or later");
  }
  auto status = pg_.Transact([&](pqxx::work& txn) -> absl::Status {
    txn.exec_params(kUpsertNotes, request.year(), request.agency_name(), request.overview(),
                    request.problems_and_improvements(), request.other_matters());
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return Get(request.year());
}

}  // namespace regsuite::disclosure
